/** One person's session on one map: the map copy, presence, undo/redo and the wire, without any UI. */
import type {
  EditFrame,
  EditId,
  EditOp,
  PeerInfo,
  Role,
  ServerMessage,
  StoredFeature,
} from "../../relay/protocol.ts";
import { DEFAULT_MAX_FRAME_BYTES, utf8Exceeds } from "../../relay/protocol.ts";
import { inverseOps, opFid } from "../../relay/edit_ops.ts";
import { ChangeMarks, type Overwrite } from "./change_marks.ts";
import { type Clock, systemClock } from "./clock.ts";
import { Connection, type ConnectionStatus } from "./connection.ts";
import { MapDoc, type PendingEdit } from "./doc.ts";
import { stringifyAnyDepth } from "./json_text.ts";
import { type OverwriteReport, ResendWatch } from "./resend_watch.ts";
import type { TransportFactory } from "./transport.ts";
import { onPresent, type StepChoice, withoutOverwritten, withoutSettled } from "./undo_plan.ts";

/** Who I am on this map, as the relay confirmed it. */
export interface You {
  peer: string;
  name: string;
  color: string;
  role: Role;
}

/** Connection status plus the count of local edits the relay has not confirmed. */
export interface SessionStatus extends ConnectionStatus {
  unsent: number;
}

/** How an edit ended. */
export type EditOutcome =
  | { ok: true; id: EditId; seq: number }
  | { ok: false; id: EditId | null; code: string; message: string };

/**
 * Where a session keeps its unsent edits so they outlive the page (IndexedDB on the map page):
 * an edit is added as it is queued and removed once the relay acknowledged, refused or already
 * had it. Writes are fire-and-forget; a store that fails only loses the copy, never the edit.
 */
export interface EditJournal {
  add(edit: PendingEdit): void;
  remove(id: EditId): void;
}

/** Options for {@link Session}. */
export interface SessionOptions {
  origin: string;
  mapId: string;
  key: string;
  name: string;
  color: string;
  /** Stable id of this browser tab, sent in `hello` as `client`. */
  clientId: string;
  /** Makes a globally unique edit id, e.g. `${clientId}-${n}`. */
  nextEditId: () => string;
  transport: TransportFactory;
  clock?: Clock;
  random?: () => number;
  /** The relay's frame limit (`/api/config`): a larger edit is refused here. @default 1 MiB */
  maxFrameBytes?: number;
  /** How long `welcome` may take once the link is open, in ms. @default 10000 */
  welcomeTimeoutMs?: number;
  /** Smallest gap between two `cursor` messages, in ms. @default 50 */
  cursorIntervalMs?: number;
  /** Features changed (ids); the map redraws exactly these. */
  onFeatures?: (fids: ReadonlySet<string>) => void;
  /** The peer list changed (someone joined, left, or this session was welcomed). */
  onPeers?: () => void;
  /** A peer's viewport or cursor moved. */
  onPresence?: (peer: PeerInfo, what: "view" | "cursor" | "profile") => void;
  onStatus?: (status: SessionStatus) => void;
  /** Something the user should read: a rejected edit, a protocol error. */
  onNotice?: (message: string, level: "info" | "error") => void;
  /** Keeps unsent edits beyond this page's life. */
  journal?: EditJournal;
  /** Welcomed (again); `first` on the first welcome of the page. */
  onWelcome?: (you: You, title: string, first: boolean) => void;
  /**
   * An undo or redo would overwrite newer changes by others: the answer says whether to apply it
   * anyway or skip the parts they changed. Without it, those parts are skipped.
   */
  onConflict?: (conflict: StepConflict) => Promise<StepChoice>;
  /** Edits re-sent after a reconnect replaced newer changes by others (once all are settled). */
  onOverwrote?: (report: OverwriteReport) => void;
  /** Say `comments` in hello: the relay then sends comments and settings (extension). */
  comments?: boolean;
  /** This browser's author key for `hello` (with `comments`): its comments become its own. */
  authorKey?: string;
  /** Where the page's comments stand, for `hello` (with `comments`): a reconnect gets changes. */
  commentsAt?: () => string | undefined;
  /** Every message from the relay, after the session handled it (for extensions: comments). */
  onMessage?: (m: ServerMessage) => void;
}

/** An undo or redo that meets newer changes by others (see {@link SessionOptions.onConflict}). */
export interface StepConflict {
  what: "undo" | "redo";
  overwrites: Overwrite[];
  /** Whether skipping still leaves a part to undo (the parts nobody else changed). */
  rest: boolean;
}

/** A pending edit as the `edit` message that sends it (with its `label` when it has one). */
function editMessage(p: PendingEdit): Record<string, unknown> {
  return p.label === undefined
    ? { type: "edit", id: p.id, ops: p.ops }
    : { type: "edit", id: p.id, ops: p.ops, label: p.label };
}

interface UndoEntry {
  id: EditId;
  inverse: EditOp[];
  /** The seq my edit was accepted at (Infinity until then): newer changes by others conflict. */
  seq: number;
  /** The seq the copy was at when I made it (for an edit acknowledged only as `duplicate`). */
  base: number;
}

const REJECT_WORDS: Record<string, string> = {
  forbidden: "You can only view this map",
  unknown_feature: "That feature no longer exists",
  invalid_geometry: "The shape is not valid",
  invalid_edit: "The change is not valid",
  too_large: "The change is too large",
  too_many_features: "The map is full",
  rate_limited: "Too many changes at once",
};

/**
 * Ties the map copy ({@link MapDoc}) to the relay: local edits go out at once and stay pending
 * until echoed. After a reconnect (`hello.since` = last seq, with its `epoch`) a catch-up of `ops`
 * acknowledges pending edits the relay already applied (recognised by edit id) and only the rest
 * is sent again; after a full snapshot instead (since too old, or from another epoch) every
 * pending edit is sent again and one the relay already had comes back `duplicate`, settled as done.
 */
export class Session {
  readonly doc: MapDoc;
  readonly peers: Map<string, PeerInfo> = new Map();
  /** Accepted edits seen by this page, in order (for tests and debugging). */
  readonly editLog: { seq: number; id: EditId; by: string }[] = [];
  #options: SessionOptions;
  #identity: { name: string; color: string };
  #connection: Connection;
  #clock: Clock;
  #you: You | null = null;
  #title = "";
  /** The epoch of the map's history that `doc.seq` counts in, from the last `welcome`. */
  #epoch: string | undefined;
  #status: ConnectionStatus = { state: "connecting", transport: "websocket" };
  #undo: UndoEntry[] = [];
  #redo: UndoEntry[] = [];
  #marks = new ChangeMarks();
  #resent = new ResendWatch();
  /** An undo or redo waits for the person's choice; others wait meanwhile. */
  #choosing = false;
  #waiters = new Map<EditId, (outcome: EditOutcome) => void>();
  #lastView: { bbox: [number, number, number, number]; zoom: number } | null = null;
  #cursorPending: [number, number] | null | undefined = undefined;
  #cursorSent: [number, number] | null = null;
  #cursorTimer: number | null = null;

  constructor(options: SessionOptions) {
    this.#options = options;
    this.#identity = { name: options.name, color: options.color };
    this.#clock = options.clock ?? systemClock();
    this.doc = new MapDoc({ onChange: (fids) => options.onFeatures?.(fids) });
    this.#connection = new Connection({
      target: { origin: options.origin, mapId: options.mapId },
      transport: options.transport,
      clock: this.#clock,
      random: options.random,
      maxFrameBytes: options.maxFrameBytes,
      welcomeTimeoutMs: options.welcomeTimeoutMs,
      hello: () => ({
        type: "hello",
        key: options.key,
        name: this.#identity.name,
        color: this.#identity.color,
        client: options.clientId,
        // A seq counts in its epoch: the relay answers a seq from another history with the map.
        ...(this.doc.loaded ? { since: this.doc.seq } : {}),
        ...(this.doc.loaded && this.#epoch !== undefined ? { epoch: this.#epoch } : {}),
        ...(options.comments ? commentsHello(options) : {}),
      }),
      onMessage: (m) => this.#receive(m),
      onStatus: (s) => {
        this.#status = s;
        this.#emitStatus();
      },
    });
  }

  /** Me, once welcomed. */
  get you(): You | null {
    return this.#you;
  }

  /** The map's title from `welcome`. */
  get title(): string {
    return this.#title;
  }

  /** Whether this session may edit (viewers get no tools). */
  get canEdit(): boolean {
    return this.#you?.role === "editor";
  }

  get status(): SessionStatus {
    return { ...this.#status, unsent: this.doc.pending.length };
  }

  get canUndo(): boolean {
    return !this.#choosing && this.#undo.length > 0;
  }

  get canRedo(): boolean {
    return !this.#choosing && this.#redo.length > 0;
  }

  start(): void {
    this.#connection.start();
  }

  stop(): void {
    this.#connection.stop();
    if (this.#cursorTimer !== null) this.#clock.clearTimeout(this.#cursorTimer);
    this.#cursorTimer = null;
  }

  /** Sends a message of an extension (a comment request) as it is; false while the link is down. */
  send(message: Record<string, unknown>): boolean {
    return this.#connection.send(message);
  }

  /** Changes my name and colour; the relay learns them by a quick reconnect. */
  setIdentity(name: string, color: string): void {
    this.#identity = { name, color };
    if (this.#you) this.#you = { ...this.#you, name, color };
    // Live: the others see it at once (no reconnect); otherwise the next hello carries it.
    this.#connection.send({ type: "profile", name, color });
    this.#options.onPeers?.();
  }

  /** The browser went offline: drop the link now instead of waiting for a ping to time out. */
  wentOffline(): void {
    this.#connection.drop();
  }

  /** The browser is online again: reconnect without waiting out the backoff. */
  cameOnline(): void {
    this.#connection.retryNow();
  }

  /**
   * Applies an edit locally and sends it (or keeps it for when the link is back). The promise
   * settles when the relay accepts or rejects it. `label` (an extension) names the edit in the
   * map's history, e.g. "Restored version 'Before the field trip'".
   */
  edit(ops: EditOp[], label?: string): Promise<EditOutcome> {
    const result = this.#submit(ops, label);
    if (!result.ok) return Promise.resolve(result);
    this.#undo.push(result.entry);
    this.#redo.length = 0;
    return result.outcome;
  }

  /**
   * Applies and sends edits left unsent by an earlier visit, with their own ids (so the relay,
   * which remembers `client` + edit id, can tell a re-send of an edit it already applied). Call
   * after the first welcome, under the `client` id that made them. An edit that no longer applies
   * (its feature is gone) settles as refused without being sent.
   */
  restore(edits: readonly PendingEdit[]): Promise<EditOutcome>[] {
    const outcomes = edits.map((edit) => {
      if (this.doc.local(edit.id, edit.ops, edit.label) === null) {
        this.#options.journal?.remove(edit.id);
        return Promise.resolve<EditOutcome>({
          ok: false,
          id: edit.id,
          code: "unknown_feature",
          message: "The change names a feature that is no longer on the map.",
        });
      }
      return new Promise<EditOutcome>((resolve) => this.#waiters.set(edit.id, resolve));
    });
    const ids = new Set(edits.map((e) => e.id));
    const sent = this.doc.pending.filter((p) => ids.has(p.id));
    this.#connection.send(sent.map(editMessage));
    this.#emitStatus();
    return outcomes;
  }

  /**
   * Undoes my last edit (as a new ordinary edit). When that would overwrite a newer change by
   * someone else, `onConflict` decides first; resolves once the undo is sent or skipped.
   */
  undo(): Promise<void> {
    return this.#step(this.#undo, this.#redo, "undo");
  }

  /** Redoes my last undone edit, as {@link undo} does. */
  redo(): Promise<void> {
    return this.#step(this.#redo, this.#undo, "redo");
  }

  /** My viewport changed (send on move end only). */
  setView(bbox: [number, number, number, number], zoom: number): void {
    this.#lastView = { bbox, zoom };
    this.#connection.send({ type: "view", bbox, zoom });
  }

  /** My pointer moved (or left the map: `null`); sent at most every `cursorIntervalMs`. */
  setCursor(at: [number, number] | null): void {
    this.#cursorPending = at;
    if (this.#cursorTimer !== null) return;
    this.#flushCursor();
  }

  #flushCursor(): void {
    const at = this.#cursorPending;
    this.#cursorPending = undefined;
    if (at === undefined) return;
    const same = at === this.#cursorSent ||
      (at !== null && this.#cursorSent !== null &&
        at[0] === this.#cursorSent[0] &&
        at[1] === this.#cursorSent[1]);
    if (!same && this.#connection.send({ type: "cursor", at })) {
      this.#cursorSent = at;
    }
    this.#cursorTimer = this.#clock.setTimeout(() => {
      this.#cursorTimer = null;
      this.#flushCursor();
    }, this.#options.cursorIntervalMs ?? 50);
  }

  async #step(from: UndoEntry[], to: UndoEntry[], what: "undo" | "redo"): Promise<void> {
    if (this.#choosing) return;
    const entry = from.pop();
    if (!entry) return;
    // Undoing the creation of a feature someone has since deleted: that part is already done.
    let ops = withoutSettled(entry.inverse, this.doc.features);
    const overwrites = () => this.#marks.overwrites(ops, entry.seq, Infinity, this.doc.features);
    const found = ops.length ? overwrites() : [];
    if (found.length) {
      this.#choosing = true;
      this.#emitStatus();
      let choice: StepChoice = "skip";
      try {
        const rest = withoutOverwritten(ops, found).length > 0;
        choice = await this.#options.onConflict?.({ what, overwrites: found, rest }) ?? "skip";
      } finally {
        this.#choosing = false;
      }
      // The map may have moved on while the person chose: decide on what is there now.
      ops = choice === "anyway"
        ? onPresent(ops, this.doc.features, (fid) => this.#marks.deletedFeature(fid))
        : onPresent(withoutOverwritten(ops, overwrites()), this.doc.features, () => undefined);
      if (choice === "skip" && ops.length === 0) return this.#emitStatus();
    }
    const result = ops.length ? this.#submit(ops) : null;
    if (!result?.ok) {
      this.#options.onNotice?.(
        `Cannot ${what}: someone else changed or deleted that feature meanwhile.`,
        "error",
      );
      return this.#emitStatus();
    }
    to.push(result.entry);
    this.#emitStatus();
  }

  #submit(
    ops: EditOp[],
    label?: string,
  ):
    | { ok: true; id: EditId; entry: UndoEntry; outcome: Promise<EditOutcome> }
    | { ok: false; id: null; code: string; message: string } {
    const id = this.#options.nextEditId();
    // The relay closes a connection whose frame is over its limit: such an edit would be sent
    // again on every reconnect and hold up everything queued behind it.
    const max = this.#options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    // Any depth: the compact native writer gives up near a few thousand levels in Chromium. The
    // same text is measured and sent.
    const text = stringifyAnyDepth(editMessage({ id, ops, label }));
    if (utf8Exceeds(text, max)) {
      const size = new TextEncoder().encode(text).length;
      const amount = (n: number) =>
        n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
      const message =
        `This change is ${amount(size)}; the relay takes at most ${amount(max)} in one change. ` +
        "Nothing was changed.";
      this.#options.onNotice?.(message, "error");
      return { ok: false, id: null, code: "too_large", message };
    }
    const base = this.doc.seq;
    const inverse = this.doc.local(id, ops, label);
    if (inverse === null) {
      return {
        ok: false,
        id: null,
        code: "unknown_feature",
        message: "The edit names a feature that is not on the map.",
      };
    }
    const outcome = new Promise<EditOutcome>((resolve) => this.#waiters.set(id, resolve));
    this.#options.journal?.add(label === undefined ? { id, ops } : { id, ops, label });
    this.#resent.made(id, base);
    this.#connection.send(text);
    this.#emitStatus();
    return { ok: true, id, entry: { id, inverse, seq: Infinity, base }, outcome };
  }

  #receive(m: ServerMessage): void {
    switch (m.type) {
      case "welcome": {
        const first = this.#you === null;
        this.#you = m.you;
        this.#title = m.map?.title ?? "";
        this.peers.clear();
        for (const p of m.peers) {
          if (p.peer !== m.you.peer) this.peers.set(p.peer, p);
        }
        // Absent from an older relay: the next hello then sends `since` alone, as before.
        if (this.#epoch !== m.epoch && this.#epoch !== undefined) this.#newHistory();
        this.#epoch = m.epoch;
        if (m.features) {
          const before = this.doc.confirmed;
          const reload = this.doc.loaded;
          this.doc.load(m.features.features, m.seq);
          if (reload) this.#reloaded(before, m.seq);
        } else {
          for (const frame of m.ops ?? []) this.#applyEdit(frame);
        }
        this.#resent.reconnected(this.doc.pending.map((p) => p.id));
        // Send whatever is still pending again, in order: after `ops` the relay has not applied
        // it; after a snapshot it may have, and answers `duplicate` (settled below as done).
        this.#connection.send(this.doc.pending.map(editMessage));
        if (this.#lastView) {
          this.#connection.send({ type: "view", ...this.#lastView });
        }
        this.#cursorSent = null;
        this.#options.onWelcome?.(m.you, this.#title, first);
        this.#options.onPeers?.();
        this.#emitStatus();
        break;
      }
      case "joined": {
        // A `joined` for a peer already here is a new name or colour (the `profile` extension).
        const known = this.peers.get(m.peer);
        const peer = { ...known, peer: m.peer, name: m.name, color: m.color, role: m.role };
        this.peers.set(m.peer, peer);
        if (known) this.#options.onPresence?.(peer, "profile");
        this.#options.onPeers?.();
        break;
      }
      case "left":
        this.peers.delete(m.peer);
        this.#options.onPeers?.();
        break;
      case "view":
      case "cursor": {
        const peer = this.peers.get(m.peer);
        if (!peer) break;
        if (m.type === "view") peer.view = { bbox: m.bbox, zoom: m.zoom };
        else peer.cursor = m.at;
        this.#options.onPresence?.(peer, m.type);
        break;
      }
      case "edit":
        // Only the ack of one of my edits changes the status (the unsent count).
        if (this.#applyEdit(m)) this.#emitStatus();
        break;
      case "rejected": {
        const edit = this.doc.reject(m.id);
        if (!edit) break;
        this.#report(this.#resent.settled(m.id));
        if (m.code === "duplicate") {
          // Re-sent after a reconnect whose welcome was a full snapshot: the relay had applied it
          // before, so the snapshot (now the confirmed state) already holds it. Done, not refused.
          // When is unknown: changes by others since it was made count as newer for its undo.
          const entry = this.#entry(m.id);
          if (entry) entry.seq = entry.base;
          this.#settle(m.id, { ok: true, id: m.id, seq: this.doc.seq });
          this.#emitStatus();
          break;
        }
        for (const stack of [this.#undo, this.#redo]) {
          const i = stack.findIndex((e) => e.id === m.id);
          if (i >= 0) stack.splice(i, 1);
        }
        this.#settle(m.id, {
          ok: false,
          id: m.id,
          code: m.code,
          message: m.message,
        });
        const words = REJECT_WORDS[m.code] ?? "The change was refused";
        this.#options.onNotice?.(
          `${words}; your change was undone. (${m.message})`,
          "error",
        );
        this.#emitStatus();
        break;
      }
      case "error":
        this.#options.onNotice?.(
          `The relay reported a problem: ${m.message}`,
          "error",
        );
        break;
      case "pong":
        break;
    }
    this.#options.onMessage?.(m);
  }

  /** Applies an accepted edit; true when it acknowledged one of mine. */
  #applyEdit(frame: EditFrame): boolean {
    const before = this.doc.confirmed;
    const fresh = frame.seq > this.doc.seq;
    const pending = fresh ? this.doc.pending.find((p) => p.id === frame.id) : undefined;
    const mine = pending !== undefined;
    const entry = mine ? this.#entry(frame.id) : undefined;
    if (pending && entry) {
      // Undo restores what was there just before my edit in seq order, including changes by
      // others the relay ordered between my making it and its acceptance.
      entry.inverse = inverseOps(before, pending.ops) ?? entry.inverse;
      entry.seq = frame.seq;
    }
    if (fresh && !mine) this.#marks.record(frame, before);
    const result = this.doc.applyRemote(frame);
    if (result.duplicate) return false;
    this.editLog.push({ seq: frame.seq, id: frame.id, by: frame.by });
    if (result.own) {
      this.#report(
        this.#resent.acked(
          frame.id,
          frame.ops,
          frame.seq,
          (ops, base, seq) => this.#marks.overwrites(ops, base, seq, this.doc.features),
        ),
      );
      this.#settle(frame.id, { ok: true, id: frame.id, seq: frame.seq });
    }
    return result.own;
  }

  /** My undo or redo entry for an edit, newest first (acks come for recent edits). */
  #entry(id: EditId): UndoEntry | undefined {
    return this.#undo.findLast((e) => e.id === id) ?? this.#redo.findLast((e) => e.id === id);
  }

  /** A full snapshot replaced `before`: what changed in features I may undo or re-send is marked. */
  #reloaded(before: ReadonlyMap<string, StoredFeature>, seq: number): void {
    const pending = this.doc.pending.flatMap((p) => p.ops);
    const fids = new Set(pending.map(opFid));
    for (const e of [...this.#undo, ...this.#redo]) for (const op of e.inverse) fids.add(opFid(op));
    this.#marks.reloaded(before, this.doc.confirmed, this.doc.features, pending, fids, seq);
  }

  /** Another history (a restored backup): its seqs say nothing about what I saw before. */
  #newHistory(): void {
    this.#marks.clear();
    // Whatever the new snapshot shows changed counts as newer than each of my edits.
    for (const e of [...this.#undo, ...this.#redo]) e.seq = Math.min(e.seq, 0);
  }

  #report(report: OverwriteReport | null): void {
    if (report) this.#options.onOverwrote?.(report);
  }

  #settle(id: EditId, outcome: EditOutcome): void {
    this.#options.journal?.remove(id);
    const resolve = this.#waiters.get(id);
    if (!resolve) return;
    this.#waiters.delete(id);
    resolve(outcome);
  }

  #emitStatus(): void {
    this.#options.onStatus?.(this.status);
  }
}

/** The comments part of `hello`: opting in, the author key, and where the page's copy stands. */
function commentsHello(
  options: SessionOptions,
): { comments: true; author?: string; commentsAt?: string } {
  const at = options.commentsAt?.();
  return {
    comments: true,
    ...(options.authorKey ? { author: options.authorKey } : {}),
    ...(at === undefined ? {} : { commentsAt: at }),
  };
}
