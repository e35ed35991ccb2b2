/** The fake peer socket of the relay's unit tests. */
import type { PeerSocket } from "./peer.ts";

/**
 * A socket that records what is sent and how it was closed, optionally into an event log shared
 * with other fakes (to check what happened in which order); `buffered` fakes the unsent bytes.
 */
export class FakeSocket implements PeerSocket {
  /** Every text sent, in order. */
  sent: string[] = [];
  /** What `bufferedAmount` reports. */
  buffered = 0;
  /** False once `close` was called. */
  isOpen = true;
  /** How the hub closed it, in order (once, unless the hub misbehaves). */
  closes: { code: number; reason: string }[] = [];

  /** `name` labels this socket's entries in `events`. */
  constructor(readonly name = "socket", readonly events: string[] = []) {}

  /** Records the text; sending on a closed socket is a bug of the caller. */
  send(text: string): void {
    if (!this.isOpen) throw new Error(`${this.name}: send after close`);
    this.sent.push(text);
    this.events.push(`send ${this.name}`);
  }

  /** Marks the socket closed. */
  close(code = 1005, reason = ""): void {
    this.isOpen = false;
    this.closes.push({ code, reason });
    this.events.push(`close ${this.name} ${code}`);
  }

  /** The faked unsent bytes. */
  get bufferedAmount(): number {
    return this.buffered;
  }

  bufferedAbove(bytes: number): boolean {
    return this.buffered > bytes;
  }
}
