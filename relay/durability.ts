/** Commit tickets: which turn's edits are durable, who waits for them, and whose outbox is held. */
import type { Peer } from "./peer.ts";

/**
 * A commit ticket: the hub's count of commits handed to the journal. Rooms and peers only carry
 * it and compare it with {@link Durability.durable}; the hub issues and settles it here.
 */
export type Ticket = number;

/**
 * Tracks commits from issue to durable. Journal calls finish in order, so "durable" is one
 * number: every ticket up to it is written.
 *
 * @example
 * ```ts
 * import { Durability } from "./durability.ts";
 * const d = new Durability();
 * const ticket = d.issue();
 * const written = d.wait(ticket);
 * d.committed(ticket, new Set());
 * d.wake();
 * await written;
 * ```
 */
export class Durability {
  #issued: Ticket = 0;
  #durable: Ticket = 0;
  /** Peers whose outbox waits for a commit. */
  #held = new Set<Peer>();
  #waiters: { ticket: Ticket; resolve: () => void }[] = [];

  /** The last ticket issued. */
  get issued(): Ticket {
    return this.#issued;
  }

  /** The ticket this turn's edits will be committed under. */
  get next(): Ticket {
    return this.#issued + 1;
  }

  /** The last ticket whose commit finished. */
  get durable(): Ticket {
    return this.#durable;
  }

  /** Issues the ticket of a commit being handed to the journal. */
  issue(): Ticket {
    return ++this.#issued;
  }

  /** `peer` has messages waiting for a commit; it is released by {@link committed}. */
  hold(peer: Peer): void {
    this.#held.add(peer);
  }

  /** Forgets a peer that went away. */
  release(peer: Peer): void {
    this.#held.delete(peer);
  }

  /**
   * Commit `ticket` finished: moves the held peers into `released`, to be flushed before
   * {@link wake} resumes anyone awaiting it.
   */
  committed(ticket: Ticket, released: Set<Peer>): void {
    this.#durable = Math.max(this.#durable, ticket);
    for (const peer of this.#held) released.add(peer);
    this.#held.clear();
  }

  /** Resolves the waits whose ticket is durable now. */
  wake(): void {
    const durable = this.#durable;
    const ready = this.#waiters.filter((w) => w.ticket <= durable);
    this.#waiters = this.#waiters.filter((w) => w.ticket > durable);
    for (const w of ready) w.resolve();
  }

  /** Resolves once `ticket` is durable (at once when it is already). */
  wait(ticket: Ticket): Promise<void> {
    if (ticket <= this.#durable) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ ticket, resolve }));
  }
}
