/** One connected peer: its transport, its outbox batched per event-loop turn, its presence. */
import type { PeerInfo, Role } from "./protocol.ts";

/**
 * The little a peer needs from its transport; a WebSocket and the HTTP fallback both provide it,
 * and unit tests use a fake.
 */
export interface PeerSocket {
  /** Sends one text frame. */
  send(text: string): void;
  /** Closes with a code and a short reason. */
  close(code: number, reason: string): void;
  /** Bytes accepted by `send` but not yet written to the network. */
  readonly bufferedAmount: number;
  readonly isOpen: boolean;
}

/** What a peer's flush did. */
export interface FlushResult {
  /** Frames written (0 or 1: the whole outbox goes out as one frame). */
  frames: number;
  /** Messages written. */
  messages: number;
  /** Presence messages dropped because the peer reads too slowly. */
  dropped: number;
  /** The peer's send buffer overflowed; it must be closed with 1013. */
  tooSlow: boolean;
}

/**
 * A peer's identity and outbox. Ordered messages (edits, presence changes of membership, replies)
 * are kept in order; `cursor`/`view` of other peers are keyed so the newest replaces an unsent
 * older one. {@link Peer.flush} writes everything as one frame: a single message as itself, more
 * as a JSON array, which the protocol allows.
 */
export class Peer {
  readonly id: string;
  readonly socket: PeerSocket;
  readonly addr: string;
  name = "";
  color = "#000000";
  role: Role = "viewer";
  client: string | undefined;
  view: PeerInfo["view"];
  cursor: PeerInfo["cursor"];
  #ordered: string[] = [];
  #presence = new Map<string, string>();

  constructor(id: string, socket: PeerSocket, addr: string) {
    this.id = id;
    this.socket = socket;
    this.addr = addr;
  }

  /** Is anything waiting to be sent? */
  get pending(): boolean {
    return this.#ordered.length > 0 || this.#presence.size > 0;
  }

  /** Queues a serialised message that must arrive in order. */
  enqueue(text: string): void {
    this.#ordered.push(text);
  }

  /** Queues another peer's presence; replaces an unsent one of the same kind from that peer. */
  enqueuePresence(key: string, text: string): void {
    this.#presence.delete(key);
    this.#presence.set(key, text);
  }

  /** Forgets unsent presence of a peer that left, so it is not drawn again after `left`. */
  forgetPresenceOf(peerId: string): void {
    this.#presence.delete(`cursor:${peerId}`);
    this.#presence.delete(`view:${peerId}`);
  }

  /** Drops everything unsent (the peer is going away). */
  discard(): void {
    this.#ordered = [];
    this.#presence.clear();
  }

  /**
   * Writes the outbox as one frame. Above half of `maxBuffered` unsent bytes presence is dropped
   * (it is stale by the time it would arrive); above `maxBuffered` the peer is too slow.
   */
  flush(maxBuffered: number): FlushResult {
    const buffered = this.socket.bufferedAmount;
    if (buffered > maxBuffered) {
      const dropped = this.#presence.size;
      this.discard();
      return { frames: 0, messages: 0, dropped, tooSlow: true };
    }
    let dropped = 0;
    const parts = this.#ordered;
    if (buffered > maxBuffered / 2) {
      dropped = this.#presence.size;
    } else {
      for (const text of this.#presence.values()) parts.push(text);
    }
    this.#ordered = [];
    this.#presence.clear();
    if (parts.length === 0) return { frames: 0, messages: 0, dropped, tooSlow: false };
    if (!this.socket.isOpen) return { frames: 0, messages: 0, dropped, tooSlow: false };
    this.socket.send(parts.length === 1 ? parts[0] : `[${parts.join(",")}]`);
    return { frames: 1, messages: parts.length, dropped, tooSlow: false };
  }

  /** The peer as others see it in `welcome.peers`. */
  info(): PeerInfo {
    const info: PeerInfo = { peer: this.id, name: this.name, color: this.color, role: this.role };
    if (this.view) info.view = this.view;
    if (this.cursor !== undefined) info.cursor = this.cursor;
    return info;
  }
}
