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
  /**
   * Is {@link bufferedAmount} above `bytes`? Asked for every peer at every flush, so a transport
   * where reading the amount costs a call into the runtime answers from what it knows if it can.
   */
  bufferedAbove(bytes: number): boolean;
  /** False once closed (or closing). */
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
  /** Messages wait for a commit to become durable; flush again when it is. */
  held: boolean;
  /** When held: the commit ticket the first waiting message needs. */
  heldFor?: number;
}

/**
 * The frame built for the last peer in one hub flush. Peers of one map usually get the same
 * messages in a turn (the same echo strings, in the same order): the next peer whose messages
 * are those very strings reuses the frame instead of joining them again. One per flush, so it
 * never holds a frame longer than that.
 */
export class FrameCache {
  #parts: readonly string[] = [];
  #frame = "";

  /** The frame for `parts`: one message as it is, several as a JSON array. */
  frame(parts: readonly string[]): string {
    if (parts.length === 1) return parts[0];
    const last = this.#parts;
    if (last.length === parts.length && parts.every((part, i) => part === last[i])) {
      return this.#frame;
    }
    this.#parts = parts;
    this.#frame = `[${parts.join(",")}]`;
    return this.#frame;
  }
}

/**
 * A peer's identity and outbox. Ordered messages (edits, presence changes of membership, replies)
 * are kept in order; `cursor`/`view` of other peers are keyed so the newest replaces an unsent
 * older one. {@link Peer.flush} writes everything as one frame: a single message as itself, more
 * as a JSON array, which the protocol allows.
 */
export class Peer {
  /** The peer id others see. */
  readonly id: string;
  /** Its transport. */
  readonly socket: PeerSocket;
  /** The client's address. */
  readonly addr: string;
  /** Display name from `hello`/`profile`. */
  name = "";
  /** Colour from `hello`/`profile`, lower case. */
  color = "#000000";
  /** Editor or viewer, from the key it used. */
  role: Role = "viewer";
  /** The client id from `hello`, for recognising re-sent edits. */
  client: string | undefined;
  /** It said `comments` in `hello`: it is sent comments and settings (extension). */
  comments = false;
  /** The public id of its browser's author key from `hello`, if it sent one (extension). */
  author: string | undefined;
  /** Its last viewport. */
  view: PeerInfo["view"];
  /** Its last cursor position. */
  cursor: PeerInfo["cursor"];
  #ordered: string[] = [];
  /** For each ordered message, the commit ticket that must be durable before it may be sent. */
  #tickets: number[] = [];
  #presence = new Map<string, string>();

  /** A peer with an empty outbox. */
  constructor(id: string, socket: PeerSocket, addr: string) {
    this.id = id;
    this.socket = socket;
    this.addr = addr;
  }

  /** Is anything waiting to be sent? */
  get pending(): boolean {
    return this.#ordered.length > 0 || this.#presence.size > 0;
  }

  /**
   * Queues a serialised message that must arrive in order; with a `ticket`, it (and everything
   * queued after it) waits until that commit is durable.
   */
  enqueue(text: string, ticket = 0): void {
    this.#ordered.push(text);
    this.#tickets.push(ticket);
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
    this.#tickets = [];
    this.#presence.clear();
  }

  /**
   * Writes the outbox as one frame: the ordered messages whose commits are durable (`durable` is
   * the last durable ticket), then, once nothing waits, the presence. Above half of `maxBuffered`
   * unsent bytes presence is dropped (it is stale by the time it would arrive); above
   * `maxBuffered` the peer is too slow.
   */
  flush(maxBuffered: number, durable = Infinity, frames = new FrameCache()): FlushResult {
    if (this.socket.bufferedAbove(maxBuffered)) {
      const dropped = this.#presence.size;
      this.discard();
      return { frames: 0, messages: 0, dropped, tooSlow: true, held: false };
    }
    let ready = 0;
    while (ready < this.#tickets.length && this.#tickets[ready] <= durable) ready++;
    const held = ready < this.#ordered.length;
    let parts: string[];
    if (held) {
      parts = this.#ordered.slice(0, ready);
      this.#ordered = this.#ordered.slice(ready);
      this.#tickets = this.#tickets.slice(ready);
    } else {
      parts = this.#ordered;
      this.#ordered = [];
      this.#tickets = [];
    }
    let dropped = 0;
    // Presence waits behind held messages: a cursor must not arrive before the welcome.
    // (The socket is asked only when there is presence to send: asking costs a call into Deno.)
    if (!held && this.#presence.size > 0) {
      if (this.socket.bufferedAbove(maxBuffered / 2)) dropped = this.#presence.size;
      else for (const text of this.#presence.values()) parts.push(text);
      this.#presence.clear();
    }
    // What the first waiting message needs, so only that commit wakes this peer again.
    const waits = held ? { heldFor: this.#tickets[0] } : {};
    if (parts.length === 0 || !this.socket.isOpen) {
      return { frames: 0, messages: 0, dropped, tooSlow: false, held, ...waits };
    }
    this.socket.send(frames.frame(parts));
    return { frames: 1, messages: parts.length, dropped, tooSlow: false, held, ...waits };
  }

  /** The peer as others see it in `welcome.peers`. */
  info(): PeerInfo {
    const info: PeerInfo = { peer: this.id, name: this.name, color: this.color, role: this.role };
    if (this.view) info.view = this.view;
    if (this.cursor !== undefined) info.cursor = this.cursor;
    return info;
  }
}
