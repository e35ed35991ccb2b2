/** End-to-end: edits, ordering, convergence, catch-up and rejections against a real relay. */
import assert from "assert";
import { createMap, startRelay } from "./_relay.ts";
import { type EditMsg, join, type TestPeer, type WireOp } from "./_ws.ts";
import {
  canonicalFeatures,
  editWithInfinity,
  feature,
  getFeatures,
  INVALID_GEOMETRIES,
  line,
  point,
  prng,
  put,
  Replica,
  square,
} from "./_fixtures.ts";

/** Builds a replica from a peer's welcome snapshot and every edit it received, in arrival order. */
function replicaOf(peer: TestPeer): Replica {
  const welcome = peer.all("welcome")[0];
  assert.ok(welcome?.features, "welcome carried a snapshot");
  const replica = new Replica(welcome.features.features, welcome.seq);
  for (const edit of peer.all("edit")) replica.apply(edit);
  return replica;
}

/** Sends an edit and waits for its answer: the echoed `edit` or a `rejected`. */
async function answerTo(peer: TestPeer, id: string | number, ops: WireOp[]) {
  peer.send({ type: "edit", id, ops });
  return await peer.next(
    (m) => (m.type === "edit" || m.type === "rejected") && m.id === id,
    5000,
    `the answer to edit ${JSON.stringify(id)}`,
  );
}

Deno.test("an edit is echoed to its author and sent to the others with seq, by, id", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const { peer: a, welcome: wa } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
  await using _a = a;
  const { peer: b } = await join(relay.wsUrl, map.id, map.editKey, { name: "B" });
  await using _b = b;
  const ops: WireOp[] = [put(feature("f1", square(10, 50), { name: "field", area: 3 }))];
  const ack = await answerTo(a, "first", ops) as EditMsg;
  assert.equal(ack.type, "edit");
  assert.equal(ack.by, wa.you.peer);
  assert.equal(ack.id, "first");
  assert.ok(ack.seq > wa.seq, "seq grows");
  assert.deepEqual(ack.ops, ops);
  const atB = await b.nextOf("edit");
  assert.deepEqual(atB, ack, "the others get the very same edit");

  // Integer edit ids work too (extension), and seq keeps increasing.
  const second = await answerTo(a, 7, [{ op: "props", fid: "f1", set: { area: 4 } }]) as EditMsg;
  assert.equal(second.type, "edit");
  assert.equal(second.id, 7);
  assert.ok(second.seq > ack.seq);
  const fc = await getFeatures(relay.url, map.id, map.viewKey);
  assert.equal(
    canonicalFeatures(fc.features),
    canonicalFeatures([feature("f1", square(10, 50), { name: "field", area: 4 })]),
  );
});

Deno.test("three peers editing the same features concurrently converge byte-identically", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const names = ["A", "B", "C"];
  const peers: TestPeer[] = [];
  for (const name of names) {
    peers.push((await join(relay.wsUrl, map.id, map.editKey, { name })).peer);
  }
  await using _cleanup = {
    async [Symbol.asyncDispose]() {
      for (const p of peers) await p.close();
    },
  };
  const fids = ["f0", "f1", "f2", "f3"];
  const seeded = await answerTo(
    peers[0],
    "seed",
    fids.map((fid, i) => put(feature(fid, point(i, i), { label: fid }))),
  );
  assert.equal(seeded.type, "edit");

  // The peers take turns sending a few edits each without waiting for answers, with a short pause
  // between rounds, so edits from all three are in flight at once, each made without having seen
  // the others'. All touch the same four features.
  const perPeer = 40;
  const sent: string[][] = peers.map(() => []);
  const rands = peers.map((_, p) => prng(1000 + p));
  const makeOps = (p: number, i: number): WireOp[] => {
    const rand = rands[p];
    const fid = fids[Math.floor(rand() * fids.length)];
    const r = rand();
    if (r < 0.25) {
      return [{ op: "props", fid, set: { [`by${names[p]}`]: i, shared: `${names[p]}${i}` } }];
    } else if (r < 0.45) {
      return [{ op: "geom", fid, geometry: line([p, i / 10], [p + 1, -i / 10]) }];
    } else if (r < 0.65) {
      return [put(feature(fid, square(p * 10, i, 0.5), { owner: names[p], i }))];
    } else if (r < 0.72) {
      return [{ op: "del", fid }];
    } else if (r < 0.82) {
      return [{ op: "props", fid, set: { note: i }, unset: ["shared", "label"] }];
    }
    const other = fids[(fids.indexOf(fid) + 1) % fids.length];
    return [
      { op: "props", fid, set: { pair: `${names[p]}${i}` } },
      { op: "geom", fid: other, geometry: point(-p, -i / 100) },
    ];
  };
  for (let round = 0; sent.some((s) => s.length < perPeer); round++) {
    for (const [p, peer] of peers.entries()) {
      const burst = 1 + Math.floor(rands[p]() * 3);
      for (let k = 0; k < burst && sent[p].length < perPeer; k++) {
        const i = sent[p].length;
        const id = `${names[p]}-${i}`;
        sent[p].push(id);
        peer.send({ type: "edit", id, ops: makeOps(p, i) });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, round % 3));
  }

  // Wait for every edit's answer, then for every peer to have seen the last accepted seq.
  let lastSeq = seeded.seq as number;
  for (const [p, peer] of peers.entries()) {
    for (const id of sent[p]) {
      const answer = await peer.next(
        (m) => (m.type === "edit" || m.type === "rejected") && m.id === id,
        10_000,
        `the answer to ${id}`,
      );
      if (answer.type === "edit") lastSeq = Math.max(lastSeq, answer.seq as number);
      else assert.equal(answer.code, "unknown_feature", `only deleted features cause rejections`);
    }
  }
  for (const peer of peers) {
    await peer.waitFor((m) => m.type === "edit" && m.seq === lastSeq, 10_000, `seq ${lastSeq}`);
  }
  for (const peer of peers) await peer.sync();

  const accepted = peers.map((p) => p.all("edit").map((e) => JSON.stringify(e)));
  assert.deepEqual(accepted[1], accepted[0], "B saw exactly A's sequence of edits");
  assert.deepEqual(accepted[2], accepted[0], "C saw exactly A's sequence of edits");
  assert.ok(accepted[0].length > 20, `many edits were accepted (${accepted[0].length})`);

  console.log(
    "accepted",
    accepted[0].length,
    "rejected",
    peers.map((p) => p.all("rejected").length),
  );
  const texts = peers.map((p) => replicaOf(p).canonical());
  assert.equal(texts[1], texts[0]);
  assert.equal(texts[2], texts[0]);
  const server = await getFeatures(relay.url, map.id, map.editKey);
  assert.equal(server.type, "FeatureCollection");
  assert.equal(canonicalFeatures(server.features), texts[0], "the server's copy is the same");

  // A late joiner's snapshot is that same state, at that same seq.
  const { peer: late, welcome } = await join(relay.wsUrl, map.id, map.viewKey, { name: "Late" });
  await using _late = late;
  assert.equal(welcome.seq, lastSeq);
  assert.ok(welcome.features, "a join without since carries a snapshot");
  assert.equal(canonicalFeatures(welcome.features.features), texts[0]);
});

Deno.test("a late joiner gets the snapshot", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const { peer: a } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
  await using _a = a;
  const features = [
    feature("poly", square(2, 48), { kind: "park", nested: { a: [1, 2] } }),
    feature("road", line([0, 0], [1, 1], [2, 0]), { lanes: 2 }),
    feature("gone", point(3, 3)),
  ];
  await answerTo(a, 1, features.map(put));
  await answerTo(a, 2, [{ op: "del", fid: "gone" }]);
  const last = await answerTo(a, 3, [{ op: "props", fid: "road", set: { lanes: 4 }, unset: [] }]);
  const { peer: late, welcome } = await join(relay.wsUrl, map.id, map.editKey, { name: "Late" });
  await using _late = late;
  assert.equal(welcome.seq, last.seq);
  assert.equal(welcome.ops, undefined, "no since, no ops");
  assert.ok(welcome.features);
  assert.equal(welcome.features.type, "FeatureCollection");
  assert.equal(
    canonicalFeatures(welcome.features.features),
    canonicalFeatures([
      features[0],
      feature("road", line([0, 0], [1, 1], [2, 0]), { lanes: 4 }),
    ]),
  );
});

Deno.test("a reconnect with since gets exactly the missed edits", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const { peer: a } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
  await using _a = a;
  await answerTo(a, "s1", [put(feature("x", point(1, 1)))]);
  const { peer: b, welcome: first } = await join(relay.wsUrl, map.id, map.editKey, {
    name: "B",
    client: "tab-b",
  });
  const before = first.seq;
  await b.close();
  await a.nextOf("left");

  const missed: EditMsg[] = [];
  missed.push(
    await answerTo(a, "m1", [{ op: "geom", fid: "x", geometry: point(2, 2) }]) as EditMsg,
  );
  missed.push(await answerTo(a, "m2", [put(feature("y", square(0, 0), { k: "v" }))]) as EditMsg);
  missed.push(await answerTo(a, "m3", [{ op: "props", fid: "y", set: { k: "w" } }]) as EditMsg);
  assert.deepEqual(missed.map((m) => m.type), ["edit", "edit", "edit"]);

  const { peer: again, welcome } = await join(relay.wsUrl, map.id, map.editKey, {
    name: "B",
    client: "tab-b",
    since: before,
  });
  await using _again = again;
  assert.equal(welcome.seq, missed[2].seq);
  assert.equal(welcome.features, undefined, "a recent since gets ops, not a snapshot");
  assert.ok(welcome.ops, "welcome.ops is present");
  assert.deepEqual(
    welcome.ops.map((e) => JSON.stringify(e)),
    missed.map((e) => JSON.stringify(e)),
    "exactly the missed edit frames, in order",
  );
  // Applying them to the state B had gives the server's state.
  const replica = new Replica(first.features?.features ?? [], before);
  for (const e of welcome.ops) replica.apply(e);
  const server = await getFeatures(relay.url, map.id, map.editKey);
  assert.equal(replica.canonical(), canonicalFeatures(server.features));

  // Nothing missed: since = current seq gives an empty list.
  const { peer: third, welcome: upToDate } = await join(relay.wsUrl, map.id, map.editKey, {
    name: "C",
    since: missed[2].seq,
  });
  await using _third = third;
  assert.deepEqual(upToDate.ops, []);
  assert.equal(upToDate.seq, missed[2].seq);
});

Deno.test("a viewer's edit is rejected with forbidden and changes nothing", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const { peer: editor } = await join(relay.wsUrl, map.id, map.editKey, { name: "E" });
  await using _e = editor;
  const { peer: viewer, welcome } = await join(relay.wsUrl, map.id, map.viewKey, { name: "V" });
  await using _v = viewer;
  assert.equal(welcome.you.role, "viewer");
  const joined = await editor.nextOf("joined");
  assert.equal(joined.peer, welcome.you.peer);

  const answer = await answerTo(viewer, "nope", [put(feature("v", point(0, 0)))]);
  assert.equal(answer.type, "rejected");
  assert.equal(answer.id, "nope");
  assert.equal(answer.code, "forbidden");
  assert.equal(typeof answer.message, "string");
  // A viewer still shares presence and can still ping.
  viewer.send({ type: "cursor", at: [3, 4] });
  assert.deepEqual((await editor.nextOf("cursor")).at, [3, 4]);
  await viewer.sync();
  await editor.sync();
  assert.deepEqual(editor.all("edit"), [], "the editor saw no edit");
  assert.deepEqual(viewer.all("edit"), []);
  assert.deepEqual((await getFeatures(relay.url, map.id, map.editKey)).features, []);
});

Deno.test("invalid geometry is rejected with invalid_geometry", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const { peer: a } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
  await using _a = a;
  const { peer: b } = await join(relay.wsUrl, map.id, map.editKey, { name: "B" });
  await using _b = b;
  await answerTo(a, "ok", [put(feature("good", square(1, 1)))]);
  await b.nextOf("edit");

  for (const [name, geometry] of Object.entries(INVALID_GEOMETRIES)) {
    a.send({ type: "edit", id: `put-${name}`, ops: [put(feature("bad", geometry))] });
    const r1 = await a.next((m) => m.id === `put-${name}`, 5000, `the answer to put-${name}`);
    assert.deepEqual([r1.type, r1.code], ["rejected", "invalid_geometry"], `put ${name}`);
    a.send({ type: "edit", id: `geom-${name}`, ops: [{ op: "geom", fid: "good", geometry }] });
    const r2 = await a.next((m) => m.id === `geom-${name}`, 5000, `the answer to geom-${name}`);
    assert.deepEqual([r2.type, r2.code], ["rejected", "invalid_geometry"], `geom ${name}`);
  }
  // 1e999 is valid JSON that parses to Infinity: not a finite number.
  a.sendRaw(editWithInfinity("inf", "bad"));
  const r3 = await a.next((m) => m.id === "inf", 5000, "the answer to inf");
  assert.deepEqual([r3.type, r3.code], ["rejected", "invalid_geometry"]);

  // Nothing was applied, and the map still takes good edits from both peers.
  const after = await answerTo(b, "still", [{ op: "props", fid: "good", set: { ok: true } }]);
  assert.equal(after.type, "edit");
  await a.nextOf("edit", (m) => m.id === "still");
  assert.deepEqual(b.all("edit").map((e) => e.id), ["ok", "still"], "B saw only the good edits");
  assert.equal(
    canonicalFeatures((await getFeatures(relay.url, map.id, map.editKey)).features),
    canonicalFeatures([feature("good", square(1, 1), { ok: true })]),
  );
});

Deno.test("an op on an unknown or deleted feature rejects the whole edit", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const { peer: a } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
  await using _a = a;
  const { peer: b } = await join(relay.wsUrl, map.id, map.editKey, { name: "B" });
  await using _b = b;
  await answerTo(a, 1, [
    put(feature("keep", point(1, 1), { v: 1 })),
    put(feature("doomed", point(2, 2))),
  ]);
  await answerTo(a, 2, [{ op: "del", fid: "doomed" }]);
  const before = await getFeatures(relay.url, map.id, map.editKey);

  const unknown = await answerTo(a, 3, [
    put(feature("new", point(5, 5))),
    { op: "props", fid: "keep", set: { v: 2 } },
    { op: "geom", fid: "never-existed", geometry: point(0, 0) },
  ]);
  assert.deepEqual([unknown.type, unknown.code], ["rejected", "unknown_feature"]);
  const deleted = await answerTo(a, 4, [
    { op: "props", fid: "keep", set: { v: 3 } },
    { op: "props", fid: "doomed", set: { back: true } },
  ]);
  assert.deepEqual([deleted.type, deleted.code], ["rejected", "unknown_feature"]);
  const deletedTwice = await answerTo(a, 5, [{ op: "del", fid: "doomed" }]);
  assert.deepEqual([deletedTwice.type, deletedTwice.code], ["rejected", "unknown_feature"]);

  const after = await getFeatures(relay.url, map.id, map.editKey);
  assert.equal(
    canonicalFeatures(after.features),
    canonicalFeatures(before.features),
    "no op of a rejected edit was applied",
  );
  const good = await answerTo(a, 6, [{ op: "props", fid: "keep", set: { v: 9 } }]);
  assert.equal(good.type, "edit");
  await b.nextOf("edit", (m) => m.id === 6);
  assert.deepEqual(b.all("edit").map((e) => e.id), [1, 2, 6], "B never saw the rejected edits");
  assert.equal(
    replicaOf(b).canonical(),
    canonicalFeatures((await getFeatures(relay.url, map.id, map.editKey)).features),
  );
});
