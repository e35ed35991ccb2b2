/** End-to-end: acknowledged edits survive `kill -9`; SIGTERM closes peers with 1001 and exits 0. */
import assert from "assert";
import { createMap, startRelay } from "./_relay.ts";
import { type EditMsg, join, withTimeout } from "./_ws.ts";
import { canonicalFeatures, feature, getFeatures, point, put, square } from "./_fixtures.ts";
import { until } from "./_process.ts";

Deno.test("kill -9 in the middle of a stream of edits: every acknowledged edit is there after restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "duplexmap-kill9-" });
  try {
    const map = await (async () => {
      const relay = await startRelay({ dataDir });
      try {
        const map = await createMap(relay.url, "Durable");
        const { peer: a } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
        const { peer: b } = await join(relay.wsUrl, map.id, map.editKey, { name: "B" });
        // A streams edits without waiting; B streams too, on the features A creates.
        const total = 400;
        for (let i = 0; i < total; i++) {
          a.send({
            type: "edit",
            id: `a-${i}`,
            ops: [put(feature(`k${i}`, point((i % 360) - 180, (i % 170) - 85), { i, by: "A" }))],
          });
        }
        // Kill once some edits are acknowledged, while the rest are still streaming.
        await a.next((m) => m.type === "edit" && m.id === "a-40", 10_000, "the ack of a-40");
        for (let i = 0; i < 20; i++) {
          b.send({
            type: "edit",
            id: `b-${i}`,
            ops: [{ op: "props", fid: `k${i}`, set: { b: i } }],
          });
        }
        await b.next((m) => m.type === "edit" && m.id === "b-0", 10_000, "the ack of b-0");
        await relay.kill();
        await withTimeout(a.closed, 5000, "A's socket to drop");
        await withTimeout(b.closed, 5000, "B's socket to drop");
        const acked = [...a.all("edit"), ...b.all("edit")].filter((e) => e.by !== undefined);
        const ownAcks = (p: typeof a, prefix: string) =>
          p.all("edit").filter((e) => String(e.id).startsWith(prefix));
        const ackedA = ownAcks(a, "a-");
        const ackedB = ownAcks(b, "b-");
        assert.ok(ackedA.length >= 41, `A had ${ackedA.length} acks`);
        assert.ok(ackedA.length < total, "the kill came in the middle of the stream");
        return { ...map, acked, ackedA, ackedB };
      } finally {
        await relay.kill();
      }
    })();

    await using relay = await startRelay({ dataDir });
    const fc = await getFeatures(relay.url, map.id, map.editKey);
    const byId = new Map(fc.features.map((f) => [f.id, f]));
    for (const ack of map.ackedA) {
      const i = Number(String(ack.id).slice(2));
      const f = byId.get(`k${i}`);
      assert.ok(f, `acknowledged edit ${ack.id} (seq ${ack.seq}) is in the map`);
      assert.equal(f.properties?.i, i);
      assert.deepEqual(f.geometry, point((i % 360) - 180, (i % 170) - 85));
    }
    for (const ack of map.ackedB) {
      const i = Number(String(ack.id).slice(2));
      assert.equal(
        byId.get(`k${i}`)?.properties?.b,
        i,
        `acknowledged edit ${ack.id} is in the map`,
      );
    }
    // The map's order goes on from where it was: a new join is at least at the last acked seq.
    const lastSeq = Math.max(...map.acked.map((e: EditMsg) => e.seq));
    const { peer, welcome } = await join(relay.wsUrl, map.id, map.viewKey, { name: "after" });
    await using _p = peer;
    assert.ok(welcome.seq >= lastSeq, `welcome.seq ${welcome.seq} >= last acked ${lastSeq}`);
    assert.deepEqual(welcome.map, { id: map.id, title: "Durable" });
    assert.equal(
      canonicalFeatures(welcome.features?.features ?? []),
      canonicalFeatures(fc.features),
    );
    // And the keys still work after a restart (the map itself is durable).
    const editor = await join(relay.wsUrl, map.id, map.editKey, { name: "editor" });
    await using _e = editor.peer;
    assert.equal(editor.welcome.you.role, "editor");
    editor.peer.send({ type: "edit", id: "post", ops: [put(feature("post", square(0, 0)))] });
    const post = await editor.peer.nextOf("edit", (m) => m.id === "post");
    assert.ok(post.seq > welcome.seq);
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a clean restart keeps maps and features (data dir)", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "duplexmap-restart-" });
  try {
    let map;
    let before;
    {
      await using relay = await startRelay({ dataDir });
      map = await createMap(relay.url, "Kept");
      const { peer } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
      for (let i = 0; i < 30; i++) {
        peer.send({ type: "edit", id: i, ops: [put(feature(`f${i % 7}`, point(i, 0), { i }))] });
      }
      await peer.nextOf("edit", (m) => m.id === 29);
      before = await getFeatures(relay.url, map.id, map.editKey);
      await peer.close();
    }
    await using relay = await startRelay({ dataDir });
    const after = await getFeatures(relay.url, map.id, map.viewKey);
    assert.equal(canonicalFeatures(after.features), canonicalFeatures(before.features));
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("SIGTERM closes every peer with 1001 and exits 0", async () => {
  await using relay = await startRelay();
  const map = await createMap(relay.url);
  const other = await createMap(relay.url);
  const { peer: a } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
  await using _a = a;
  const { peer: b } = await join(relay.wsUrl, map.id, map.viewKey, { name: "B" });
  await using _b = b;
  const { peer: c } = await join(relay.wsUrl, other.id, other.editKey, { name: "C" });
  await using _c = c;
  a.send({ type: "edit", id: 1, ops: [put(feature("x", point(1, 1)))] });
  await b.nextOf("edit");

  const code = await withTimeout(relay.signal("SIGTERM"), 10_000, "exit after SIGTERM");
  for (const p of [a, b, c]) {
    const closed = await withTimeout(p.closed, 5000, "close after SIGTERM");
    assert.equal(closed.code, 1001);
  }
  assert.equal(code, 0, "exit code 0");
});

Deno.test("a map leaves memory after its last peer leaves and comes back from the store on the next join", async () => {
  await using relay = await startRelay({ args: ["--evict-after-ms", "300"] });
  const mapsInMemory = async () => {
    const res = await fetch(`${relay.url}/healthz`);
    return (await res.json()).maps as number;
  };
  const map = await createMap(relay.url, "Comes and goes");
  const { peer: a } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
  for (let i = 0; i < 6; i++) {
    a.send({ type: "edit", id: i, ops: [put(feature(`f${i % 4}`, point(i, i), { i }))] });
  }
  const last = await a.nextOf("edit", (m) => m.id === 5);
  const before = await getFeatures(relay.url, map.id, map.editKey);
  assert.equal(await mapsInMemory(), 1);
  await a.close();

  await until(async () => await mapsInMemory() === 0, "the empty map to leave memory", 15_000);
  // Back from the store: the whole map for a newcomer, only the missed edits for a returning peer.
  const { peer: b, welcome } = await join(relay.wsUrl, map.id, map.viewKey, { name: "B" });
  await using _b = b;
  assert.equal(await mapsInMemory(), 1);
  assert.equal(welcome.seq, last.seq);
  assert.equal(
    canonicalFeatures(welcome.features?.features ?? []),
    canonicalFeatures(before.features),
  );
  const { peer: c, welcome: caughtUp } = await join(relay.wsUrl, map.id, map.viewKey, {
    name: "C",
    since: last.seq - 2,
  });
  await using _c = c;
  assert.equal(caughtUp.features, undefined);
  assert.deepEqual(caughtUp.ops?.map((e) => e.seq), [last.seq - 1, last.seq]);
});
