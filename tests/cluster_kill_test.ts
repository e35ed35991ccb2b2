/** Cluster chaos: the owner of a map killed with SIGKILL during an edit burst from several peers behind HAProxy. */
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

const LEASE_MS = 1500;

Deno.test("cluster: kill -9 of a map's owner mid-burst loses no acknowledged edit, seqs stay contiguous, every peer converges", async () => {
  await using cluster = await startCluster({ relays: 3, leaseMs: LEASE_MS });
  const map = await cluster.createMap("kill -9");
  const peers = await proxiedPeers(cluster, map, 3);
  try {
    const { relay: owner, row: before } = await owningRelay(cluster, map.id);

    const sending = burst(peers, 120, 15);
    await ackedAtLeast(peers, 60);
    const killedAt = performance.now();
    await owner.kill("SIGKILL");
    await sending;
    await assertInvariants(cluster, map, peers);

    const after = await cluster.ownerOf(map.id);
    assert.notEqual(after?.owner, owner.id, "another relay owns the map");
    assert.ok(after!.epoch > before.epoch, `epoch ${before.epoch} -> ${after!.epoch}`);
    for (const peer of peers) assert.ok(peer.closes.length >= 1, `${peer.client} was cut off`);
    report("kill -9", {
      leaseMs: LEASE_MS,
      edits: after!.headSeq,
      firstAckAfterKillMs: Math.round(firstAckAfter(peers, killedAt)),
      reconnectMs: reconnectTimes(peers),
      closes: peers.flatMap((p) => p.closes.map((c) => c.code)),
    });
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
  }
});
