/** A turn's commit: its maps' edits go to the journal as one append; a failure drops those maps. */
import type { Connections } from "./connections.ts";
import type { Durability, Ticket } from "./durability.ts";
import type { Journal } from "./journal.ts";
import type { Logger } from "./log.ts";
import type { MapRegistry } from "./map_registry.ts";
import { DuplicateEditError } from "./map_store.ts";
import { CloseCode } from "./protocol.ts";
import type { Room } from "./room.ts";

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
    const pending = rooms.filter((r) => r.hasUnsaved && o.maps.isLive(r));
    if (pending.length === 0) return;
    const ticket = o.durability.issue();
    const batches = pending.map((room) => ({
      mapId: room.id,
      entries: room.takeUnsaved(),
      ...room.comments.takeUnsaved(),
    }));
    o.journal.append(batches).then(
      () =>
        o.safely("committed", () => {
          o.committed(ticket);
          for (const room of pending) o.maps.snapshotIfDue(room);
        }),
      (err) =>
        o.safely("commit_failed", () => {
          // The edits are applied in memory but not durable: they must not be acknowledged. Drop
          // the rooms from memory (they reload from the store) and make their peers reconnect.
          o.logger.log("store_failed", { error: String(err), maps: pending.map((r) => r.id) });
          for (const room of pending) {
            o.maps.drop(room);
            for (const peer of [...room.peers()]) {
              peer.discard();
              // An edit the store already had: its author stops re-sending it.
              if (err instanceof DuplicateEditError && err.mapId === room.id) {
                for (const e of err.edits) {
                  if (e.client === peer.client) peer.enqueue(duplicate(e.id));
                }
              }
              o.conns.close(peer, CloseCode.InternalError, "storage failure; reconnect");
            }
          }
          o.committed(ticket);
        }),
    );
  }
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
