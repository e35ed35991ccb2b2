/** Cluster chaos: a relay's link to PostgreSQL cut (pg_terminate_backend, and its role barred from logging in again). */
import assert from "assert";
import { startCluster } from "./_cluster.ts";
import {
  ackedAtLeast,
  assertInvariants,
  burst,
  firstAckAfter,
  owningRelay,
  proxiedPeers,
  reconnectTimes,
  report,
} from "./_cluster_checks.ts";
import { until } from "./_process.ts";

const LEASE_MS = 1500;

Deno.test("cluster: an owner whose database link is cut recovers from one cut, fences itself (/healthz 503 'fenced') while it lasts, and no seq is issued twice", async () => {
  await using cluster = await startCluster({ relays: 3, leaseMs: LEASE_MS });
  const map = await cluster.createMap("link cut");
  const peers = await proxiedPeers(cluster, map, 3);
  try {
    const { relay: owner, row: before } = await owningRelay(cluster, map.id);
    const sending = burst(peers, 150, 20);
    await ackedAtLeast(peers, 30);

    // One cut: its sessions ended once; the pool reconnects and edits go on being acknowledged.
    const terminated = Number(
      await cluster.sql(
        `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '${owner.id}';`,
      ),
    );
    assert.ok(terminated >= 1, "the owner had sessions to end");
    const acked = peers.reduce((n, p) => n + p.acked.size, 0);
    await ackedAtLeast(peers, acked + 20);

    // A lasting cut: it cannot renew its lease, so it stops sequencing and says so.
    const cutAt = performance.now();
    await owner.cutDatabase();
    await until(
      async () => {
        const h = await owner.healthz();
        return h.status === 503 && h.body.status === "fenced";
      },
      "the cut-off owner to report /healthz 503 fenced",
      10_000,
      20,
    );
    const fencedAfterMs = performance.now() - cutAt;
    await until(
      async () => (await cluster.ownerOf(map.id))?.owner !== owner.id,
      "another relay to take the map",
      20_000,
    );
    const takenAfterMs = performance.now() - cutAt;
    const during = (await cluster.ownerOf(map.id))!;
    assert.ok(during.epoch > before.epoch, `epoch ${before.epoch} -> ${during.epoch}`);
    // It noticed the cut through its renewals. (Whether it also counted a self-fence depends on
    // whether a failed commit had already dropped the map: both stop its sequencing.)
    // A renewal refused by the database counts at once, one left without an answer once it has
    // waited a whole lease.
    await until(
      async () => await owner.metric("duplexmap_lease_renew_failures_total") >= 1,
      "the cut-off owner to count failed renewals",
      3 * LEASE_MS,
    );
    const renewFailures = await owner.metric("duplexmap_lease_renew_failures_total");
    const selfFenced = await owner.metric("duplexmap_self_fenced_total");

    await owner.restoreDatabase();
    const restoredAt = performance.now();
    await until(async () => (await owner.healthz()).status === 200, "the owner healthy again");
    const healthyAfterMs = performance.now() - restoredAt;
    await sending;
    await assertInvariants(cluster, map, peers);
    report("database link cut", {
      leaseMs: LEASE_MS,
      edits: (await cluster.ownerOf(map.id))?.headSeq,
      fencedAfterCutMs: Math.round(fencedAfterMs),
      takenOverAfterCutMs: Math.round(takenAfterMs),
      firstAckAfterCutMs: Math.round(firstAckAfter(peers, cutAt)),
      healthyAfterRestoreMs: Math.round(healthyAfterMs),
      renewFailures,
      renewErrors: owner.logs.filter((l) => l.event === "lease_renew_failed").map((l) => l.error),
      selfFenced,
      reconnectMs: reconnectTimes(peers),
      closes: peers.flatMap((p) => p.closes.map((c) => `${c.code} ${c.reason}`)),
    });
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
  }
});
