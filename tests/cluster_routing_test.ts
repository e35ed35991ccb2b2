/** Cluster routing: through HAProxy (haproxy-cluster.cfg) every request for one map reaches one relay, maps spread over the relays, creation works anywhere. */
import assert from "assert";
import { startCluster } from "./_cluster.ts";
import type { Cluster } from "./_cluster.ts";
import { createMap } from "./_relay.ts";
import { makeTestCerts, requireTool, run } from "./_haproxy.ts";
import { openedPeer, withTimeout } from "./_ws.ts";
import { feature, point, put } from "./_fixtures.ts";
import { until } from "./_process.ts";
import { SESSION_HEADER } from "../relay/protocol.ts";

const CLUSTER_CFG = new URL("../haproxy/haproxy-cluster.cfg", import.meta.url).pathname;

Deno.test("haproxy -c accepts haproxy/haproxy-cluster.cfg with its defaults", async () => {
  await requireTool("haproxy", ["-v"], "apt-get install -y haproxy");
  await using certs = await makeTestCerts();
  const out = await run("haproxy", ["-c", "-f", CLUSTER_CFG], {
    env: { DM_CERT: certs.combinedFile, DM_UNPRIVILEGED: "1" },
  });
  assert.ok(out.success, `haproxy -c rejected the cluster config:\n${out.stdout}${out.stderr}`);
  // Hashing with a balance factor would split a busy map over two relays.
  assert.doesNotMatch(await Deno.readTextFile(CLUSTER_CFG), /^\s*hash-balance-factor/m);
});

/** Opens a fallback session through HAProxy, sends one edit, waits for its ack, ends it. */
async function fallbackEdit(cluster: Cluster, mapId: string, key: string, fid: string) {
  const hello = JSON.stringify({ type: "hello", key, name: "fallback", color: "#123456" });
  const res = await cluster.haproxy.fetch(`/rt/${mapId}`, { method: "POST", body: hello });
  assert.equal(res.status, 200, `POST /rt answered ${res.status}`);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const readUntil = async (pattern: RegExp) => {
    while (!pattern.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the event stream ended before ${pattern}: ${text.slice(-300)}`);
      text += value;
    }
    return pattern.exec(text)!;
  };
  const session = (await withTimeout(readUntil(/"session":"([^"]+)"/), 10_000, "session"))[1];
  await withTimeout(readUntil(/"type":"welcome"/), 10_000, "welcome over the fallback");
  const send = await cluster.haproxy.fetch(`/rt/${mapId}/send`, {
    method: "POST",
    headers: { [SESSION_HEADER]: session },
    body: JSON.stringify({ type: "edit", id: `fb-${fid}`, ops: [put(feature(fid, point(1, 1)))] }),
  });
  assert.equal(send.status, 204);
  await withTimeout(readUntil(new RegExp(`"id":"fb-${fid}"`)), 10_000, "the fallback edit's ack");
  const end = await cluster.haproxy.fetch(`/rt/${mapId}`, {
    method: "DELETE",
    headers: { [SESSION_HEADER]: session },
  });
  await end.body?.cancel();
  await reader.cancel().catch(() => {});
}

/** The servers HAProxy's request log names for requests whose path contains `/<mapId>`. */
function serversFor(cluster: Cluster, mapId: string): Set<string> {
  const servers = new Set<string>();
  for (const line of cluster.haproxy.logs) {
    if (!line.includes(`/${mapId}`)) continue;
    const server = /be_relays\/(relay\d+)/.exec(line)?.[1];
    if (server) servers.add(server);
  }
  return servers;
}

Deno.test("cluster: every request for a map (WebSocket, fallback, features, history, page) reaches its one owner relay; maps spread; creation works through any relay", async () => {
  await using cluster = await startCluster({ relays: 3 });
  // Creation: through HAProxy (any relay) and straight at each relay; every map works through
  // HAProxy afterwards whichever relay created it.
  const maps: Awaited<ReturnType<typeof createMap>>[] = [];
  for (let i = 0; i < 9; i++) maps.push(await cluster.createMap(`through HAProxy ${i}`));
  for (const relay of cluster.relays) maps.push(await createMap(relay.url, `at ${relay.id}`));

  for (const [i, map] of maps.entries()) {
    const ws = cluster.haproxy.webSocket(`/ws/${map.id}`, { protocols: ["duplexmap.v1"] });
    const peer = await openedPeer(ws, `peer${i}`);
    await peer.hello(map.editKey, { client: `c${i}` });
    peer.send({ type: "edit", id: "e1", ops: [put(feature(`f${i}`, point(i, i)))] });
    await peer.nextOf("edit", (m) => m.id === "e1");
    await peer.close();
    await fallbackEdit(cluster, map.id, map.editKey, `g${i}`);
    for (const path of [`/api/maps/${map.id}/features`, `/api/maps/${map.id}/history`]) {
      const res = await cluster.haproxy.fetch(`${path}?key=${map.viewKey}`);
      assert.equal(res.status, 200, `${path} answered ${res.status}`);
      await res.body?.cancel();
    }
    const page = await cluster.haproxy.fetch(`/m/${map.id}`);
    assert.equal(page.status, 200);
    await page.body?.cancel();
  }

  // HAProxy logs a request when it ends; 7 per map: upgrade, fallback stream, send, delete,
  // features, history, page.
  await until(
    () => maps.every((m) => cluster.haproxy.logs.filter((l) => l.includes(`/${m.id}`)).length >= 7),
    "HAProxy's log of every request",
  );
  const ownerServer = new Map<string, string>();
  for (const map of maps) {
    const servers = serversFor(cluster, map.id);
    assert.equal(servers.size, 1, `map ${map.id} went to ${[...servers].join(", ")}`);
    ownerServer.set(map.id, [...servers][0]);
  }
  const used = new Set(ownerServer.values());
  assert.ok(used.size >= 2, `12 maps all hashed to ${[...used].join(", ")}`);
  // A request without a map id (creation) has no hash key: HAProxy spreads those round-robin.
  const creators = new Set(
    cluster.haproxy.logs.filter((l) => /"POST \S*\/api\/maps HTTP/.test(l)).map((l) =>
      /be_relays\/(relay\d+)/.exec(l)?.[1]
    ),
  );
  assert.ok(creators.size >= 2, `9 creations all went to ${[...creators].join(", ")}`);

  for (const map of maps) {
    const server = ownerServer.get(map.id)!;
    const relay = cluster.relays.find((r) => r.server === server)!;
    // The relay HAProxy chose is the one that had the map's peers (its own log) ...
    const joinedAt = cluster.relays.filter((r) =>
      r.logs.some((l) => l.event === "connect" && l.map === map.id)
    );
    assert.deepEqual(joinedAt.map((r) => r.id), [relay.id], `peers of ${map.id}`);
    // ... and the one the database names as the map's owner.
    const owner = await cluster.ownerOf(map.id);
    assert.equal(owner?.owner, relay.id, `owner of ${map.id} in SQL`);
    assert.equal(owner?.headSeq, 2);
  }
});
