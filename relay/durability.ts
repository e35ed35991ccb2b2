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
  /** Peers whose outbox waits for a commit, by the ticket each waits for. */
  #held = new Map<Peer, Ticket>();
  /** The same peers grouped by ticket, so a commit releases only those it makes durable. */
  #byTicket = new Map<Ticket, Set<Peer>>();
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

  /**
   * `peer` has messages waiting for commit `ticket` (without one: the next commit to finish); it
   * is released by the {@link committed} that makes that ticket durable. Waking only those keeps
   * a commit from re-flushing every peer that waits for a later one (at 10 000 peers with edits
   * in flight, a fifth of the relay's time went there).
   */
  hold(peer: Peer, ticket: Ticket = this.#durable + 1): void {
    this.release(peer);
    this.#held.set(peer, ticket);
    let peers = this.#byTicket.get(ticket);
    if (!peers) this.#byTicket.set(ticket, peers = new Set());
    peers.add(peer);
  }

  /** Forgets a peer that went away. */
  release(peer: Peer): void {
    const ticket = this.#held.get(peer);
    if (ticket === undefined) return;
    this.#held.delete(peer);
    const peers = this.#byTicket.get(ticket);
    peers?.delete(peer);
    if (peers?.size === 0) this.#byTicket.delete(ticket);
  }

  /**
   * Commit `ticket` finished: moves the peers it was holding into `released`, to be flushed before
   * {@link wake} resumes anyone awaiting it.
   */
  committed(ticket: Ticket, released: Set<Peer>): void {
    this.#durable = Math.max(this.#durable, ticket);
    for (const [waitsFor, peers] of this.#byTicket) {
      if (waitsFor > this.#durable) continue;
      for (const peer of peers) {
        released.add(peer);
        this.#held.delete(peer);
      }
      this.#byTicket.delete(waitsFor);
    }
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
