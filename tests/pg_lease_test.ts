/** Map leases and fenced commits on a real PostgreSQL 15, with two store instances as two relays. */
import assert from "assert";
import { entries, frame, record } from "../relay/_store_contract.ts";
import { FencedError } from "../relay/pg_lease.ts";
import { PgStore } from "../relay/pg_store.ts";
import { startPostgres } from "./_postgres.ts";

const LEASE_MS = 60_000;

Deno.test("PostgreSQL leases: a stale owner's commit is fenced after another relay takes the map", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase("dm_lease");
  const a = await PgStore.open({ url });
  const b = await PgStore.open({ url });
  try {
    await a.createMap(record("m1abcdefgh"));
    const leaseA = await a.acquireLease("m1abcdefgh", "relay-a", LEASE_MS);
    assert.deepEqual(leaseA, { mapId: "m1abcdefgh", owner: "relay-a", epoch: 1, headSeq: 0 });
    await a.appendBatches([{ mapId: "m1abcdefgh", entries: entries(1, 2), lease: leaseA! }]);
    // A live lease keeps every other relay out.
    assert.equal(await b.acquireLease("m1abcdefgh", "relay-b", LEASE_MS), null);
    assert.equal(await b.acquireLease("nosuchmap1", "relay-b", LEASE_MS), null);

    // A stops renewing (paused, cut off): its lease runs out. (Set by hand: no waiting on clocks.)
    await pg.psql("dm_lease", "UPDATE maps SET lease_until = now() - interval '1 second';");
    const leaseB = await b.acquireLease("m1abcdefgh", "relay-b", LEASE_MS);
    assert.deepEqual(leaseB, { mapId: "m1abcdefgh", owner: "relay-b", epoch: 2, headSeq: 2 });
    await b.appendBatches([{ mapId: "m1abcdefgh", entries: entries(3, 3, "cb"), lease: leaseB! }]);

    // A wakes up and commits what it sequenced meanwhile: fenced, whether its seq is taken or
    // would even continue the journal. Nothing of it is written.
    const stale = [{ seq: 3, frame: frame(3, "a"), client: "ca", id: "ca-3" }];
    const fenced = await a.appendBatches([{ mapId: "m1abcdefgh", entries: stale, lease: leaseA! }])
      .then(() => null, (err) => err);
    assert.ok(fenced instanceof FencedError, String(fenced));
    assert.deepEqual(fenced.current, { owner: "relay-b", epoch: 2 });
    const next = [{ seq: 4, frame: frame(4, "a"), client: "ca", id: "ca-4" }];
    await assert.rejects(
      () => a.appendBatches([{ mapId: "m1abcdefgh", entries: next, lease: leaseA! }]),
      FencedError,
    );
    assert.equal(await a.renewLease(leaseA!, LEASE_MS), false, "A learns it lost the map");
    assert.equal(await b.renewLease(leaseB!, LEASE_MS), true);
    const tail = (await b.loadMap("m1abcdefgh", 10))?.tail ?? [];
    assert.deepEqual(tail.map((e) => e.seq), [1, 2, 3]);
    assert.equal(tail[2].frame, frame(3));

    // B hands the map back cleanly: the next taker needs no expiry and gets a higher epoch.
    assert.equal(await a.releaseLease(leaseA!), false);
    assert.equal(await b.releaseLease(leaseB!), true);
    const again = await a.acquireLease("m1abcdefgh", "relay-a", LEASE_MS);
    assert.equal(again?.epoch, 3);
    assert.equal(again?.headSeq, 3);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("PostgreSQL leases: two relays racing for an expired lease, exactly one gets it", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase("dm_race");
  const stores = await Promise.all([1, 2, 3, 4].map(() => PgStore.open({ url })));
  try {
    await stores[0].createMap(record("m1abcdefgh"));
    for (let round = 1; round <= 5; round++) {
      await pg.psql("dm_race", "UPDATE maps SET lease_until = now() - interval '1 second';");
      const got = await Promise.all(
        stores.map((s, i) => s.acquireLease("m1abcdefgh", `relay-${round}-${i}`, LEASE_MS)),
      );
      const winners = got.filter((l) => l !== null);
      assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(got)}`);
      assert.equal(winners[0]!.epoch, round);
    }
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});
