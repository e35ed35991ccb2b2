/** Cluster chaos: PostgreSQL restarted with `-m immediate` (a crash) during an edit burst through HAProxy. */
import assert from "assert";
import { startCluster } from "./_cluster.ts";
import {
  ackedAtLeast,
  assertInvariants,
  burst,
  firstAckAfter,
  proxiedPeers,
  reconnectTimes,
  report,
} from "./_cluster_checks.ts";
import { sleep } from "./_process.ts";

Deno.test("cluster: PostgreSQL crashed and restarted mid-burst; 0 acknowledged edits lost, the relays recover", async () => {
  await using cluster = await startCluster({ relays: 3, leaseMs: 1500 });
  const map = await cluster.createMap("database crash");
  const peers = await proxiedPeers(cluster, map, 3);
  try {
    const sending = burst(peers, 120, 15);
    await ackedAtLeast(peers, 60);
    const crashedAt = performance.now();
    await cluster.pg.stop("immediate");
    const ackedBefore = peers.map((p) => new Map(p.acked));
    // Down for a while (not a measurement): long enough for commits and lease renewals to fail.
    await sleep(1000);
    await cluster.pg.start();
    const restartedAt = performance.now();
    await sending;
    await assertInvariants(cluster, map, peers);
    // Acknowledged before the crash: still there (assertInvariants checked every ack's seq).
    for (const [i, peer] of peers.entries()) {
      for (const [id, seq] of ackedBefore[i]) assert.equal(peer.acked.get(id), seq);
    }
    // The relays recovered: edits were acknowledged after the restart, and a new one is now.
    assert.ok(peers.some((p) => p.ackTimes.some((t) => t > restartedAt)));
    const last = peers[0].put(0, 0);
    await peers[0].settled();
    assert.ok(peers[0].acked.has(last));
    report("PostgreSQL -m immediate", {
      edits: (await cluster.ownerOf(map.id))?.headSeq,
      firstAckAfterCrashMs: Math.round(firstAckAfter(peers, crashedAt)),
      firstAckAfterRestartMs: Math.round(firstAckAfter(peers, restartedAt)),
      reconnectMs: reconnectTimes(peers),
      closes: peers.flatMap((p) => p.closes.map((c) => `${c.code} ${c.reason}`)),
    });
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
  }
});
