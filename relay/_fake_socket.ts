/** A fake peer socket for the relay's unit tests. */
import type { PeerSocket } from "./peer.ts";

/** A socket that records what is sent; `buffered` fakes the unsent bytes. */
export class FakeSocket implements PeerSocket {
  /** Every text sent, in order. */
  sent: string[] = [];
  /** What `bufferedAmount` reports. */
  buffered = 0;
  /** False once `close` was called. */
  isOpen = true;
  /** Records the text. */
  send(text: string): void {
    this.sent.push(text);
  }
  /** How the hub closed it, in order (once, unless the hub misbehaves). */
  closes: { code: number; reason: string }[] = [];
  /** Marks the socket closed. */
  close(code = 1005, reason = ""): void {
    this.isOpen = false;
    this.closes.push({ code, reason });
  }
  /** The faked unsent bytes. */
  get bufferedAmount(): number {
    return this.buffered;
  }
}
