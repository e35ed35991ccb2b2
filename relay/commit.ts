/** A turn's commit: its maps' edits go to the journal as one append; a failure drops those maps. */
import type { Connections } from "./connections.ts";
import type { Durability, Ticket } from "./durability.ts";
import type { Journal } from "./journal.ts";
import type { Logger } from "./log.ts";
import type { MapRegistry } from "./map_registry.ts";
import { DuplicateEditError } from "./map_store.ts";
import type { AppendResult } from "./map_store.ts";
import type { FencedError, Lease } from "./pg_lease.ts";
import { CloseCode, MOVED_REASON } from "./protocol.ts";
import type { Room } from "./room.ts";

/** What the committer needs of map leases (relay/ownership.ts), with several relays. */
export interface CommitLeases {
  /** The lease a map is held under: its commits are fenced by it. */
  leaseOf(mapId: string): Lease | undefined;
  /** A commit of the map under `epoch` was fenced (another relay owns it now). */
  fencedCommit(mapId: string, epoch: number): void;
}

/** What {@link Committer} uses of its hub. */
export interface CommitterOptions {
  /** Where the edits are written. */
  journal: Journal;
  /** Issues each commit's ticket. */
  durability: Durability;
  /** The maps: live or dropped, and their snapshots. */
  maps: MapRegistry;
  /** Closes the peers of a map whose commit failed. */
  conns: Connections;
  /** Where a failed commit is logged. */
  logger: Logger;
  /** Commit `ticket` finished, written or failed: release what waited for it. */
  committed(ticket: Ticket): void;
  /** Runs a promise callback's work; an exception is logged, never thrown on. */
  safely(where: string, work: () => void): void;
  /** Map leases, with several relays on one database. @default none (SQLite) */
  leases?: CommitLeases;
}

/** Commits the hub's turns; journal calls finish in order, so tickets settle in order. */
export class Committer {
  #o: CommitterOptions;

  /** A committer for one hub. */
  constructor(options: CommitterOptions) {
    this.#o = options;
  }

  /**
   * Hands the edits of `rooms` to the journal as one commit. When it is written, snapshots are
   * taken where due; when it fails, those maps leave memory and their peers must reconnect.
   */
  commit(rooms: Room[]): void {
    const o = this.#o;
    // A room dropped after a failed commit is not written again: it reloads from the store.
    let pending = rooms.filter((r) => r.hasUnsaved && o.maps.isLive(r));
    const leases = o.leases;
    if (leases && pending.some((r) => !leases.leaseOf(r.id))) {
      // A map whose lease this relay no longer holds (lost, self-fenced) must not be written.
      for (const room of pending) if (!leases.leaseOf(room.id)) this.moved(room, false);
      pending = pending.filter((r) => o.maps.isLive(r));
    }
    if (pending.length === 0) return;
    const ticket = o.durability.issue();
    const batches = pending.map((room) => ({
      mapId: room.id,
      entries: room.takeUnsaved(),
      ...room.comments.takeUnsaved(),
      // Each map's edits are written only under the lease they were sequenced under.
      ...(leases && { lease: leases.leaseOf(room.id) }),
    }));
    o.journal.append(batches).then(
      (result) =>
        o.safely("committed", () => {
          const fenced = result ? this.#fenced(pending, result) : null;
          const duplicated = new Set<Room>();
          for (const err of result?.duplicates ?? []) {
            const room = pending.find((r) => r.id === err.mapId);
            if (!room) continue;
            o.logger.log("store_failed", { error: String(err), maps: [room.id] });
            this.#notWritten(room, err);
            duplicated.add(room);
          }
          o.committed(ticket);
          for (const room of pending) {
            if (!fenced?.has(room) && !duplicated.has(room)) o.maps.snapshotIfDue(room);
          }
        }),
      (err) =>
        o.safely("commit_failed", () => {
          o.logger.log("store_failed", { error: String(err), maps: pending.map((r) => r.id) });
          for (const room of pending) this.#notWritten(room, err);
          o.committed(ticket);
        }),
    );
  }

  /**
   * A map whose edits the store did not write: they are applied in memory but not durable, so
   * they must not be acknowledged. The map leaves memory (it reloads from the store) and its peers
   * must reconnect; the author of an edit the store already had is told `duplicate`, so it stops
   * re-sending it.
   */
  #notWritten(room: Room, err: unknown): void {
    this.#o.maps.drop(room);
    for (const peer of [...room.peers()]) {
      peer.discard();
      if (err instanceof DuplicateEditError && err.mapId === room.id) {
        for (const e of err.edits) {
          if (e.client === peer.client) peer.enqueue(duplicate(e.id));
        }
      }
      this.#o.conns.close(peer, CloseCode.InternalError, "storage failure; reconnect");
    }
  }

  /**
   * Drops the maps whose batches the store left out because another relay owns them now: their
   * edits were not written and are never acknowledged (what waits for this ticket is discarded
   * before the ticket is released); their peers reconnect, to the map's owner.
   */
  #fenced(pending: Room[], result: AppendResult): Set<Room> {
    const dropped = new Set<Room>();
    for (const err of result.fenced) {
      const room = pending.find((r) => r.id === err.mapId);
      if (!room) continue;
      this.#o.logger.log("commit_fenced", fencedFields(err));
      this.#o.leases?.fencedCommit(err.mapId, err.lease.epoch);
      this.moved(room, false);
      dropped.add(room);
    }
    return dropped;
  }

  /**
   * Takes a map this relay no longer sequences out of memory and closes its peers 1012 "moved".
   * `keepQueued`: what is queued for them (all durable: a handoff) still goes out first; otherwise
   * it is discarded (edits that may never be written must not be acknowledged).
   */
  moved(room: Room, keepQueued: boolean): void {
    this.#o.maps.drop(room);
    for (const peer of [...room.peers()]) {
      if (!keepQueued) peer.discard();
      this.#o.conns.close(peer, CloseCode.Moved, MOVED_REASON);
    }
  }
}

/** The `commit_fenced` log line's fields. */
function fencedFields(err: FencedError): Record<string, unknown> {
  return {
    map: err.mapId,
    epoch: err.lease.epoch,
    current_epoch: err.current.epoch,
    owner: err.current.owner,
  };
}

/** The `rejected` `duplicate` answer for an edit the store already holds. */
function duplicate(id: string): string {
  return JSON.stringify({
    type: "rejected",
    id,
    code: "duplicate",
    message: `edit ${JSON.stringify(id)} was already applied`,
  });
}
