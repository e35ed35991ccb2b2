/** One map live in memory: its features, its edit order (`seq`), its peers and their presence. */
import {
  applyFrame,
  applyOps,
  type EditLimits,
  opFid,
  reject,
  type Rejection,
} from "./edit_ops.ts";
import { MapComments } from "./comments.ts";
import type { StoredComments } from "./comments.ts";
import type { Peer } from "./peer.ts";
import type { EditFrame, EditId, EditOp, FeatureMeta, StoredFeature } from "./protocol.ts";
import type { MapRecord, StoredMap } from "./store.ts";

/** The limits a room enforces on edits. */
export interface RoomLimits extends EditLimits {
  /** Edits kept in memory for `since` catch-up. */
  recentEdits: number;
  /** Characters of edit frames kept for catch-up, whatever their number. @default 8 MiB */
  recentBytes?: number;
  /** Comments (and replies) on one map. @default 10 000 */
  maxComments?: number;
}

/** The default of {@link RoomLimits.recentBytes}. */
export const DEFAULT_RECENT_BYTES = 8 << 20;

/** An edit the room accepted. */
export interface Accepted {
  /** Accepted. */
  ok: true;
  /** The seq the edit got. */
  seq: number;
  /** The `edit` frame as sent to every peer and written to the journal. */
  frame: string;
}

/** A journal entry: the seq and the serialised `edit` frame. */
export interface JournalEntry {
  /** The edit's seq. */
  seq: number;
  /** The edit frame as sent. */
  frame: string;
  /** The author's client id and the edit's id, when the client sent one (for the store). */
  client?: string;
  /** The edit's id as text (with `client`), as the relay already compares them. */
  id?: string;
}

/**
 * What a joining peer's `welcome` carried: the whole map (`snapshot`), the edits after its `since`
 * (`ops`), or the whole map because its `since` was from another epoch of the map's history
 * (`epoch_mismatch`: a restored backup, a moved or recreated map), which the hub logs.
 */
export type WelcomeKind = "snapshot" | "ops" | "epoch_mismatch";

/** Options for {@link Room}. */
export interface RoomOptions {
  /** The map's stored record. */
  record: MapRecord;
  /** The limits its edits are checked against. */
  limits: RoomLimits;
  /** The map as stored; omit for a new, empty map. */
  stored?: StoredMap;
  /** Its comments and settings as stored; omit for none. */
  comments?: StoredComments;
}

/**
 * A map in memory. It never touches sockets or the store: it queues serialised messages on its
 * peers and keeps accepted edits in {@link Room.takeUnsaved} until the hub has made them durable
 * (the hub flushes the store before it flushes any peer, so an echo is never sent early).
 */
export class Room {
  /** The map's identity and key hashes. */
  readonly record: MapRecord;
  #limits: RoomLimits;
  #features = new Map<string, StoredFeature>();
  #seq = 0;
  #recent: JournalEntry[] = [];
  #recentBytes = 0;
  #unsaved: JournalEntry[] = [];
  #peers = new Map<string, Peer>();
  /** Peers whose view and/or cursor changed since the last flush. */
  #presenceDirty = new Map<Peer, { view: boolean; cursor: boolean }>();
  #snapshot: { seq: number; json: string } | null = null;
  #export: { seq: number; json: string } | null = null;
  #snapshotSeq = 0;
  #epoch: string | undefined;
  /** `client + id` of recent edits -> seq, so an edit re-sent after a reconnect is not applied twice. */
  #recentIds = new Map<string, number>();
  /** The commit ticket of the latest edit: what must be durable before the state may be shown. */
  ticket = 0;
  /** When the last peer left (ms, by the hub's clock), or `null` while anyone is here. */
  emptySince: number | null = null;
  /** Its comment threads and settings (extension: comments). */
  readonly comments: MapComments;

  /** A room holding the stored map, with no peers. */
  constructor(options: RoomOptions) {
    this.record = options.record;
    this.#limits = options.limits;
    this.comments = new MapComments({
      maxComments: options.limits.maxComments ?? 10_000,
      stored: options.comments,
    });
    const stored = options.stored;
    if (!stored) return;
    this.#epoch = stored.epoch;
    if (stored.snapshot !== null) {
      for (const f of JSON.parse(stored.snapshot) as StoredFeature[]) this.#features.set(f.id, f);
    }
    this.#seq = this.#snapshotSeq = stored.snapshotSeq;
    for (const entry of stored.history) this.#remember(entry);
    for (const entry of stored.tail) {
      // Accepted edits: their limits were checked then, so they are applied as they are, in place
      // (a map that does not replay is refused whole, so a half-applied edit is never served).
      const failed = applyFrame(this.#features, JSON.parse(entry.frame) as EditFrame);
      if (failed) {
        throw new Error(
          `journal of map ${this.record.id} does not replay at seq ${entry.seq}: ` +
            `no feature ${JSON.stringify(opFid(failed))}`,
        );
      }
      this.#seq = entry.seq;
      this.#remember(entry);
    }
    // A store that keeps each edit's client and id (PostgreSQL): a re-send of a loaded edit whose
    // ack was lost is answered `duplicate` here, not refused by the store's unique index.
    for (const e of [...stored.history, ...stored.tail]) {
      if (e.client !== undefined && e.id !== undefined) {
        this.#recentIds.set(`${e.client}\u0000${e.id}`, e.seq);
      }
    }
    while (this.#recentIds.size > this.#limits.recentEdits) {
      this.#recentIds.delete(this.#recentIds.keys().next().value!);
    }
  }

  /** The map id. */
  get id(): string {
    return this.record.id;
  }

  /** The seq of the latest accepted edit. */
  get seq(): number {
    return this.#seq;
  }

  /** The epoch of the map's history (see {@link StoredMap.epoch}), sent in `welcome`. */
  get epoch(): string | undefined {
    return this.#epoch;
  }

  /** Peers joined. */
  get peerCount(): number {
    return this.#peers.size;
  }

  /** Peers in join order. */
  peers(): IterableIterator<Peer> {
    return this.#peers.values();
  }

  /** Edits since the last snapshot. */
  get editsSinceSnapshot(): number {
    return this.#seq - this.#snapshotSeq;
  }

  /** The features as a JSON array, cached until the next edit. */
  featuresJson(): string {
    if (this.#snapshot?.seq !== this.#seq) {
      this.#snapshot = { seq: this.#seq, json: JSON.stringify([...this.#features.values()]) };
    }
    return this.#snapshot.json;
  }

  /** The map as a GeoJSON FeatureCollection (JSON text). */
  featureCollectionJson(): string {
    return `{"type":"FeatureCollection","features":${this.featuresJson()}}`;
  }

  /**
   * The features as a JSON array for the features API and exports: without each feature's `meta`
   * (who last changed it), which is collaboration state, not data. Cached until the next edit.
   */
  exportFeaturesJson(): string {
    if (this.#export?.seq !== this.#seq) {
      const features = [...this.#features.values()].map(({ meta: _meta, ...f }) => f);
      this.#export = { seq: this.#seq, json: JSON.stringify(features) };
    }
    return this.#export.json;
  }

  /** The map as GeoJSON for the features API and exports (see {@link exportFeaturesJson}). */
  exportJson(): string {
    return `{"type":"FeatureCollection","features":${this.exportFeaturesJson()}}`;
  }

  /** Records that a snapshot at `seq` is durable. */
  snapshotSaved(seq: number): void {
    this.#snapshotSeq = Math.max(this.#snapshotSeq, seq);
  }

  /**
   * Adds a peer: queues its `welcome` (a snapshot, or the missed edits when `since` is recent
   * enough and, if the peer sent an `epoch`, of this map's epoch) and tells the others it `joined`.
   * A peer that sends `since` without an epoch (an older client) is answered as before epochs.
   */
  join(
    peer: Peer,
    since: number | undefined,
    epoch?: string,
    commentsAt?: string,
  ): WelcomeKind {
    const you = {
      peer: peer.id,
      name: peer.name,
      color: peer.color,
      role: peer.role,
      ...(peer.author === undefined ? {} : { author: peer.author }),
    };
    const peers = [...this.#peers.values()].map((p) => p.info());
    const head = `{"type":"welcome","you":${JSON.stringify(you)},"peers":${
      JSON.stringify(peers)
    },"seq":${this.#seq}${
      this.#epoch === undefined ? "" : `,"epoch":${JSON.stringify(this.#epoch)}`
    },"map":${JSON.stringify({ id: this.id, title: this.record.title })}`;
    // Comments go only to clients that said they understand them, so older ones never see them.
    // A reconnecting client that says where its comments stood gets only what changed since.
    const changed = peer.comments && commentsAt !== undefined
      ? this.comments.changesSince(commentsAt)
      : null;
    const comments = !peer.comments
      ? ""
      : `${
        changed === null
          ? `,"comments":${this.comments.json()}`
          : `,"commentsChanged":${JSON.stringify(changed)}`
      },"commentsAt":${JSON.stringify(this.comments.at)},"settings":${
        JSON.stringify(this.comments.settings)
      }`;
    const otherEpoch = since !== undefined && epoch !== undefined && epoch !== this.#epoch;
    const missed = since === undefined || otherEpoch ? null : this.#editsAfter(since);
    // The welcome shows the state up to the latest edit: it waits for that edit's commit.
    peer.enqueue(
      missed === null
        ? `${head}${comments},"features":${this.featureCollectionJson()}}`
        : `${head}${comments},"ops":[${missed.join(",")}]}`,
      this.ticket,
    );
    const joined = joinedFrame(peer);
    for (const other of this.#peers.values()) other.enqueue(joined);
    this.#peers.set(peer.id, peer);
    this.emptySince = null;
    return otherEpoch ? "epoch_mismatch" : missed === null ? "snapshot" : "ops";
  }

  /** Tells the others a peer's new name and colour, as a `joined` for a peer they already know. */
  profile(peer: Peer): void {
    if (!this.#peers.has(peer.id)) return;
    const joined = joinedFrame(peer);
    for (const other of this.#peers.values()) {
      if (other !== peer) other.enqueue(joined);
    }
  }

  /** Removes a peer and tells the others it `left`. */
  leave(peer: Peer, now: number): void {
    if (!this.#peers.delete(peer.id)) return;
    this.#presenceDirty.delete(peer);
    const left = JSON.stringify({ type: "left", peer: peer.id });
    for (const other of this.#peers.values()) {
      other.forgetPresenceOf(peer.id);
      other.enqueue(left);
    }
    if (this.#peers.size === 0) this.emptySince = now;
  }

  /** Notes a peer's new viewport or pointer; sent to the others at the next flush, newest wins. */
  presence(peer: Peer, kind: "view" | "cursor"): void {
    const dirty = this.#presenceDirty.get(peer);
    if (dirty) dirty[kind] = true;
    else this.#presenceDirty.set(peer, { view: kind === "view", cursor: kind === "cursor" });
  }

  /** Queues the presence that changed since the last call on every other peer. */
  flushPresence(): void {
    for (const [peer, dirty] of this.#presenceDirty) {
      // Serialised once per sender per flush, whatever the number of recipients.
      const view = dirty.view && peer.view
        ? JSON.stringify({
          type: "view",
          peer: peer.id,
          bbox: peer.view.bbox,
          zoom: peer.view.zoom,
        })
        : null;
      const cursor = dirty.cursor && peer.cursor !== undefined
        ? JSON.stringify({ type: "cursor", peer: peer.id, at: peer.cursor })
        : null;
      const viewKey = `view:${peer.id}`;
      const cursorKey = `cursor:${peer.id}`;
      for (const other of this.#peers.values()) {
        if (other === peer) continue;
        if (view) other.enqueuePresence(viewKey, view);
        if (cursor) other.enqueuePresence(cursorKey, cursor);
      }
    }
    this.#presenceDirty.clear();
  }

  /** Is presence waiting for {@link Room.flushPresence}? */
  get presencePending(): boolean {
    return this.#presenceDirty.size > 0;
  }

  /**
   * Applies an edit atomically and gives it the next `seq`. The echo is queued on every peer,
   * author included; the hub sends it only after {@link Room.takeUnsaved} entries are durable.
   * With `author`, the frame carries the author's name, colour and time, and every feature it
   * leaves on the map records them as its `meta` (who last changed it, kept in snapshots). A
   * `label` is kept in the frame as sent.
   */
  edit(
    by: string,
    id: EditId,
    ops: readonly EditOp[],
    client?: string,
    ticket = 0,
    author?: FeatureMeta,
    label?: string,
  ): Accepted | Rejection {
    const dedupeKey = client === undefined ? null : `${client}\u0000${id}`;
    const earlier = dedupeKey === null ? undefined : this.#recentIds.get(dedupeKey);
    if (earlier !== undefined) {
      return reject(
        "duplicate",
        `edit ${JSON.stringify(id)} was already applied at seq ${earlier}`,
      );
    }
    const result = applyOps(this.#features, ops, this.#limits);
    if (!result.ok) return result;
    this.#commit(result.changes, author);
    const seq = ++this.#seq;
    const frame = JSON.stringify(
      author
        ? {
          type: "edit",
          seq,
          by,
          id,
          ops,
          name: author.by,
          color: author.color,
          at: author.at,
          label,
        }
        : { type: "edit", seq, by, id, ops, label },
    );
    const entry: JournalEntry = client === undefined
      ? { seq, frame }
      : { seq, frame, client, id: String(id) };
    this.#unsaved.push(entry);
    this.#remember(entry);
    if (dedupeKey !== null) {
      this.#recentIds.set(dedupeKey, seq);
      if (this.#recentIds.size > this.#limits.recentEdits) {
        // Maps iterate in insertion order: the first key is the oldest.
        this.#recentIds.delete(this.#recentIds.keys().next().value!);
      }
    }
    this.ticket = Math.max(this.ticket, ticket);
    for (const peer of this.#peers.values()) peer.enqueue(frame, ticket);
    return { ok: true, seq, frame };
  }

  /**
   * Queues a comment frame (or a settings frame) on every peer that understands comments, after
   * commit `ticket`: like an edit's echo, it is sent only once it is durable.
   */
  broadcastComment(frame: string, ticket: number): void {
    this.ticket = Math.max(this.ticket, ticket);
    for (const peer of this.#peers.values()) if (peer.comments) peer.enqueue(frame, ticket);
  }

  /** The feature `fid` as it is now, or undefined (for comment anchors, and the history's titles). */
  feature(fid: string): StoredFeature | undefined {
    return this.#features.get(fid);
  }

  /** Accepted edits not yet handed to the store, oldest first; empties the list. */
  takeUnsaved(): JournalEntry[] {
    const unsaved = this.#unsaved;
    this.#unsaved = [];
    return unsaved;
  }

  /** Are there accepted edits the store has not seen? */
  get hasUnsaved(): boolean {
    return this.#unsaved.length > 0 || this.comments.hasUnsaved;
  }

  /** The features, for import diffs. */
  featureIds(): IterableIterator<string> {
    return this.#features.keys();
  }

  #commit(changes: Map<string, StoredFeature | null>, meta?: FeatureMeta): void {
    for (const [fid, feature] of changes) {
      if (feature === null) this.#features.delete(fid);
      else this.#features.set(fid, meta ? { ...feature, meta } : feature);
    }
  }

  #remember(entry: JournalEntry): void {
    this.#recent.push(entry);
    this.#recentBytes += entry.frame.length;
    const maxBytes = this.#limits.recentBytes ?? DEFAULT_RECENT_BYTES;
    if (this.#recent.length <= this.#limits.recentEdits * 2 && this.#recentBytes <= maxBytes) {
      return;
    }
    // Trim to the count and to three quarters of the size, so that trimming stays rare.
    let start = Math.max(0, this.#recent.length - this.#limits.recentEdits);
    let bytes = 0;
    for (let i = start; i < this.#recent.length; i++) bytes += this.#recent[i].frame.length;
    while (start < this.#recent.length - 1 && bytes > maxBytes * 0.75) {
      bytes -= this.#recent[start].frame.length;
      start++;
    }
    this.#recent = this.#recent.slice(start);
    this.#recentBytes = bytes;
  }

  /** The frames after `since`, or `null` when they are no longer all in memory. */
  #editsAfter(since: number): string[] | null {
    if (since > this.#seq) return null;
    if (since === this.#seq) return [];
    const first = this.#recent[0];
    if (!first || first.seq > since + 1) return null;
    const start = this.#recent.findIndex((e) => e.seq > since);
    return this.#recent.slice(start).map((e) => e.frame);
  }
}

/** `joined` for a peer: who it is now (sent on join, and again on a `profile` change). */
function joinedFrame(peer: Peer): string {
  return JSON.stringify({
    type: "joined",
    peer: peer.id,
    name: peer.name,
    color: peer.color,
    role: peer.role,
  });
}
