/** End-to-end: hostile input (deep values, odd keys, odd headers, a damaged store) never ends the relay. */
import assert from "assert";
import { DatabaseSync } from "node:sqlite";
import { join as joinPath } from "node:path";
import { createMap, type RelayProcess, startRelay } from "./_relay.ts";
import { connect, join, RawWsClient, type TestPeer, withTimeout } from "./_ws.ts";
import { feature, getFeatures, point, put } from "./_fixtures.ts";

/** Text of a JSON array nested `depth` levels: what JSON.stringify's slow path recursed on. */
function deepArray(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

/** An edit whose properties hold a numeric key beside an array nested `depth` levels. */
function deepEdit(id: string, fid: string, depth: number): string {
  return `{"type":"edit","id":"${id}","ops":[{"op":"put","feature":{"type":"Feature","id":"${fid}",` +
    `"geometry":{"type":"Point","coordinates":[1,2]},"properties":{"0":1,"a":${
      deepArray(depth)
    }}}}]}`;
}

/** The relay still serves: a bystander's ping is answered and its edit is echoed. */
async function stillServes(peer: TestPeer, n: number): Promise<void> {
  await peer.sync();
  peer.send({ type: "edit", id: `ok-${n}`, ops: [put(feature(`ok${n}`, point(n, n)))] });
  await peer.nextOf("edit", (m) => m.id === `ok-${n}`);
}

Deno.test("an edit nesting properties thousands deep is rejected; the relay and everyone else go on", async () => {
  await using relay = await startRelay();
  const map = await createMap(relay.url);
  const other = await createMap(relay.url);
  const { peer: author } = await join(relay.wsUrl, map.id, map.editKey, { name: "Author" });
  const { peer: bystander } = await join(relay.wsUrl, map.id, map.editKey, { name: "B" });
  const { peer: elsewhere } = await join(relay.wsUrl, other.id, other.editKey, { name: "C" });
  try {
    author.sendRaw(deepEdit("deep-1", "f1", 10_000));
    const rejected = await author.nextOf("rejected", (m) => m.id === "deep-1");
    assert.equal(rejected.code, "invalid_edit");
    assert.match(rejected.message, /properties are nested more than 32 levels deep/);
    // The same in a props op, and in a geometry's foreign member (which passes through too).
    author.send({ type: "edit", id: "base", ops: [put(feature("f2", point(0, 0)))] });
    await author.nextOf("edit", (m) => m.id === "base");
    author.sendRaw(
      `{"type":"edit","id":"deep-2","ops":[{"op":"props","fid":"f2","set":{"1":2,"x":${
        deepArray(50_000)
      }}}]}`,
    );
    assert.equal((await author.nextOf("rejected", (m) => m.id === "deep-2")).code, "invalid_edit");
    author.sendRaw(
      `{"type":"edit","id":"deep-3","ops":[{"op":"geom","fid":"f2","geometry":{"type":"Point",` +
        `"coordinates":[0,0],"bbox":{"0":1,"b":${deepArray(20_000)}}}}]}`,
    );
    const geom = await author.nextOf("rejected", (m) => m.id === "deep-3");
    assert.equal(geom.code, "invalid_geometry");
    assert.match(geom.message, /nested more than 32 levels deep/);
    // Exactly the cap is accepted.
    author.sendRaw(
      `{"type":"edit","id":"at-cap","ops":[{"op":"props","fid":"f2","set":{"0":1,"a":${
        deepArray(31)
      }}}]}`,
    );
    await author.nextOf("edit", (m) => m.id === "at-cap");
    assert.ok(author.open, "a rejected edit is not fatal");
    await stillServes(author, 1);
    await stillServes(bystander, 2);
    await stillServes(elsewhere, 3);
    assert.equal(bystander.all("rejected").length, 0, "nobody else hears about a rejected edit");
    const res = await fetch(`${relay.url}/api/maps/${map.id}/features?key=${map.viewKey}`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).features.length, 3);
    assert.equal(relay.logs.filter((l) => l.event === "internal_error").length, 0);
  } finally {
    await Promise.all([author.close(), bystander.close(), elsewhere.close()]);
  }
});

Deno.test("__proto__, constructor and prototype are ordinary property keys: kept end to end", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "duplexmap-proto-" });
  try {
    const odd = `{"__proto__":{"polluted":true},"constructor":"c","prototype":[1,2],"name":"x"}`;
    const expected = JSON.parse(odd);
    const own = (o: unknown) => Object.entries(o as object).sort();
    let mapInfo: Awaited<ReturnType<typeof createMap>>;
    {
      await using relay = await startRelay({ dataDir });
      mapInfo = await createMap(relay.url);
      const { peer: a } = await join(relay.wsUrl, mapInfo.id, mapInfo.editKey, { name: "A" });
      const { peer: b } = await join(relay.wsUrl, mapInfo.id, mapInfo.editKey, { name: "B" });
      a.sendRaw(
        `{"type":"edit","id":"odd","ops":[{"op":"put","feature":{"type":"Feature","id":"f",` +
          `"geometry":{"type":"Point","coordinates":[1,2]},"properties":${odd}}}]}`,
      );
      const echo = await b.nextOf("edit", (m) => m.id === "odd");
      const put0 = echo.ops[0] as { feature: { properties: unknown } };
      assert.deepEqual(own(put0.feature.properties), own(expected));
      // A props op setting and unsetting them.
      a.sendRaw(
        `{"type":"edit","id":"odd2","ops":[{"op":"props","fid":"f","set":{"__proto__":7,` +
          `"toString":"t"},"unset":["prototype"]}]}`,
      );
      await b.nextOf("edit", (m) => m.id === "odd2");
      const fc = await getFeatures(relay.url, mapInfo.id, mapInfo.viewKey);
      const props = fc.features[0].properties as Record<string, unknown>;
      assert.deepEqual(own(props), [
        ["__proto__", 7],
        ["constructor", "c"],
        ["name", "x"],
        ["toString", "t"],
      ]);
      const { peer: c, welcome } = await join(relay.wsUrl, mapInfo.id, mapInfo.viewKey);
      assert.deepEqual(own(welcome.features!.features[0].properties), own(props));
      await Promise.all([a.close(), b.close(), c.close()]);
    }
    // After a restart (journal replay), the same.
    await using relay = await startRelay({ dataDir });
    const fc = await getFeatures(relay.url, mapInfo.id, mapInfo.editKey);
    assert.equal(Object.hasOwn(fc.features[0].properties!, "__proto__"), true);
    assert.equal((fc.features[0].properties as Record<string, unknown>)["__proto__"], 7);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("Sec-WebSocket-Protocol is parsed as an RFC 6455 token list", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const open = (value: string) =>
    RawWsClient.open(relay.url, `/ws/${map.id}`, { "Sec-WebSocket-Protocol": value });
  for (
    const value of ["evil,duplexmap.v1", "evil ,\tduplexmap.v1", ",duplexmap.v1,", "x, connect"]
  ) {
    using client = await open(value);
    assert.equal(client.answer.status, 101, value);
    const picked = client.answer.headers.get("sec-websocket-protocol");
    assert.equal(picked, value.includes("connect") ? "connect" : "duplexmap.v1", value);
  }
  using refused = await open("evil");
  assert.equal(refused.answer.status, 400);
  assert.match(refused.answer.headers.get("content-type") ?? "", /^text\/plain/);
  assert.match(
    refused.answer.body,
    /unsupported subprotocol evil; this relay speaks duplexmap\.v1/,
  );
  for (
    const value of ["duplex map.v1", "(x),duplexmap.v1", "duplexmap.v1;q=1", 'x,"duplexmap.v1"']
  ) {
    using bad = await open(value);
    assert.equal(bad.answer.status, 400, value);
    assert.match(bad.answer.body, /invalid Sec-WebSocket-Protocol header/, value);
  }
  // A real client still negotiates, and the relay is fine.
  const peer = await connect(relay.wsUrl, map.id, { protocols: ["evil", "duplexmap.v1"] });
  assert.equal(peer.ws.protocol, "duplexmap.v1");
  await peer.hello(map.editKey);
  await peer.close();
});

/** Stops the relay, lets `damage` change its database, and starts it again on the same data. */
async function restartDamaged(
  relay: RelayProcess,
  damage: (db: DatabaseSync, path: string) => void,
  args: string[] = [],
): Promise<RelayProcess> {
  await relay.stop();
  const path = joinPath(relay.dataDir, "duplexmap.sqlite");
  const db = new DatabaseSync(path);
  try {
    damage(db, path);
  } finally {
    if (db.isOpen) db.close();
  }
  return await startRelay({ dataDir: relay.dataDir, args });
}

async function expectUnavailable(relay: RelayProcess, id: string, key: string): Promise<void> {
  const res = await fetch(`${relay.url}/api/maps/${id}/features?key=${key}`);
  assert.equal(res.status, 500);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const body = await res.json();
  assert.match(body.detail, /cannot be loaded .*contact the relay's operator/);
  const peer = await connect(relay.wsUrl, id);
  peer.send({ type: "hello", key, name: "P", color: "#123456" });
  const error = await peer.nextOf("error");
  assert.equal(error.code, "internal");
  assert.match(error.message, /cannot be loaded/);
  const closed = await withTimeout(peer.closed, 5000, "the close");
  assert.equal(closed.code, 1011);
  assert.match(closed.reason, /cannot be loaded/);
}

async function expectUnknown(relay: RelayProcess, id: string, key: string): Promise<void> {
  const res = await fetch(`${relay.url}/api/maps/${id}/features?key=${key}`);
  const unknown = await fetch(`${relay.url}/api/maps/AAAAAAAAAAAAAAAA/features?key=${key}`);
  assert.equal(res.status, 404);
  assert.equal(await res.text(), await unknown.text());
}

Deno.test("a map poisoned in the store answers a clear error, logged once; a wrong key is still 404", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "duplexmap-poison-" });
  let relay = await startRelay({ dataDir });
  try {
    const poisoned = await createMap(relay.url, "Poisoned");
    const badSnapshot = await createMap(relay.url, "Bad snapshot");
    const healthy = await createMap(relay.url, "Healthy");
    relay = await restartDamaged(relay, (db) => {
      // What an older relay journaled: an edit the JSON serialiser cannot write back.
      const frame = `{"type":"edit","seq":1,"by":"x","id":"e","ops":[{"op":"put","feature":` +
        `{"type":"Feature","id":"f","geometry":{"type":"Point","coordinates":[0,0]},` +
        `"properties":{"0":1,"a":${deepArray(20_000)}}}}]}`;
      db.prepare("INSERT INTO edits (map_id, seq, frame) VALUES (?, 1, ?)").run(poisoned.id, frame);
      db.prepare("UPDATE maps SET snapshot_seq = 1, snapshot = ? WHERE id = ?").run(
        `[{"type":"Feature","id":"f","geometry":{"type":"Point","coordinates":[0,0]},` +
          `"properties":{"0":1,"a":${deepArray(20_000)}}}]`,
        badSnapshot.id,
      );
    }, ["--evict-after-ms", "100"]);
    const { peer: bystander } = await join(relay.wsUrl, healthy.id, healthy.editKey);
    // A wrong key first: it must not load the map, and must look like an unknown map.
    await expectUnknown(relay, poisoned.id, "wrong-key");
    assert.equal(relay.logs.filter((l) => l.event === "map_unavailable").length, 0);
    for (let i = 0; i < 3; i++) await expectUnavailable(relay, poisoned.id, poisoned.editKey);
    await expectUnavailable(relay, badSnapshot.id, badSnapshot.viewKey);
    await expectUnknown(relay, poisoned.id, "wrong-key");
    await expectUnknown(relay, badSnapshot.id, badSnapshot.editKey.slice(1));
    const logged = relay.logs.filter((l) => l.event === "map_unavailable");
    assert.deepEqual(logged.map((l) => l.map).sort(), [poisoned.id, badSnapshot.id].sort());
    // Several eviction sweeps later the relay is still there, serving the healthy map.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await stillServes(bystander, 1);
    assert.equal((await fetch(`${relay.url}/healthz`)).status, 200);
    await bystander.close();
  } finally {
    await relay.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a damaged database page fails the maps on it, not the relay", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "duplexmap-page-" });
  let relay = await startRelay({ dataDir });
  try {
    const map = await createMap(relay.url, "On a damaged page");
    const { peer } = await join(relay.wsUrl, map.id, map.editKey);
    for (let i = 0; i < 20; i++) {
      peer.send({ type: "edit", id: `e${i}`, ops: [put(feature(`f${i}`, point(i, i), { i }))] });
    }
    await peer.nextOf("edit", (m) => m.id === "e19");
    await peer.close();
    relay = await restartDamaged(relay, (db, path) => {
      db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      const pageSize = Number(db.prepare("PRAGMA page_size").get()!.page_size);
      const root = Number(
        db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'edits'").get()!.rootpage,
      );
      db.close();
      // Overwrite the journal's b-tree page with garbage, as a failing disk would.
      const file = Deno.openSync(path, { read: true, write: true });
      try {
        file.seekSync((root - 1) * pageSize, Deno.SeekMode.Start);
        file.writeSync(new Uint8Array(pageSize).fill(0xa5));
      } finally {
        file.close();
      }
      // The operator chose to serve what can still be read (without it the relay refuses to start).
    }, ["--accept-data-loss"]);
    await expectUnknown(relay, map.id, "wrong-key");
    await expectUnavailable(relay, map.id, map.editKey);
    assert.equal((await fetch(`${relay.url}/healthz`)).status, 200);
    const logged = relay.logs.filter((l) => l.event === "map_unavailable");
    assert.equal(logged.length, 1);
    assert.match(String(logged[0].error), /malformed|corrupt|not a database/i);
  } finally {
    await relay.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a fatal error whose reason is long in UTF-8 still closes the socket (the reason is cut to 123 bytes)", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const peer = await connect(relay.wsUrl, map.id);
  // Not a hello, and invalid: the fatal reason quotes a member name of three-byte characters.
  peer.send({
    type: "edit",
    id: "e",
    ops: [{
      op: "geom",
      fid: "f",
      geometry: {
        type: "Point",
        coordinates: [0, 0],
        ["\u20ac".repeat(40)]: [[[[[[[[[[[[[[[[
          [[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]],
        ]]]]]]]]]]]]]]]],
      },
    }],
  });
  const closed = await withTimeout(peer.closed, 5000, "the close");
  assert.equal(closed.code, 1008);
  assert.ok(new TextEncoder().encode(closed.reason).length <= 123);
  assert.match(closed.reason, /^the first message must be a valid hello/);
});
