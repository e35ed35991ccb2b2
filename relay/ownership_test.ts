/** Unit tests of map leases (relay/ownership.ts) with a fake lease store and fake timers. */
import assert from "assert";
import { FakeTimers } from "./_fake_timers.ts";
import { LeaseMetrics } from "./metrics.ts";
import { Ownership } from "./ownership.ts";
import type { LeaseStore, MoveReason } from "./ownership.ts";
import type { Lease } from "./pg_lease.ts";

/** A lease table in memory; `renewLeases` may be held (a database that does not answer). */
class FakeLeaseStore implements LeaseStore {
  owners = new Map<string, { owner: string; epoch: number }>();
  renewals: Lease[][] = [];
  released: Lease[] = [];
  handoffRequests: string[] = [];
  /** While set, renewals wait for this promise (then answer as usual) or fail with it. */
  hold: Promise<void> | null = null;

  acquireLease(mapId: string, owner: string): Promise<Lease | null> {
    const row = this.owners.get(mapId);
    if (row && row.owner !== owner) return Promise.resolve(null);
    const epoch = (row?.epoch ?? 0) + 1;
    this.owners.set(mapId, { owner, epoch });
    return Promise.resolve({ mapId, owner, epoch, headSeq: 0 });
  }

  async renewLeases(owner: string, leases: readonly Lease[]): Promise<Set<string>> {
    this.renewals.push([...leases]);
    if (this.hold) await this.hold;
    return new Set(
      leases.filter((l) => {
        const row = this.owners.get(l.mapId);
        return row?.owner === owner && row.epoch === l.epoch;
      }).map((l) => l.mapId),
    );
  }

  releaseLease(lease: Lease): Promise<boolean> {
    this.released.push(lease);
    const row = this.owners.get(lease.mapId);
    if (row?.owner !== lease.owner || row.epoch !== lease.epoch) return Promise.resolve(false);
    this.owners.set(lease.mapId, { owner: "", epoch: row.epoch });
    this.owners.delete(lease.mapId);
    return Promise.resolve(true);
  }

  requestHandoff(mapId: string): Promise<string | null> {
    this.handoffRequests.push(mapId);
    return Promise.resolve(this.owners.get(mapId)?.owner ?? null);
  }
}

function setup(leaseMs = 1500) {
  const timers = new FakeTimers(0);
  const store = new FakeLeaseStore();
  const metrics = new LeaseMetrics();
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const moved: [string, MoveReason][] = [];
  const ownership = new Ownership({
    store,
    relayId: "r1",
    leaseMs,
    timers,
    acquireTimeoutMs: 2000,
    logger: { log: (event, fields = {}) => logs.push({ event, fields }) },
    metrics,
    moveOut: (mapId, why) => {
      moved.push([mapId, why]);
      ownership.release(mapId);
    },
  });
  /** Lets promise callbacks run (the fake store answers at once). */
  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  /** Advances the clock in steps, letting promise callbacks run between them. */
  const advance = async (ms: number, step = 10) => {
    for (let done = 0; done < ms; done += step) {
      timers.advance(Math.min(step, ms - done));
      await settle();
    }
  };
  const events = (name: string) => logs.filter((l) => l.event === name).map((l) => l.fields);
  return { timers, store, metrics, ownership, moved, settle, advance, events };
}

Deno.test("ownership: every lease renewed in one call every min(1000, lease/3) ms; a map not renewed is moved out (lease_lost)", async () => {
  const t = setup(1500);
  assert.equal(t.ownership.renewEveryMs, 500);
  assert.equal(await t.ownership.acquire("m1"), "ok");
  assert.equal(await t.ownership.acquire("m2"), "ok");
  assert.deepEqual(t.events("lease_acquired"), [{ map: "m1", epoch: 1 }, { map: "m2", epoch: 1 }]);
  assert.equal(t.metrics.owned, 2);
  await t.settle();
  t.store.renewals = [];
  await t.advance(500);
  assert.deepEqual(t.store.renewals.map((r) => r.map((l) => l.mapId)), [["m1", "m2"]]);
  // Another relay takes m2: the next round learns it.
  t.store.owners.set("m2", { owner: "r2", epoch: 2 });
  await t.advance(500);
  assert.deepEqual(t.moved, [["m2", "lost"]]);
  assert.deepEqual(t.events("lease_lost"), [{ map: "m2", reason: "taken" }]);
  assert.equal(t.ownership.leaseOf("m2"), undefined);
  assert.equal(t.ownership.leaseOf("m1")?.epoch, 1);
  assert.equal(t.metrics.owned, 1);
  // Renewing every 500 ms keeps m1 for good, and the relay healthy.
  await t.advance(5000, 50);
  assert.equal(t.ownership.fenced, false);
  assert.equal(t.moved.length, 1);
  assert.equal(new Set(t.store.renewals.slice(-3).map((r) => r.length)).size, 1);
  await t.ownership.close();
  assert.equal(t.timers.pending, 0);
});

Deno.test("ownership: no renewal answered for a lease after it was sent: the maps are self-fenced at that deadline, fenced until a renewal succeeds", async () => {
  const t = setup(1500);
  await t.advance(100);
  let answer!: () => void;
  assert.equal(await t.ownership.acquire("m1"), "ok"); // sent at 100: valid until 1600
  t.store.hold = new Promise((resolve) => answer = resolve);
  await t.advance(1490, 10);
  assert.equal(t.timers.now(), 1590);
  assert.deepEqual(t.moved, []);
  assert.equal(t.ownership.fenced, false);
  await t.advance(10);
  assert.deepEqual(t.moved, [["m1", "self_fenced"]]);
  assert.deepEqual(t.events("self_fenced"), [{ maps: ["m1"], late_ms: 0 }]);
  assert.equal(t.metrics.selfFenced, 1);
  assert.equal(t.ownership.fenced, true);
  assert.equal(t.ownership.leaseOf("m1"), undefined);
  // The round sent at 500 has had no answer for a whole lease at the tick of 2000: counted as failed.
  assert.equal(t.metrics.renewFailures, 0);
  await t.advance(400);
  assert.equal(t.metrics.renewFailures, 1);
  assert.deepEqual(t.events("lease_renew_failed"), [{ maps: 0, error: "no answer in 1500 ms" }]);
  // The database answers again: the next successful round makes the relay healthy.
  answer();
  t.store.hold = null;
  await t.advance(1000);
  assert.equal(t.ownership.fenced, false);
  assert.equal(t.metrics.renewFailures, 1);
  await t.ownership.close();
});

Deno.test("ownership: a round unanswered for a lease counts once as failed, even when it fails later", async () => {
  const t = setup(1500);
  assert.equal(await t.ownership.acquire("m1"), "ok");
  let fail!: (err: Error) => void;
  const hung = t.store.hold = new Promise((_, reject) => fail = reject);
  hung.catch(() => {});
  await t.advance(1990); // the round sent at 500 hangs
  assert.equal(t.metrics.renewFailures, 0);
  t.store.hold = null;
  await t.advance(10); // at 2000 it counts as failed, and the round sent then succeeds
  assert.equal(t.metrics.renewFailures, 1);
  fail(new Error("connection terminated"));
  await t.advance(1000);
  assert.equal(t.metrics.renewFailures, 1);
  assert.equal(t.ownership.fenced, false);
  await t.ownership.close();
});

Deno.test("ownership: failed renewals are counted, and a renewal that succeeds in time keeps the lease", async () => {
  const t = setup(3000);
  assert.equal(t.ownership.renewEveryMs, 1000);
  assert.equal(await t.ownership.acquire("m1"), "ok");
  t.store.hold = Promise.reject(new Error("connection terminated"));
  t.store.hold.catch(() => {});
  await t.advance(1500, 50);
  assert.equal(t.metrics.renewFailures, 1);
  assert.deepEqual(t.moved, []);
  // The round sent at 2000 succeeds: valid until 5000, and on and on.
  t.store.hold = null;
  await t.advance(5000, 50);
  assert.deepEqual(t.moved, [], "renewed before the lease ran out");
  assert.equal(t.ownership.fenced, false);
  await t.ownership.close();
});

Deno.test("ownership: a map leaving memory gives its lease back; close waits for the releases", async () => {
  const t = setup();
  assert.equal(await t.ownership.acquire("m1"), "ok");
  const lease = t.ownership.leaseOf("m1");
  t.ownership.release("m1");
  t.ownership.release("m1");
  await t.ownership.close();
  assert.deepEqual(t.store.released, [lease]);
  assert.deepEqual(t.events("lease_released"), [{ map: "m1" }]);
  assert.equal(t.metrics.owned, 0);
  assert.equal(t.store.owners.has("m1"), false);
});

Deno.test("ownership: a handoff request is served once the map has been held a second (no ping-pong), then counted", async () => {
  const t = setup();
  assert.equal(await t.ownership.acquire("m1"), "ok");
  await t.advance(200);
  t.ownership.handoffRequested({ map: "m1", from: "r2" });
  t.ownership.handoffRequested({ map: "m1", from: "r2" });
  t.ownership.handoffRequested({ map: "m1", from: "r1" });
  t.ownership.handoffRequested({ map: "other", from: "r2" });
  await t.advance(790);
  assert.deepEqual(t.moved, [], "held 990 ms: not yet");
  await t.advance(10);
  assert.deepEqual(t.moved, [["m1", "handoff"]]);
  assert.deepEqual(t.events("handoff_released"), [{ map: "m1", to: "r2" }]);
  assert.equal(t.metrics.handoffsOut, 1);
  assert.equal(t.store.owners.has("m1"), false, "released");
  await t.ownership.close();
});

Deno.test("ownership: acquiring a map another relay holds asks it, retries, and gets it when released; gives up at the timeout", async () => {
  const t = setup();
  t.store.owners.set("m1", { owner: "r2", epoch: 4 });
  const got = t.ownership.acquire("m1");
  await t.advance(1200, 50);
  assert.deepEqual(t.store.handoffRequests, ["m1", "m1"], "asked again after a second");
  assert.deepEqual(t.events("handoff_requested"), [{ map: "m1", owner: "r2" }]);
  t.store.owners.delete("m1");
  await t.advance(200, 50);
  assert.equal(await got, "ok");
  assert.equal(t.metrics.handoffsIn, 1);

  t.store.owners.set("m2", { owner: "r2", epoch: 1 });
  const refused = t.ownership.acquire("m2");
  await t.advance(2500, 50);
  assert.equal(await refused, "busy");
  assert.equal(t.ownership.leaseOf("m2"), undefined);
  await t.ownership.close();
});

Deno.test("ownership: a fenced commit is counted and forgets only the lease it was made under", async () => {
  const t = setup();
  assert.equal(await t.ownership.acquire("m1"), "ok");
  t.ownership.fencedCommit("m1", 0);
  assert.equal(t.ownership.leaseOf("m1")?.epoch, 1);
  t.ownership.fencedCommit("m1", 1);
  assert.equal(t.ownership.leaseOf("m1"), undefined);
  assert.equal(t.metrics.fencedCommits, 2);
  await t.ownership.close();
});
