/** Comment pins on the map (not features: a layer of their own) and the open thread's popup. */
import L from "./leaflet.ts";
import type { Comment } from "../../relay/protocol.ts";
import type { CommentsState } from "./comments_state.ts";
import { type ThreadActions, ThreadPopup } from "./comments_thread.ts";

/** Options for {@link CommentPins}. */
export interface CommentPinsOptions {
  /** The comments. */
  state: CommentsState;
  /** Where a thread's pin goes now (a feature-anchored one follows its feature); null: nowhere. */
  position(root: Comment): L.LatLng | null;
  /** The name of the feature a thread is on, if any. */
  title(root: Comment): string | null;
  /** What a thread's buttons do. */
  actions(thread: string): ThreadActions;
  /** The clock for "5 min ago". */
  now(): number;
}

/**
 * One pin per open thread (and per resolved one while {@link CommentPins.showResolved} is on), in
 * the author's colour with the number of comments in it; clicking one opens its thread.
 */
export class CommentPins {
  #o: CommentPinsOptions;
  #map: L.Map | null = null;
  #layer = L.layerGroup([], { pmIgnore: true });
  #markers = new Map<string, L.Marker>();
  /** What each pin's icon shows (count and resolved), so an unchanged one is not rebuilt. */
  #icons = new Map<string, string>();
  #open: { id: string; view: ThreadPopup; popup: L.Popup } | null = null;
  #showResolved = false;

  /** Pins for `options.state`'s threads. */
  constructor(options: CommentPinsOptions) {
    this.#o = options;
  }

  /** Are resolved threads shown? */
  get showResolved(): boolean {
    return this.#showResolved;
  }

  set showResolved(show: boolean) {
    this.#showResolved = show;
    this.sync();
  }

  /** Adds the pins to `map`. */
  addTo(map: L.Map): this {
    this.#map = map;
    this.#layer.addTo(map);
    return this;
  }

  /** Removes the pins and the popup. */
  remove(): void {
    this.#map?.closePopup();
    this.#layer.remove();
    this.#map = null;
  }

  /** Puts every pin where it belongs now and refreshes the open thread. */
  sync(): void {
    const seen = new Set<string>();
    // Counted once for all pins: per pin, each thread's replies would be a pass over every comment.
    const replies = this.#o.state.replyCounts();
    for (const root of this.#o.state.roots()) {
      const at = root.resolved && !this.#showResolved ? null : this.#o.position(root);
      if (!at) continue;
      seen.add(root.id);
      this.#pin(root, at, (replies.get(root.id) ?? 0) + 1);
    }
    for (const [id, marker] of this.#markers) {
      if (seen.has(id)) continue;
      marker.remove();
      this.#markers.delete(id);
      this.#icons.delete(id);
    }
    const open = this.#open;
    if (!open) return;
    const thread = this.#o.state.thread(open.id);
    if (!thread) {
      // Deleted (here or by someone else): its popup goes with it.
      this.#map?.closePopup(open.popup);
      return;
    }
    open.view.render(thread, this.#o.now(), this.#o.state, this.#o.title(thread.root));
    const at = this.#o.position(thread.root);
    if (at) open.popup.setLatLng(at);
  }

  /** Opens the thread whose root is `id` (showing resolved threads if it is one). */
  open(id: string): void {
    const map = this.#map;
    const thread = this.#o.state.thread(id);
    if (!map || !thread) return;
    if (thread.root.resolved && !this.#showResolved) this.showResolved = true;
    const at = this.#o.position(thread.root);
    if (!at) return;
    const view = new ThreadPopup(this.#o.actions(id));
    view.render(thread, this.#o.now(), this.#o.state, this.#o.title(thread.root));
    const popup = L.popup({ className: "comment-popup", minWidth: 240, maxWidth: 320 })
      .setLatLng(at)
      .setContent(view.el);
    popup.on("remove", () => {
      if (this.#open?.popup === popup) this.#open = null;
    });
    this.#open = { id, view, popup };
    popup.openOn(map);
  }

  #pin(root: Comment, at: L.LatLng, count: number): void {
    const label = `${root.name}: ${root.text.slice(0, 80)}`;
    // A div icon of its own kind: it can never be mistaken for a feature's pin.
    const icon = () =>
      L.divIcon({
        className: `comment-pin${root.resolved ? " resolved" : ""}`,
        html: `<span>${count}</span>`,
        iconSize: [26, 26],
        iconAnchor: [3, 26],
      });
    // A new icon replaces the pin's element: only when what it shows changed.
    const shows = `${count}|${root.resolved === true}`;
    let marker = this.#markers.get(root.id);
    if (!marker) {
      marker = L.marker(at, { icon: icon(), pmIgnore: true, title: label, riseOnHover: true });
      marker.on("click", () => this.open(root.id));
      this.#markers.set(root.id, marker);
      this.#layer.addLayer(marker);
    } else {
      marker.setLatLng(at);
      if (this.#icons.get(root.id) !== shows) marker.setIcon(icon());
    }
    this.#icons.set(root.id, shows);
    const el = marker.getElement();
    if (el) {
      el.style.setProperty("--pin", root.color);
      el.dataset.thread = root.id;
      el.setAttribute("aria-label", `Comment by ${label}`);
      el.title = label;
    }
  }
}
