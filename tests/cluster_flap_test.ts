/** Cluster chaos: HAProxy's health of each relay flaps (stats socket: maint, then ready) while peers edit several maps. */
import assert from "assert";
import { startCluster } from "./_cluster.ts";
import {
  assertInvariants,
  burst,
  proxiedPeers,
  reconnectTimes,
  report,
} from "./_cluster_checks.ts";
import { sleep, until } from "./_process.ts";

Deno.test("cluster: relays put in maintenance and back under load; invariants hold, handoffs counted, ownership follows HAProxy", async () => {
  await using cluster = await startCluster({ relays: 3, leaseMs: 1500 });
  const maps: Awaited<ReturnType<typeof cluster.createMap>>[] = [];
  for (let i = 0; i < 3; i++) maps.push(await cluster.createMap(`flap ${i}`));
  const peersOf = await Promise.all(maps.map((m, i) => proxiedPeers(cluster, m, 2, `m${i}p`)));
  const peers = peersOf.flat();
  try {
    const sending = burst(peers, 200, 25);
    // Each relay in turn: drained (its WebSockets cut, its maps rehashed to the others), then
    // back (its maps hash to it again and are handed back as peers come).
    for (const relay of cluster.relays) {
      assert.equal(
        (await cluster.haproxy.stats(`set server be_relays/${relay.server} state maint`)).trim(),
        "",
      );
      await sleep(800);
      assert.equal(
        (await cluster.haproxy.stats(`set server be_relays/${relay.server} state ready`)).trim(),
        "",
      );
      await sleep(800);
    }
    await sending;
    for (const [i, map] of maps.entries()) await assertInvariants(cluster, map, peersOf[i]);

    // Ownership converges to HAProxy's choice: a request for the map reaches the relay HAProxy
    // hashes it to, which takes the map (a handoff if another relay still holds it).
    for (const map of maps) {
      const res = await cluster.haproxy.fetch(`/api/maps/${map.id}/features?key=${map.viewKey}`);
      assert.equal(res.status, 200);
      await res.body?.cancel();
      await until(
        () => cluster.haproxy.logs.some((l) => l.includes(`/api/maps/${map.id}/features`)),
        "the log line",
      );
      const server = /be_relays\/(relay\d)/.exec(
        cluster.haproxy.logs.findLast((l) => l.includes(`/api/maps/${map.id}/features`))!,
      )![1];
      const chosen = cluster.relays.find((r) => r.server === server)!;
      await until(
        async () => (await cluster.ownerOf(map.id))?.owner === chosen.id,
        `${chosen.id} to own ${map.id}`,
      );
    }
    for (const [i, map] of maps.entries()) await assertInvariants(cluster, map, peersOf[i]);

    const handoffsIn = (await Promise.all(
      cluster.relays.map((r) => r.metric("duplexmap_handoffs_total", 'direction="in"')),
    )).reduce((a, b) => a + b, 0);
    const handoffsOut = (await Promise.all(
      cluster.relays.map((r) => r.metric("duplexmap_handoffs_total", 'direction="out"')),
    )).reduce((a, b) => a + b, 0);
    assert.ok(handoffsIn > 0, "maps were handed from a live relay to another");
    report("health flaps", {
      maps: maps.length,
      edits: await Promise.all(maps.map(async (m) => (await cluster.ownerOf(m.id))?.headSeq)),
      handoffsIn,
      handoffsOut,
      reconnectMs: reconnectTimes(peers),
      closes: peers.flatMap((p) => p.closes.map((c) => `${c.code} ${c.reason}`)),
    });
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
  }
});
