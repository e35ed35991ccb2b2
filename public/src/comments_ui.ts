/** The page's comments: the Comment tool, pins and threads, the owner's "viewers may comment" switch, the export. */
import { commentsGeoJson, representativePoint } from "../../relay/comments_geojson.ts";
import { titleOf } from "../../relay/history_words.ts";
import type { Comment, ServerMessage } from "../../relay/protocol.ts";
import { h, saveFile, toast } from "./dom.ts";
import { exportFileName } from "./import_export.ts";
import { randomId } from "./identity.ts";
import L from "./leaflet.ts";
import { CommentPins } from "./comments_layer.ts";
import { CommentsState } from "./comments_state.ts";
import { newCommentBox } from "./comments_thread.ts";
import type { Session } from "./session.ts";

/** How long a comment request may wait for its answer before the page gives up on it. */
const ANSWER_TIMEOUT_MS = 15_000;

/** Options for {@link CommentsUi}. */
export interface CommentsUiOptions {
  map: L.Map;
  session: Session;
  /** The map id, for the settings request. */
  mapId: string;
  /** The key this page has (an edit key may change the settings). */
  key: string;
}

/** What a comment request may ask (the relay's `comment` message without `type` and `ref`). */
type CommentBody =
  | { op: "add"; text: string; anchor: { at: [number, number] } | { fid: string } }
  | { op: "reply"; thread: string; text: string }
  | { op: "resolve"; thread: string; resolved: boolean }
  | { op: "edit"; id: string; text: string }
  | { op: "delete"; id: string };

/** What a refused request did not do, for its toast. */
const NOT_DONE: Record<CommentBody["op"], string> = {
  add: "Comment not posted",
  reply: "Reply not posted",
  resolve: "Thread not changed",
  edit: "Comment not changed",
  delete: "Comment not deleted",
};

/**
 * Everything about comments on the map page, fed by {@link CommentsUi.receive} with every message
 * from the relay. Nothing shows until a `welcome` carries comments (an older relay sends none).
 */
export class CommentsUi {
  /** The comments as the relay last told them. */
  readonly state = new CommentsState();
  #o: CommentsUiOptions;
  #pins: CommentPins;
  #waiting = new Map<string, (made: Comment | null, refusal?: string) => void>();
  #refs = `${randomId(6)}-`;
  #n = 0;
  #control = h("div", { class: "leaflet-bar comments-control", hidden: true });
  #tool = h("a", {
    href: "#",
    role: "button",
    class: "comment-tool",
    title: "Comment: click a place on the map to pin a comment",
    "aria-label": "Add a comment on the map",
    "aria-pressed": "false",
  });
  #resolved = h("input", { type: "checkbox", class: "comments-show-resolved" });
  #setting = h("input", { type: "checkbox", id: "share-viewers-comment" });
  #placing = (e: MouseEvent) => {
    const map = this.#o.map;
    // The basemap may leave the container itself as the target: anything but controls and popups.
    if (!(e.target instanceof Element) || !map.getContainer().contains(e.target)) return;
    if (e.target.closest(".leaflet-control-container, .leaflet-popup, .comment-pin")) return;
    e.stopPropagation();
    this.#stopPlacing();
    const at = map.mouseEventToLatLng(e).wrap();
    this.compose({ at: [at.lng, at.lat] }, at);
  };
  #escape = (e: KeyboardEvent) => {
    if (e.key === "Escape") this.#stopPlacing();
  };
  #drawMode = (e: { enabled: boolean }) => {
    // Drawing a feature and placing a comment both take the map's clicks: one at a time.
    if (e.enabled) this.#stopPlacing();
  };
  #onFeatureComment = (e: Event) => {
    const fid = (e as CustomEvent<{ fid?: string }>).detail?.fid;
    if (typeof fid === "string") this.composeOnFeature(fid);
  };

  #onOpenThread = (e: Event) => {
    const id = (e as CustomEvent<{ id?: string }>).detail?.id;
    if (typeof id === "string") this.openThread(id);
  };

  /** The comments of the page's map. */
  constructor(options: CommentsUiOptions) {
    this.#o = options;
    this.#pins = new CommentPins({
      state: this.state,
      position: (root) => this.#position(root),
      title: (root) => this.#title(root),
      now: () => Date.now(),
      actions: (thread) => ({
        reply: async (text) => await this.#request({ op: "reply", thread, text }) !== null,
        resolve: (resolved) => void this.#request({ op: "resolve", thread, resolved }),
        edit: async (id, text) => await this.#request({ op: "edit", id, text }) !== null,
        remove: async (id) => await this.#request({ op: "delete", id }) !== null,
      }),
    });
  }

  /** Takes a message from the relay (the session's `onMessage`). */
  receive(m: ServerMessage): void {
    const change = this.state.receive(m);
    if (!change) return;
    if (change.answered) {
      const done = this.#waiting.get(change.answered.ref);
      this.#waiting.delete(change.answered.ref);
      if (change.answered.ok) done?.(change.answered.comment);
      else done?.(null, change.answered.message);
    }
    if (change.settings) this.#showSettings();
    this.#pins.sync();
  }

  /** Features changed: pins on them follow (or go, with a deleted feature). */
  featuresChanged(fids: ReadonlySet<string>): void {
    if (this.state.roots().some((r) => r.anchor && "fid" in r.anchor && fids.has(r.anchor.fid))) {
      this.#pins.sync();
    }
  }

  /** Opens the box for a new comment pinned to `anchor`, at `at`. */
  compose(anchor: { at: [number, number] } | { fid: string }, at: L.LatLng, where = "New comment") {
    if (!this.state.mayComment) {
      toast("Only editors can comment on this map.", "error");
      return;
    }
    const popup = L.popup({ className: "comment-popup", minWidth: 240, maxWidth: 320 });
    const box = newCommentBox(where, async (text) => {
      const made = await this.#request({ op: "add", text, anchor });
      if (!made) return false;
      this.#o.map.closePopup(popup);
      this.#pins.open(made.id);
      return true;
    }, () => this.#o.map.closePopup(popup));
    popup.setLatLng(at).setContent(box).openOn(this.#o.map);
  }

  /**
   * Pans to the pin of the thread comment `id` is in (a root or a reply) and opens the thread,
   * a resolved one too (the history panel's comment entries).
   */
  openThread(id: string): void {
    const thread = this.state.threadOf(id);
    const root = thread === undefined ? undefined : this.state.thread(thread)?.root;
    if (!root) return;
    const at = this.#position(root);
    if (!at) {
      toast("This comment's feature is no longer on the map.", "error");
      return;
    }
    this.#o.map.panTo(at, { animate: false });
    this.#pins.open(root.id);
    // Opening a resolved thread shows the resolved pins: the toggle says so.
    this.#resolved.checked = this.#pins.showResolved;
  }

  /** Opens the box for a new comment on feature `fid` (the panel's "Comment on this feature"). */
  composeOnFeature(fid: string): void {
    const at = this.#position({ anchor: { fid } } as Comment);
    if (!at) return;
    const title = this.#title({ anchor: { fid } } as Comment);
    this.compose({ fid }, at, title ? `Comment on '${title}'` : "Comment on this feature");
  }

  /** The comments as a GeoJSON file (the export layer), from this page's copy. */
  download(): void {
    const doc = this.#o.session.doc;
    const fc = commentsGeoJson(
      [...this.state.roots(), ...this.#replies()],
      (fid) => doc.features.get(fid),
    );
    saveFile(
      new Blob([JSON.stringify(fc)], { type: "application/geo+json" }),
      exportFileName(this.#o.session.title).replace(/\.geojson$/, "-comments.geojson"),
    );
  }

  /** Adds the tool to the map, the switch to the Share dialog, and listens for the panel's button. */
  onAdd(): this {
    const { map } = this.#o;
    this.#pins.addTo(map);
    this.#tool.addEventListener("click", (e) => {
      e.preventDefault();
      if (map.getContainer().classList.contains("commenting")) this.#stopPlacing();
      else this.#startPlacing();
    });
    this.#resolved.addEventListener("change", () => {
      this.#pins.showResolved = this.#resolved.checked;
    });
    this.#control.append(
      this.#tool,
      h(
        "label",
        { class: "comments-resolved-toggle", title: "Show resolved comments" },
        this.#resolved,
        "Resolved",
      ),
    );
    L.DomEvent.disableClickPropagation(this.#control);
    const control = new L.Control({ position: "topleft" });
    control.onAdd = () => this.#control;
    control.addTo(map);
    this.#setting.addEventListener("change", () => void this.#changeSetting());
    document.querySelector("#share-dialog .dialog-buttons")?.before(
      h(
        "label",
        { class: "share-row comments-setting editor-only", for: "share-viewers-comment" },
        this.#setting,
        " Viewers may comment ",
        h(
          "span",
          { class: "small" },
          "— people with the view-only link can add and answer comments",
        ),
      ),
    );
    addEventListener("duplex:comment", this.#onFeatureComment);
    addEventListener("duplex:comment-thread", this.#onOpenThread);
    map.on("pm:globaldrawmodetoggled", this.#drawMode);
    return this;
  }

  #startPlacing(): void {
    if (!this.state.mayComment) {
      toast("Only editors can comment on this map.", "error");
      return;
    }
    const c = this.#o.map.getContainer();
    this.#o.map.pm?.disableDraw();
    c.classList.add("commenting");
    c.addEventListener("click", this.#placing, true);
    document.addEventListener("keydown", this.#escape);
    this.#tool.setAttribute("aria-pressed", "true");
  }

  #stopPlacing(): void {
    const c = this.#o.map.getContainer();
    c.classList.remove("commenting");
    c.removeEventListener("click", this.#placing, true);
    document.removeEventListener("keydown", this.#escape);
    this.#tool.setAttribute("aria-pressed", "false");
  }

  #showSettings(): void {
    this.#control.hidden = !this.state.known;
    this.#setting.checked = this.state.settings.viewersMayComment;
    document.body.dataset.mayComment = String(this.state.mayComment);
  }

  async #changeSetting(): Promise<void> {
    const wanted = this.#setting.checked;
    try {
      const res = await fetch(`/api/maps/${encodeURIComponent(this.#o.mapId)}/settings`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${this.#o.key}`, "content-type": "application/json" },
        body: JSON.stringify({ viewersMayComment: wanted }),
      });
      if (!res.ok) throw new Error((await res.json()).detail ?? `HTTP ${res.status}`);
    } catch (e) {
      this.#setting.checked = this.state.settings.viewersMayComment;
      toast(`The setting was not changed: ${e instanceof Error ? e.message : e}`, "error");
    }
  }

  /** Sends a request; resolves with the comment it made or changed, null when refused or unanswered. */
  #request(body: CommentBody): Promise<Comment | null> {
    const ref = `${this.#refs}${++this.#n}`;
    if (!this.#o.session.send({ type: "comment", ref, ...body })) {
      toast("You are offline: the comment was not sent. Try again when the map is live.", "error");
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (!this.#waiting.delete(ref)) return;
        toast("The relay did not answer the comment in time; check whether it appeared.", "error");
        resolve(null);
      }, ANSWER_TIMEOUT_MS);
      this.#waiting.set(ref, (made, refusal) => {
        clearTimeout(timer);
        if (refusal !== undefined) toast(`${NOT_DONE[body.op]}: ${refusal}`, "error");
        resolve(made);
      });
    });
  }

  #position(root: Pick<Comment, "anchor">): L.LatLng | null {
    const anchor = root.anchor;
    if (!anchor) return null;
    const at = "at" in anchor
      ? anchor.at
      : representativePoint(this.#o.session.doc.features.get(anchor.fid)?.geometry ?? null);
    return at ? L.latLng(at[1], at[0]) : null;
  }

  #title(root: Pick<Comment, "anchor">): string | null {
    const anchor = root.anchor;
    if (!anchor || !("fid" in anchor)) return null;
    return titleOf(this.#o.session.doc.features.get(anchor.fid)?.properties);
  }

  #replies(): Comment[] {
    return this.state.roots().flatMap((r) => this.state.thread(r.id)?.replies ?? []);
  }
}
