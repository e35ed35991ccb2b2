/** The People panel: who is on the map, following one of them, and the "Following …" banner. */
import type { PeerInfo } from "../../relay/protocol.ts";
import { byId, h, KeyedList, type ListItem } from "./dom.ts";
import L from "./leaflet.ts";
import { bboxBounds, type PresenceLayers } from "./presence_layers.ts";
import type { Session } from "./session.ts";

/** Keys that move the map, so pressing one stops following. */
const MOVE_KEYS = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "+", "-", "="];

/**
 * Lists this person and the peers (sorted by name), with Follow and Jump buttons. Following keeps
 * the map on a peer's view until the user moves the map themselves or presses Esc.
 */
export class PeopleList {
  #map: L.Map;
  #session: Session;
  #presence: PresenceLayers;
  #list = byId("peers", HTMLUListElement);
  #shown = new KeyedList(this.#list);
  #count = byId("peer-count", HTMLElement);
  #banner = byId("follow-banner", HTMLElement);
  #following: string | null = null;
  #zoomButtons: Element[] = [];
  #stop = () => {
    if (this.#following !== null) this.follow(null);
  };
  #key = (e: KeyboardEvent) => {
    if (MOVE_KEYS.includes(e.key)) this.#stop();
  };

  constructor(options: { map: L.Map; session: Session; presence: PresenceLayers }) {
    this.#map = options.map;
    this.#session = options.session;
    this.#presence = options.presence;
  }

  /** The peer being followed. */
  get following(): string | null {
    return this.#following;
  }

  /** Follows a peer (or stops following, with `null`). */
  follow(peer: string | null): void {
    this.#following = peer;
    const p = peer === null ? undefined : this.#session.peers.get(peer);
    this.#banner.hidden = !p;
    if (p) {
      this.#banner.replaceChildren(
        h("span", { class: "dot", style: `background:${p.color}` }),
        `Following ${p.name}. Pan the map or press Esc to stop.`,
        h("button", { type: "button", onclick: () => this.follow(null) }, "Stop"),
      );
      this.#jump(p);
    }
    this.render();
  }

  /** A peer's presence changed: its layers, and the map when it is the one followed. */
  presence(peer: PeerInfo, what: "view" | "cursor" | "profile"): void {
    this.#presence.update(peer);
    if (what === "view" && this.#following === peer.peer) this.#jump(peer);
    if (what === "view") this.render();
    // The follow banner names the peer: a new name or colour redraws it.
    if (what === "profile" && this.#following === peer.peer) this.follow(peer.peer);
  }

  /** Redraws the list from the session (and drops the layers of peers who left). */
  render(): void {
    const session = this.#session;
    const you = session.you;
    this.#presence.retain(new Set(session.peers.keys()));
    if (this.#following !== null && !session.peers.has(this.#following)) this.follow(null);
    const items: ListItem[] = [];
    if (you) {
      items.push({
        looks: JSON.stringify(["me", you.peer, you.name, you.color, you.role]),
        make: () =>
          h(
            "li",
            { class: "peer me", "data-peer": you.peer },
            h("span", { class: "dot", style: `background:${you.color}` }),
            h("span", { class: "peer-name" }, you.name),
            h("span", { class: "role" }, you.role === "editor" ? "editor" : "viewer"),
            h("span", { class: "you" }, "you"),
          ),
      });
    }
    const peers = [...session.peers.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const p of peers) {
      // Views come many times a second while people pan: only a change it shows redraws an item
      // (a Follow pressed meanwhile must not lose its click).
      const looks = [p.peer, p.name, p.color, p.role, this.#following === p.peer, !p.view];
      items.push({ looks: JSON.stringify(looks), make: () => this.#item(p) });
    }
    this.#shown.render(items);
    this.#count.textContent = String(items.length);
  }

  /** Stops following when the user moves the map: drag, wheel, arrow keys, zoom buttons. */
  onAdd(): this {
    const container = this.#map.getContainer();
    this.#map.on("dragstart", this.#stop);
    container.addEventListener("wheel", this.#stop, { passive: true });
    container.addEventListener("keydown", this.#key);
    this.#zoomButtons = [...document.querySelectorAll(".leaflet-control-zoom a")];
    for (const b of this.#zoomButtons) b.addEventListener("click", this.#stop);
    return this;
  }

  /** Removes what {@link onAdd} added. */
  onRemove(): void {
    const container = this.#map.getContainer();
    this.#map.off("dragstart", this.#stop);
    container.removeEventListener("wheel", this.#stop);
    container.removeEventListener("keydown", this.#key);
    for (const b of this.#zoomButtons) b.removeEventListener("click", this.#stop);
    this.#zoomButtons = [];
  }

  #item(p: PeerInfo): HTMLElement {
    const followed = this.#following === p.peer;
    return h(
      "li",
      { class: `peer${followed ? " followed" : ""}`, "data-peer": p.peer },
      h("span", { class: "dot", style: `background:${p.color}` }),
      h("span", { class: "peer-name" }, p.name),
      h("span", { class: "role" }, p.role),
      h(
        "span",
        { class: "peer-actions" },
        h("button", {
          type: "button",
          class: "follow",
          "aria-pressed": followed ? "true" : "false",
          disabled: !p.view,
          "aria-label": `${followed ? "Stop following" : "Follow"} ${p.name}`,
          onclick: () => this.follow(followed ? null : p.peer),
        }, followed ? "Following" : "Follow"),
        h("button", {
          type: "button",
          class: "jump",
          disabled: !p.view,
          "aria-label": `Jump to ${p.name}`,
          onclick: () => {
            this.follow(null);
            // The element outlives views that did not change it: jump to the view as it is now.
            this.#jump(this.#session.peers.get(p.peer) ?? p);
          },
        }, "Jump"),
      ),
    );
  }

  /** Goes to a peer's view: of the world copies of its box, the one nearest to this map's. */
  #jump(peer: PeerInfo): void {
    if (!peer.view) return;
    const map = this.#map;
    const bounds = bboxBounds(peer.view.bbox);
    const shift = Math.round((map.getCenter().lng - bounds.getCenter().lng) / 360) * 360;
    map.fitBounds(
      L.latLngBounds(
        [bounds.getSouth(), bounds.getWest() + shift],
        [bounds.getNorth(), bounds.getEast() + shift],
      ),
      { animate: false },
    );
  }
}
