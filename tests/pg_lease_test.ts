/** Map leases and fenced commits on a real PostgreSQL 15, with two store instances as two relays. */
import assert from "assert";
import { entries, frame, record } from "../relay/_store_contract.ts";
import { FencedError } from "../relay/pg_lease.ts";
import { PgStore } from "../relay/pg_store.ts";
import { startPostgres } from "./_postgres.ts";
import { until } from "./_process.ts";

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
    // would even continue the journal. Nothing of it is written; the batch is reported, not thrown.
    const stale = [{ seq: 3, frame: frame(3, "a"), client: "ca", id: "ca-3" }];
    const fenced = await a.appendBatches([{ mapId: "m1abcdefgh", entries: stale, lease: leaseA! }]);
    assert.equal(fenced.fenced.length, 1);
    assert.ok(fenced.fenced[0] instanceof FencedError);
    assert.equal(fenced.fenced[0].mapId, "m1abcdefgh");
    assert.deepEqual(fenced.fenced[0].current, { owner: "relay-b", epoch: 2 });
    const next = [{ seq: 4, frame: frame(4, "a"), client: "ca", id: "ca-4" }];
    const again4 = await a.appendBatches([{ mapId: "m1abcdefgh", entries: next, lease: leaseA! }]);
    assert.deepEqual(again4.fenced.map((f) => f.lease.epoch), [1]);
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

Deno.test("PostgreSQL leases: a fenced map in a commit leaves the other maps of the same commit written", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase("dm_fence_one");
  const a = await PgStore.open({ url });
  try {
    await a.createMap(record("m1abcdefgh"));
    await a.createMap(record("m2abcdefgh"));
    const one = await a.acquireLease("m1abcdefgh", "relay-a", LEASE_MS);
    const two = await a.acquireLease("m2abcdefgh", "relay-a", LEASE_MS);
    // Another relay takes m1 (as after an expiry): A's next commit of both maps.
    await pg.psql(
      "dm_fence_one",
      "UPDATE maps SET owner = 'relay-b', owner_epoch = 7 WHERE id = 'm1abcdefgh';",
    );
    const result = await a.appendBatches([
      { mapId: "m1abcdefgh", entries: entries(1, 2), lease: one! },
      { mapId: "m2abcdefgh", entries: entries(1, 2), lease: two! },
    ]);
    assert.deepEqual(result.fenced.map((f) => [f.mapId, f.current]), [
      ["m1abcdefgh", { owner: "relay-b", epoch: 7 }],
    ]);
    assert.deepEqual((await a.loadMap("m1abcdefgh", 10))?.tail, []);
    assert.deepEqual((await a.loadMap("m2abcdefgh", 10))?.tail.map((e) => e.seq), [1, 2]);
  } finally {
    await a.close();
  }
});

Deno.test("PostgreSQL leases: one renewal statement for many maps answers which are still held; a NOTIFY asks the holder", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase("dm_renew");
  const a = await PgStore.open({ url });
  const b = await PgStore.open({ url });
  const heard: string[] = [];
  const listener = a.handoffListener((payload) => heard.push(payload));
  try {
    await listener.ensure();
    assert.ok(listener.listening);
    const ids = ["m1abcdefgh", "m2abcdefgh", "m3abcdefgh"];
    for (const id of ids) await a.createMap(record(id));
    const leases = [];
    for (const id of ids) leases.push((await a.acquireLease(id, "relay-a", LEASE_MS))!);
    await pg.psql(
      "dm_renew",
      "UPDATE maps SET owner_epoch = owner_epoch + 1 WHERE id = 'm2abcdefgh';",
    );
    const kept = await a.renewLeases("relay-a", leases, LEASE_MS);
    assert.deepEqual([...kept].sort(), ["m1abcdefgh", "m3abcdefgh"]);
    assert.deepEqual(await a.renewLeases("relay-a", [], LEASE_MS), new Set());
    assert.equal(await b.requestHandoff("m1abcdefgh", "relay-b"), "relay-a");
    assert.equal(await a.requestHandoff("m1abcdefgh", "relay-a"), null, "not asked of itself");
    // The LISTEN connection cut (as pg_terminate_backend does): listened again on demand.
    await pg.terminateBackends("dm_renew");
    await until(() => !listener.listening, "the listener noticed the cut");
    await until(async () => {
      await listener.ensure();
      return listener.listening;
    }, "listening again");
    assert.equal(await b.requestHandoff("m3abcdefgh", "relay-b"), "relay-a");
    await until(() => heard.length >= 2, "both requests heard");
    assert.deepEqual(heard.map((p) => JSON.parse(p)), [
      { map: "m1abcdefgh", from: "relay-b" },
      { map: "m3abcdefgh", from: "relay-b" },
    ]);
  } finally {
    await listener.close();
    await a.close();
    await b.close();
  }
});
