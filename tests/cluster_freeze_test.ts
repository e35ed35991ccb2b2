/** Cluster chaos: a map's owner frozen (SIGSTOP) for longer than its lease, then resumed (SIGCONT). */
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
import { EditorPeer } from "./_editor_peer.ts";
import { sleep, until } from "./_process.ts";

const LEASE_MS = 1500;

Deno.test("cluster: an owner frozen past its lease loses the map to a relay with a higher epoch; resumed, it issues no seq twice and tells its peers 'moved'", async () => {
  await using cluster = await startCluster({ relays: 3, leaseMs: LEASE_MS });
  const map = await cluster.createMap("SIGSTOP");
  const proxied = await proxiedPeers(cluster, map, 2);
  const { relay: frozen, row: before } = await owningRelay(cluster, map.id);
  // Two peers straight at the owner (bypassing HAProxy, which would cut them when it marks the
  // relay down): they are still connected when it resumes. Afterwards they come back through
  // HAProxy, as a real client would.
  const direct = Array.from({ length: 2 }, (_, i) =>
    new EditorPeer({
      open: (attempt) =>
        attempt === 0
          ? new WebSocket(`${frozen.wsUrl}/ws/${map.id}`, ["duplexmap.v1"])
          : cluster.haproxy.webSocket(`/ws/${map.id}`, { protocols: ["duplexmap.v1"] }),
      key: map.editKey,
      client: `d${i + 1}`,
    }));
  await Promise.all(direct.map((p) => p.start()));
  const peers = [...proxied, ...direct];
  try {
    const sending = burst(peers, 150, 20);
    await ackedAtLeast(peers, 40);
    const frozenAt = performance.now();
    await frozen.kill("SIGSTOP");
    // The direct peers' edits keep arriving in its socket buffers while it is frozen.
    await until(
      async () => (await cluster.ownerOf(map.id))?.owner !== frozen.id,
      "another relay to take the map",
      20_000,
    );
    const takenAfterMs = performance.now() - frozenAt;
    const during = (await cluster.ownerOf(map.id))!;
    assert.ok(during.epoch > before.epoch, `epoch ${before.epoch} -> ${during.epoch}`);
    // Frozen for longer than its lease in any case (a fault's length, not a measurement).
    await sleep(Math.max(0, 2 * LEASE_MS - (performance.now() - frozenAt)));
    const resumedAt = performance.now();
    await frozen.kill("SIGCONT");

    for (const peer of direct) {
      await peer.until(
        () => peer.closes.some((c) => c.code === 1012 && c.reason === "moved"),
        15_000,
        "close 1012 'moved' from the resumed relay",
      );
    }
    await sending;
    await assertInvariants(cluster, map, peers);
    assert.ok(
      frozen.logs.some((l) =>
        ["commit_fenced", "lease_lost", "self_fenced"].includes(l.event) &&
        (l.map === map.id || (Array.isArray(l.maps) && l.maps.includes(map.id)))
      ),
      "the resumed relay logged that it lost the map",
    );
    const after = (await cluster.ownerOf(map.id))!;
    assert.ok(after.epoch >= during.epoch);
    report("SIGSTOP", {
      leaseMs: LEASE_MS,
      edits: after.headSeq,
      takenOverAfterMs: Math.round(takenAfterMs),
      firstAckAfterFreezeMs: Math.round(firstAckAfter(proxied, frozenAt)),
      directPeersMovedAfterResumeMs: direct.map((p) =>
        Math.round(p.closes.find((c) => c.code === 1012)!.at - resumedAt)
      ),
      reconnectMs: reconnectTimes(peers),
      epochs: [before.epoch, during.epoch, after.epoch],
    });
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
  }
});
