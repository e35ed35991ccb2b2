/**
 * One sequencer per map (issue 13, work in progress): leases on the `maps` row with a fencing
 * epoch, taken, renewed and released with one conditional UPDATE each.
 */
import type { Sql, TransactionSql } from "postgres";

/** A relay's hold on a map: who, under which fencing epoch, and where the journal stood. */
export interface Lease {
  /** The map held. */
  mapId: string;
  /** The holder (a relay's id, stable for its lifetime). */
  owner: string;
  /** The fencing token: bumped by every acquisition, so a former holder's commits fail. */
  epoch: number;
  /** The journal's last seq when the lease was taken (the new owner loads up to here). */
  headSeq: number;
}

/**
 * A commit by a relay whose lease is no longer the map's: another relay took the map (a higher
 * epoch). The edits were not written; the relay must drop the map and tell its peers to
 * reconnect ("moved").
 */
export class FencedError extends Error {
  /** Names the error in logs. */
  override name = "FencedError";
  /** The map whose commit was refused. */
  readonly mapId: string;
  /** The lease the commit was made under. */
  readonly lease: Lease;
  /** The map's owner and epoch now (owner `null` when released). */
  readonly current: { owner: string | null; epoch: number };
  /** The refused commit's map, its stale lease, and who holds the map now. */
  constructor(lease: Lease, current: { owner: string | null; epoch: number }) {
    super(
      `commit to map ${lease.mapId} fenced: made under epoch ${lease.epoch} by ${lease.owner}, ` +
        `the map is at epoch ${current.epoch} held by ${current.owner ?? "nobody"}`,
    );
    this.mapId = lease.mapId;
    this.lease = lease;
    this.current = current;
  }
}

/**
 * Takes `mapId` for `owner` for `leaseMs` (by the database's clock) when its lease is free,
 * expired, or already `owner`'s; bumps the epoch either way. `null` when another live relay holds
 * it, or there is no such map. Two relays racing for one map: the row lock lets one in, the other
 * finds the lease taken.
 */
export async function acquireLease(
  sql: Sql,
  mapId: string,
  owner: string,
  leaseMs: number,
): Promise<Lease | null> {
  // SKIP LOCKED: a row locked by a commit under way (or by an owner frozen in the middle of one,
  // until the server ends its idle transaction) counts as held. Waiting on that lock would tie up
  // a pooled connection for as long as the owner stays frozen, and with it this relay's renewals.
  const rows = await sql`
    UPDATE maps SET owner = ${owner}, owner_epoch = owner_epoch + 1,
      lease_until = clock_timestamp() + ${leaseMs} * interval '1 millisecond'
    WHERE id = (
      SELECT id FROM maps WHERE id = ${mapId}
        AND (owner IS NULL OR owner = ${owner} OR lease_until < clock_timestamp())
      FOR UPDATE SKIP LOCKED
    )
    RETURNING owner_epoch, head_seq
  `;
  if (rows.length === 0) return null;
  return { mapId, owner, epoch: Number(rows[0].owner_epoch), headSeq: Number(rows[0].head_seq) };
}

/** Extends `lease` by `leaseMs`; false when it is no longer the map's (taken over: stop now). */
export async function renewLease(sql: Sql, lease: Lease, leaseMs: number): Promise<boolean> {
  const rows = await sql`
    UPDATE maps SET lease_until = clock_timestamp() + ${leaseMs} * interval '1 millisecond'
    WHERE id = ${lease.mapId} AND owner = ${lease.owner} AND owner_epoch = ${lease.epoch}
    RETURNING id
  `;
  return rows.length === 1;
}

/** Gives the map up (a clean handoff or shutdown); false when it was not held under `lease`. */
export async function releaseLease(sql: Sql, lease: Lease): Promise<boolean> {
  const rows = await sql`
    UPDATE maps SET owner = NULL, lease_until = NULL
    WHERE id = ${lease.mapId} AND owner = ${lease.owner} AND owner_epoch = ${lease.epoch}
    RETURNING id
  `;
  return rows.length === 1;
}

/**
 * Throws {@link FencedError} when `lease` is not the map's lease now (called, in the commit's
 * transaction, after its conditional UPDATE changed nothing); returns when the lease still holds
 * (the refusal was then about `head_seq`).
 */
export async function assertLease(tx: TransactionSql, lease: Lease): Promise<void> {
  const rows = await tx`SELECT owner, owner_epoch FROM maps WHERE id = ${lease.mapId}`;
  if (rows.length === 0) return;
  const owner = rows[0].owner === null ? null : String(rows[0].owner);
  const epoch = Number(rows[0].owner_epoch);
  if (owner !== lease.owner || epoch !== lease.epoch) {
    throw new FencedError(lease, { owner, epoch });
  }
}

/**
 * Extends every lease in `leases` (all `owner`'s) by `leaseMs` in one statement; resolves with the
 * ids of the maps still held. A map missing from the answer was taken over (or released): its
 * owner must stop sequencing it. With no leases it still asks the database something, so the
 * caller learns whether the database answers.
 */
export async function renewLeases(
  sql: Sql,
  owner: string,
  leases: readonly Lease[],
  leaseMs: number,
): Promise<Set<string>> {
  if (leases.length === 0) {
    await sql`SELECT 1`;
    return new Set();
  }
  const ids = leases.map((l) => l.mapId);
  const epochs = leases.map((l) => l.epoch);
  const rows = await sql`
    UPDATE maps SET lease_until = clock_timestamp() + ${leaseMs} * interval '1 millisecond'
    WHERE owner = ${owner}
      AND (id, owner_epoch) IN (SELECT * FROM unnest(${ids}::text[], ${epochs}::bigint[]))
    RETURNING id
  `;
  return new Set(rows.map((r) => String(r.id)));
}

/** The channel relays ask each other for maps on (LISTEN/NOTIFY). */
export const HANDOFF_CHANNEL = "duplexmap_handoff";

/** A handoff request: `from` wants `map`, which another relay holds. */
export interface HandoffRequest {
  /** The map wanted. */
  map: string;
  /** The relay asking for it. */
  from: string;
}

/**
 * Asks the relay holding `mapId` to give it up for `from` (a NOTIFY on {@link HANDOFF_CHANNEL}, in
 * the same statement as reading who holds it); resolves with that holder, `null` when nobody does.
 */
export async function requestHandoff(
  sql: Sql,
  mapId: string,
  from: string,
): Promise<string | null> {
  const payload = JSON.stringify({ map: mapId, from } satisfies HandoffRequest);
  const rows = await sql`
    SELECT owner, pg_notify(${HANDOFF_CHANNEL}, ${payload}) FROM maps
    WHERE id = ${mapId} AND owner IS NOT NULL AND owner <> ${from}
  `;
  return rows.length === 0 ? null : String(rows[0].owner);
}

/** A handoff request's payload, or `null` when it is not one (another version's, or garbage). */
export function parseHandoff(payload: string): HandoffRequest | null {
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value !== "object" || value === null) return null;
    const { map, from } = value as Record<string, unknown>;
    return typeof map === "string" && typeof from === "string" ? { map, from } : null;
  } catch {
    return null;
  }
}
