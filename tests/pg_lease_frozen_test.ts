/** A relay frozen in the middle of a commit must not keep its maps from the others: real PostgreSQL 15. */
import assert from "assert";
import postgres from "postgres";
import { entries, record } from "../relay/_store_contract.ts";
import { PgStore } from "../relay/pg_store.ts";
import { startPostgres } from "./_postgres.ts";

const LEASE_MS = 60_000;

/** `p`, or an error once `ms` have passed (an UPDATE waiting on a row lock would wait forever). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} still waiting after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("PostgreSQL leases: taking a map whose row a frozen owner has locked mid-commit does not wait on the lock", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase("dm_frozen");
  const b = await PgStore.open({ url });
  // The frozen owner: a session that began its commit (the head_seq UPDATE) and then stopped.
  const frozen = postgres(url, { max: 1, onnotice: () => {} });
  let unfreeze: () => void = () => {};
  const holding = new Promise<void>((r) => unfreeze = r);
  try {
    await b.createMap(record("m1frozen01"));
    // Relay A's lease on it has run out (set by hand: no waiting on clocks)...
    await pg.psql(
      "dm_frozen",
      "UPDATE maps SET owner = 'relay-a', owner_epoch = 1, lease_until = now() - interval '1 second';",
    );
    // ...and it is frozen in the middle of a commit: its transaction has locked the map's row.
    let locked: () => void = () => {};
    const isLocked = new Promise<void>((r) => locked = r);
    const tx = frozen.begin(async (sql) => {
      await sql`UPDATE maps SET head_seq = head_seq WHERE id = 'm1frozen01'`;
      locked();
      await holding;
    });
    await isLocked;
    // The taker is told "not now" at once, so its connection (and its own renewals) stay free...
    assert.equal(
      await within(b.acquireLease("m1frozen01", "relay-b", LEASE_MS), 5000, "acquire"),
      null,
    );
    // ...and its other maps' leases still renew.
    await b.createMap(record("m2frozen02"));
    const other = await b.acquireLease("m2frozen02", "relay-b", LEASE_MS);
    assert.ok(other);
    assert.deepEqual(
      [...await within(b.renewLeases("relay-b", [other], LEASE_MS), 5000, "renew")],
      [
        "m2frozen02",
      ],
    );
    // Once the frozen transaction is gone, the map is taken with a higher epoch.
    unfreeze();
    await tx;
    const lease = await b.acquireLease("m1frozen01", "relay-b", LEASE_MS);
    assert.equal(lease?.epoch, 2);
    await b.appendBatches([{ mapId: "m1frozen01", entries: entries(1, 1), lease: lease! }]);
  } finally {
    unfreeze();
    await frozen.end({ timeout: 1 });
    await b.close();
  }
});

Deno.test("PostgreSQL store: a session idle in a transaction for longer than the lease is ended by the server", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase("dm_idle");
  const store = await PgStore.open({ url, idleInTransactionMs: 1500 });
  try {
    // A relay frozen mid-commit holds its row locks until its transaction ends: the server ends it.
    assert.equal(await store.sessionSetting("idle_in_transaction_session_timeout"), "1500ms");
  } finally {
    await store.close();
  }
});
