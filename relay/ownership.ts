/** One sequencer per map across relays: the leases this relay holds, renewed, fenced, handed over. */
import type { HandoffRequest, Lease } from "./pg_lease.ts";
import type { Logger } from "./log.ts";
import type { LeaseMetrics } from "./metrics.ts";
import type { TimerId, Timers } from "./timers.ts";

/** What {@link Ownership} needs of the database (relay/pg_lease.ts; a fake in unit tests). */
export interface LeaseStore {
  /** Takes a map's lease when it is free, expired or this relay's; `null` while another holds it. */
  acquireLease(mapId: string, owner: string, leaseMs: number): Promise<Lease | null>;
  /** Renews all of `owner`'s `leases` in one statement; the ids of the maps still held. */
  renewLeases(owner: string, leases: readonly Lease[], leaseMs: number): Promise<Set<string>>;
  /** Gives a map up; false when it was not held under that lease. */
  releaseLease(lease: Lease): Promise<boolean>;
  /** Asks the map's holder to hand it over; that holder's id, or `null` when nobody holds it. */
  requestHandoff(mapId: string, from: string): Promise<string | null>;
}

/** Why a map leaves this relay: taken over, not renewed in time, or handed to another relay. */
export type MoveReason = "lost" | "self_fenced" | "handoff";

/** Options for {@link Ownership}. */
export interface OwnershipOptions {
  /** The leases' table. */
  store: LeaseStore;
  /** This relay's id (`--relay-id`). */
  relayId: string;
  /** A lease's length (`--lease-ms`). */
  leaseMs: number;
  /** A monotonic clock and timers: a lease counts as this relay's by this clock only. */
  timers: Timers;
  /** How long an acquisition may wait for another relay to hand a map over (the hello timeout). */
  acquireTimeoutMs: number;
  /** Where lease events are logged. */
  logger: Logger;
  /** Counters for `/metrics`. */
  metrics: LeaseMetrics;
  /**
   * Takes a map this relay no longer sequences out of memory and closes its peers 1012 "moved";
   * for a handoff, once everything of it is durable.
   */
  moveOut(mapId: string, why: MoveReason): Promise<void> | void;
  /** Keeps the handoff LISTEN in place; called every renewal. @default nothing */
  listen?: () => unknown;
  /** Stops the handoff LISTEN (at {@link Ownership.close}). @default nothing */
  close?: () => Promise<void>;
  /** Time between acquisition attempts while another relay holds the map. @default 150 */
  retryMs?: number;
  /** A map held for less than this is handed over only once it has been held this long. @default 1000 */
  minHoldMs?: number;
}

/** A lease held: since when (to hold a map a while before handing it on) and until when it counts. */
interface Held {
  lease: Lease;
  since: number;
  validUntil: number;
}

/**
 * The leases of the maps this relay has in memory (with `--store postgres://…`). A map's lease is
 * taken before it is loaded, so the load sees everything the previous owner committed; all leases
 * are renewed every min(1000, lease/3) ms in one statement. A lease counts as valid until the time
 * its last successful renewal was *sent* plus the lease, by this relay's monotonic clock: past
 * that, the relay stops sequencing those maps by itself (self-fencing) before another relay can
 * have taken them, and reports itself fenced until renewals succeed again.
 *
 * @example
 * ```ts ignore
 * const ownership = new Ownership({ store, relayId: "r1", leaseMs: 4000, timers, ... });
 * if (await ownership.acquire(mapId) === "ok") loadTheMap();
 * ```
 */
export class Ownership {
  #o: OwnershipOptions;
  #held = new Map<string, Held>();
  #handing = new Set<string>();
  #pending = new Set<Promise<unknown>>();
  #lastOkSentAt: number;
  #renewSentAt: number | null = null;
  /** The send time of a round counted as failed because it went unanswered for a lease. */
  #hungCounted: number | null = null;
  #tick: TimerId | undefined;
  #fenceTimer: TimerId | undefined;
  #closed = false;

  /** Checks the options and starts the renewal loop. */
  constructor(options: OwnershipOptions) {
    if (!(options?.leaseMs >= 1)) {
      throw new RangeError(
        `Cannot create Ownership as 'leaseMs' must be >= 1: received ${options?.leaseMs}`,
      );
    }
    this.#o = options;
    this.#lastOkSentAt = options.timers.now();
    this.#tick = options.timers.setInterval(() => this.#renew(), this.renewEveryMs);
    this.#renew();
  }

  /** How often the leases are renewed: min(1000, lease/3) ms. */
  get renewEveryMs(): number {
    return Math.max(1, Math.min(1000, Math.floor(this.#o.leaseMs / 3)));
  }

  /** Maps held. */
  get size(): number {
    return this.#held.size;
  }

  /** True while no renewal sent within the last lease has succeeded (`/healthz` answers 503). */
  get fenced(): boolean {
    return this.#o.timers.now() >= this.#lastOkSentAt + this.#o.leaseMs;
  }

  /** The lease a map is held under, for fencing its commits. */
  leaseOf(mapId: string): Lease | undefined {
    return this.#held.get(mapId)?.lease;
  }

  /**
   * Takes a map's lease before it is loaded. While another live relay holds it, asks that relay to
   * hand it over and tries again every `retryMs` until the lease is free or has expired, for at
   * most `acquireTimeoutMs` ("busy"); "unreachable" when the database fails.
   */
  async acquire(mapId: string): Promise<"ok" | "busy" | "unreachable"> {
    const { store, relayId, leaseMs, timers, logger } = this.#o;
    const deadline = timers.now() + this.#o.acquireTimeoutMs;
    const retryMs = this.#o.retryMs ?? 150;
    let askedAt: number | null = null;
    while (!this.#closed) {
      const sentAt = timers.now();
      let lease: Lease | null;
      try {
        lease = await store.acquireLease(mapId, relayId, leaseMs);
        if (!lease && (askedAt === null || timers.now() - askedAt >= 1000)) {
          // Asked again every second: a request sent while its holder was not listening is lost.
          const owner = await store.requestHandoff(mapId, relayId);
          if (askedAt === null && owner !== null) {
            logger.log("handoff_requested", { map: mapId, owner });
          }
          askedAt = timers.now();
        }
      } catch (err) {
        logger.log("lease_failed", { map: mapId, error: String(err) });
        return "unreachable";
      }
      if (lease) {
        if (this.#closed) {
          this.#releaseLease(lease);
          return "busy";
        }
        this.#held.set(mapId, { lease, since: timers.now(), validUntil: sentAt + leaseMs });
        // An answered acquisition is as good a sign of a reachable database as a renewal.
        this.#lastOkSentAt = Math.max(this.#lastOkSentAt, sentAt);
        this.#o.metrics.owned = this.#held.size;
        if (askedAt !== null) this.#o.metrics.handoffsIn++;
        logger.log("lease_acquired", { map: mapId, epoch: lease.epoch });
        this.#armFence();
        return "ok";
      }
      if (timers.now() + retryMs > deadline) return "busy";
      await new Promise<void>((resolve) => timers.setTimeout(resolve, retryMs));
    }
    return "busy";
  }

  /** The map left memory: its lease is given up (in the background; {@link close} waits). */
  release(mapId: string): void {
    const held = this.#held.get(mapId);
    if (!held) return;
    this.#forget(mapId);
    this.#releaseLease(held.lease);
  }

  /** A commit under `epoch` was fenced: the map is another relay's now (counted). */
  fencedCommit(mapId: string, epoch: number): void {
    this.#o.metrics.fencedCommits++;
    if (this.#held.get(mapId)?.lease.epoch === epoch) this.#forget(mapId);
  }

  /**
   * Another relay asks for a map (NOTIFY). A map held for at least `minHoldMs` is handed over at
   * once (its commits finish, its peers are told "moved", the lease is released); one taken more
   * recently only once it has been held that long, so two relays cannot bounce a map back and forth.
   */
  handoffRequested(request: HandoffRequest): void {
    const { map, from } = request;
    const held = this.#held.get(map);
    if (this.#closed || from === this.#o.relayId || !held || this.#handing.has(map)) return;
    this.#handing.add(map);
    const wait = Math.max(0, held.since + (this.#o.minHoldMs ?? 1000) - this.#o.timers.now());
    this.#o.timers.setTimeout(() => {
      if (this.#held.get(map) !== held || this.#closed) {
        this.#handing.delete(map);
        return;
      }
      const done = Promise.resolve()
        .then(() => this.#o.moveOut(map, "handoff"))
        .then(() => {
          // Moving out released the lease when it dropped the map; make sure of it.
          this.release(map);
          this.#o.metrics.handoffsOut++;
          this.#o.logger.log("handoff_released", { map, to: from });
        }, (err) => this.#o.logger.log("handoff_failed", { map, to: from, error: String(err) }))
        .finally(() => this.#handing.delete(map));
      this.#track(done);
    }, wait);
  }

  /** Stops renewing and waits for the releases under way (call after the maps left memory). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#o.timers.clearInterval(this.#tick);
    this.#o.timers.clearTimeout(this.#fenceTimer);
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    await this.#o.close?.();
  }

  /** One renewal round: every lease held, in one statement. */
  #renew(): void {
    if (this.#closed) return;
    const { store, relayId, leaseMs, timers, metrics, logger } = this.#o;
    void this.#o.listen?.();
    // One round at a time, unless the one under way has hung for a whole lease: then it counts as
    // failed (once, however it ends), and another is sent.
    if (this.#renewSentAt !== null) {
      const waited = timers.now() - this.#renewSentAt;
      if (waited < leaseMs) return;
      this.#hungCounted = this.#renewSentAt;
      this.#renewFailed(this.#held.size, `no answer in ${Math.round(waited)} ms`);
    }
    const sent = [...this.#held.values()].map((h) => h.lease);
    const sentAt = this.#renewSentAt = timers.now();
    const round = store.renewLeases(relayId, sent, leaseMs).then((kept) => {
      metrics.observeRenew((timers.now() - sentAt) / 1000);
      this.#lastOkSentAt = Math.max(this.#lastOkSentAt, sentAt);
      for (const lease of sent) {
        const held = this.#held.get(lease.mapId);
        if (held?.lease !== lease) continue;
        if (kept.has(lease.mapId)) {
          held.validUntil = Math.max(held.validUntil, sentAt + leaseMs);
          continue;
        }
        this.#forget(lease.mapId);
        logger.log("lease_lost", { map: lease.mapId, reason: "taken" });
        this.#move(lease.mapId, "lost");
      }
    }, (err) => {
      if (this.#hungCounted !== sentAt) this.#renewFailed(sent.length, String(err));
    }).finally(() => {
      if (this.#renewSentAt === sentAt) this.#renewSentAt = null;
      this.#armFence();
    });
    this.#track(round);
  }

  /** Counts and logs a renewal round that failed, or went unanswered for a whole lease. */
  #renewFailed(maps: number, error: string): void {
    this.#o.metrics.renewFailures++;
    this.#o.logger.log("lease_renew_failed", { maps, error });
  }

  /** Sets the self-fencing timer to the earliest moment a held lease stops counting. */
  #armFence(): void {
    const { timers } = this.#o;
    timers.clearTimeout(this.#fenceTimer);
    this.#fenceTimer = undefined;
    if (this.#closed || this.#held.size === 0) return;
    let earliest = Infinity;
    for (const held of this.#held.values()) earliest = Math.min(earliest, held.validUntil);
    this.#fenceTimer = timers.setTimeout(
      () => this.#selfFence(),
      Math.max(0, earliest - timers.now()),
    );
  }

  /** Stops sequencing every map whose lease may have run out by now (self-fencing). */
  #selfFence(): void {
    const now = this.#o.timers.now();
    const expired = [...this.#held.values()].filter((h) => h.validUntil <= now);
    if (expired.length > 0) {
      const late = now - Math.min(...expired.map((h) => h.validUntil));
      this.#o.metrics.selfFenced++;
      this.#o.logger.log("self_fenced", {
        maps: expired.map((h) => h.lease.mapId),
        late_ms: Math.round(late),
      });
      for (const held of expired) {
        this.#forget(held.lease.mapId);
        this.#move(held.lease.mapId, "self_fenced");
        // Given up at once when the database still answers, so another relay need not wait.
        this.#releaseLease(held.lease);
      }
    }
    this.#armFence();
  }

  #move(mapId: string, why: MoveReason): void {
    this.#track(
      Promise.resolve().then(() => this.#o.moveOut(mapId, why)).catch((err) =>
        this.#o.logger.log("internal_error", { where: "move_out", map: mapId, error: String(err) })
      ),
    );
  }

  #forget(mapId: string): void {
    this.#held.delete(mapId);
    this.#o.metrics.owned = this.#held.size;
  }

  #releaseLease(lease: Lease): void {
    this.#track(
      this.#o.store.releaseLease(lease).then((released) => {
        if (released) this.#o.logger.log("lease_released", { map: lease.mapId });
      }, () => {
        // Unreachable: the lease runs out by itself.
      }),
    );
  }

  #track(work: Promise<unknown>): void {
    this.#pending.add(work);
    work.finally(() => this.#pending.delete(work));
  }
}
