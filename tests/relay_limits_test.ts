/** End-to-end: bad frames, limits and the close codes they lead to, while other peers keep working. */
import assert from "assert";
import { createMap, type RelayProcess, startRelay } from "./_relay.ts";
import { connect, join, RawWsClient, type TestPeer, withTimeout } from "./_ws.ts";
import { feature, point, put } from "./_fixtures.ts";
import { head, RawHttp } from "./_http.ts";

type MapInfo = Awaited<ReturnType<typeof createMap>>;

/** Two well-behaved peers on the map; `check()` proves they still exchange edits. */
async function bystanders(relay: RelayProcess, map: MapInfo) {
  const b = (await join(relay.wsUrl, map.id, map.editKey, { name: "B" })).peer;
  const c = (await join(relay.wsUrl, map.id, map.editKey, { name: "C" })).peer;
  let n = 0;
  return {
    b,
    c,
    /** B edits; B gets its ack and C gets the edit. */
    async check(why: string) {
      const id = `bystander-${++n}`;
      b.send({ type: "edit", id, ops: [put(feature(`b${n}`, point(n % 180, 0)))] });
      await b.nextOf("edit", (m) => m.id === id, 5000).catch((e) => {
        throw new Error(`after ${why}: B got no ack: ${e.message}`);
      });
      await c.nextOf("edit", (m) => m.id === id, 5000).catch((e) => {
        throw new Error(`after ${why}: C did not get B's edit: ${e.message}`);
      });
      assert.ok(b.open && c.open, `after ${why}: bystanders still connected`);
    },
    async [Symbol.asyncDispose]() {
      await b.close();
      await c.close();
    },
  };
}

async function offender(relay: RelayProcess, map: MapInfo, name = "X"): Promise<TestPeer> {
  return (await join(relay.wsUrl, map.id, map.editKey, { name })).peer;
}

Deno.test("no hello within the hello timeout: closed with 1008", async () => {
  await using relay = await startRelay({ args: ["--memory", "--hello-timeout-ms", "300"] });
  const map = await createMap(relay.url);
  await using others = await bystanders(relay, map);
  await using silent = await connect(relay.wsUrl, map.id, { label: "silent" });
  const closed = await withTimeout(silent.closed, 5000, "close of a silent socket");
  assert.equal(closed.code, 1008);
  assert.deepEqual(silent.all("welcome"), []);
  await others.check("a hello timeout");
});

Deno.test("messages before hello, a second hello, wrong field types and an unknown type get errors", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  await using others = await bystanders(relay, map);

  // Before hello: hello_required.
  const early = await connect(relay.wsUrl, map.id, { label: "early" });
  await using _early = early;
  early.send({ type: "cursor", at: [1, 1] });
  const required = await early.nextOf("error");
  assert.equal(required.code, "hello_required");
  assert.equal(typeof required.message, "string");

  const x = await offender(relay, map);
  await using _x = x;
  // A second hello.
  x.send({ type: "hello", key: map.editKey, name: "X", color: "#000000" });
  assert.equal((await x.nextOf("error")).code, "already_joined");
  await others.check("a second hello");

  // Wrong field types in an edit: rejected (the id is readable), nothing applied.
  x.send({ type: "edit", id: "typo", ops: "put everything" });
  const r1 = await x.nextOf("rejected", (m) => m.id === "typo");
  assert.equal(r1.code, "invalid_edit");
  x.send({ type: "edit", id: "typo2", ops: [{ op: "props", fid: "b1", set: "not an object" }] });
  assert.equal((await x.nextOf("rejected", (m) => m.id === "typo2")).code, "invalid_edit");
  x.send({ type: "edit", id: "typo3", ops: [{ op: "put", feature: { type: "Feature", id: 5 } }] });
  assert.equal((await x.nextOf("rejected", (m) => m.id === "typo3")).code, "invalid_edit");
  await others.check("edits with wrong field types");

  // Wrong field types elsewhere: an error frame.
  x.send({ type: "view", bbox: "everywhere", zoom: "far" });
  assert.equal((await x.nextOf("error")).code, "bad_message");
  x.send({ type: "cursor", at: ["a", "b"] });
  assert.equal((await x.nextOf("error")).code, "bad_message");
  await others.check("a view and a cursor with wrong field types");
  for (const p of [others.b, others.c]) {
    assert.equal(p.all("view").length, 0, "a bad view is not relayed");
    assert.equal(p.all("cursor").filter((m) => JSON.stringify(m.at).includes('"a"')).length, 0);
  }

  // An unknown type, and a message without one.
  x.send({ type: "dance", moves: 3 });
  assert.equal((await x.nextOf("error")).code, "bad_message");
  x.send({ hello: "world" });
  assert.equal((await x.nextOf("error")).code, "bad_message");
  x.send(42);
  assert.equal((await x.nextOf("error")).code, "bad_message");
  await others.check("unknown message types");
  assert.equal(others.b.all("edit").some((m) => String(m.id).startsWith("typo")), false);
});

Deno.test("malformed JSON: closed with 1003; others keep working", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  await using others = await bystanders(relay, map);
  await using x = await offender(relay, map);
  x.sendRaw('{"type":"cursor","at":[1,2]');
  const closed = await withTimeout(x.closed, 5000, "close after malformed JSON");
  assert.equal(closed.code, 1003);
  assert.equal(
    x.all("error").every((e) => e.code === "bad_json"),
    true,
    "an error frame before the close, if any, says bad_json",
  );
  await others.check("malformed JSON");
  // Before hello too.
  await using y = await connect(relay.wsUrl, map.id, { label: "y" });
  y.sendRaw("hello?");
  assert.equal((await withTimeout(y.closed, 5000, "close")).code, 1003);
  await others.check("malformed JSON before hello");
});

Deno.test("a binary frame: closed with 1003; others keep working", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  await using others = await bystanders(relay, map);
  await using x = await offender(relay, map);
  x.sendRaw(new TextEncoder().encode(JSON.stringify({ type: "ping", t: 1 })));
  const closed = await withTimeout(x.closed, 5000, "close after a binary frame");
  assert.equal(closed.code, 1003);
  assert.equal(x.all("pong").length, 0, "the binary frame was not handled");
  await others.check("a binary frame");
});

Deno.test("a frame larger than --max-frame-bytes: closed with 1009; others keep working", async () => {
  await using relay = await startRelay({ args: ["--memory", "--max-frame-bytes", "4096"] });
  const map = await createMap(relay.url);
  await using others = await bystanders(relay, map);
  await using x = await offender(relay, map);
  // Just under the limit is fine.
  const fits = JSON.stringify({ type: "ping", t: "x".repeat(3000) });
  assert.ok(fits.length < 4096);
  x.sendRaw(fits);
  await x.nextOf("pong");
  x.send({
    type: "edit",
    id: "big",
    ops: [put(feature("big", point(0, 0), { blob: "y".repeat(10_000) }))],
  });
  const closed = await withTimeout(x.closed, 5000, "close after an oversized frame");
  assert.equal(closed.code, 1009);
  assert.equal(x.all("edit").length, 0);
  await others.check("an oversized frame");
  assert.equal(others.c.all("edit").some((m) => m.id === "big"), false);
});

Deno.test("a fatal frame followed at once by more frames still gets its close code", async () => {
  await using relay = await startRelay({ args: ["--memory", "--max-frame-bytes", "4096"] });
  const map = await createMap(relay.url);
  await using others = await bystanders(relay, map);
  const pings = Array.from({ length: 20 }, (_, i) => JSON.stringify({ type: "ping", t: i }));
  const cases: Array<[string, string | Uint8Array, number]> = [
    ["non-JSON text", "{oops", 1003],
    ["a binary frame", new Uint8Array([1, 2, 3]), 1003],
    ["an oversized frame", JSON.stringify({ type: "ping", t: "x".repeat(8000) }), 1009],
  ];
  for (const [what, bad, code] of cases) {
    // A client that pipelines: the bad frame, then more, all written before any answer.
    await using x = await offender(relay, map, what);
    x.sendRaw(bad);
    for (const p of pings) x.sendRaw(p);
    const closed = await withTimeout(x.closed, 5000, `close after ${what}`);
    assert.equal(closed.code, code, `${what} followed by more frames: close code`);
    await others.check(what);
  }
});

Deno.test("an edit flood past the rate limit: closed with 1008; others keep working", async () => {
  await using relay = await startRelay({
    args: ["--memory", "--rate", "20", "--rate-burst", "20"],
  });
  const map = await createMap(relay.url);
  await using others = await bystanders(relay, map);
  await using x = await offender(relay, map);
  x.send({ type: "edit", id: "seed", ops: [put(feature("f", point(0, 0)))] });
  await x.nextOf("edit");
  for (let i = 0; i < 50; i++) {
    // Ten messages per frame: limits count messages, not frames.
    x.send(Array.from({ length: 10 }, (_, k) => ({
      type: "edit",
      id: `flood-${i}-${k}`,
      ops: [{ op: "props", fid: "f", set: { n: i * 10 + k } }],
    })));
  }
  const closed = await withTimeout(x.closed, 10_000, "close of a flooding peer");
  assert.equal(closed.code, 1008);
  const accepted = x.all("edit").length;
  assert.ok(accepted < 500, `the flood was not all accepted (${accepted})`);
  for (const r of x.all("rejected")) assert.equal(r.code, "rate_limited");
  for (const e of x.all("error")) assert.equal(e.code, "rate_limited");
  await others.check("an edit flood");
});

Deno.test("a cursor flood is coalesced, not refused", async () => {
  await using relay = await startRelay({
    args: ["--memory", "--rate", "20", "--rate-burst", "20"],
  });
  const map = await createMap(relay.url);
  await using others = await bystanders(relay, map);
  const { peer: x, welcome } = await join(relay.wsUrl, map.id, map.editKey, { name: "X" });
  await using _x = x;
  // Five times the burst at once: edits at that pace would be refused; cursors are not.
  for (let i = 0; i < 10; i++) {
    x.send(Array.from({ length: 10 }, (_, k) => ({ type: "cursor", at: [(i * 10 + k) / 10, 0] })));
  }
  x.send({ type: "view", bbox: [0, 0, 1, 1], zoom: 9 });
  // The newest cursor arrives; no rejection, no close.
  const last = await others.b.nextOf(
    "cursor",
    (m) => m.peer === welcome.you.peer && m.at?.[0] === 9.9,
  );
  assert.deepEqual(last.at, [9.9, 0]);
  await others.c.nextOf("view", (m) => m.peer === welcome.you.peer);
  await x.sync();
  assert.ok(x.open, "the cursor flooder is still connected");
  assert.equal(x.all("error").length, 0);
  await others.check("a cursor flood");
});

Deno.test("a peer that never reads is closed with 1013; the others do not wait for it", async () => {
  const maxBuffered = 1024 * 1024;
  await using relay = await startRelay({
    args: [
      "--memory",
      "--max-buffered-bytes",
      String(maxBuffered),
      "--rate",
      "100000",
      "--rate-burst",
      "100000",
      "--max-props-bytes",
      "200000",
    ],
  });
  const map = await createMap(relay.url);
  await using others = await bystanders(relay, map);

  // A hand-made client that joins, then never reads again.
  using slow = await RawWsClient.open(relay.url, `/ws/${map.id}`, {
    "Sec-WebSocket-Protocol": "duplexmap.v1",
  });
  assert.equal(slow.answer.status, 101);
  await slow.sendText(
    JSON.stringify({ type: "hello", key: map.editKey, name: "slow", color: "#999999" }),
  );
  const slowJoined = await others.b.nextOf("joined", (m) => m.name === "slow");

  // B keeps editing (20 kB edits, about 4 MB/s) and moving its cursor, as a busy map does,
  // until the relay gives up on the slow peer; bounded at 1000 edits (20 MB), far past the
  // kernel's socket buffers and the 1 MB cap. Readers keep up with that pace; the slow one can't.
  const blob = "z".repeat(20_000);
  others.b.send({ type: "edit", id: "f", ops: [put(feature("f", point(0, 0)))] });
  const slowLeft = () => others.c.all("left").some((m) => m.peer === slowJoined.peer);
  let sent = 0;
  for (; sent < 1000 && !slowLeft(); sent++) {
    others.b.send([
      { type: "cursor", at: [sent / 10, 1] },
      { type: "edit", id: `big-${sent}`, ops: [{ op: "props", fid: "f", set: { i: sent, blob } }] },
    ]);
    if (sent % 4 === 3) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const left = await others.c.nextOf("left", (m) => m.peer === slowJoined.peer, 10_000).catch(
    (e) => {
      const logs = relay.logs.filter((l) => l.event === "violation" || l.event === "close");
      throw new Error(`${e.message}\nsent ${sent}; relay logs: ${JSON.stringify(logs)}`);
    },
  );
  assert.equal(left.peer, slowJoined.peer);
  // C, a normal reader, got every edit: nobody waited for the slow one.
  await others.c.nextOf("edit", (m) => m.id === `big-${sent - 1}`, 30_000);
  assert.equal(others.c.all("edit").filter((m) => String(m.id).startsWith("big-")).length, sent);

  // What the slow peer finally reads ends with a close frame saying 1013.
  const { close } = await slow.readUntilClose(20_000);
  assert.ok(close, "the stream ends with a close frame");
  assert.equal(close.code, 1013);
  await others.check("a slow peer");
});

/**
 * Opens a fallback session by hand (`POST /rt/<map>` holding hello), reads the answer's head and
 * then never reads again, like a client that keeps TCP open but stopped reading.
 */
async function stuckFallbackPeer(relay: RelayProcess, map: MapInfo): Promise<RawHttp> {
  const raw = await RawHttp.open(relay.url);
  const hello = JSON.stringify({
    type: "hello",
    key: map.editKey,
    name: "stuck",
    color: "#999999",
  });
  await raw.write(
    head("POST", `/rt/${map.id}`, { "content-length": String(hello.length) }) + hello,
  );
  assert.equal((await raw.answer()).status, 200);
  return raw;
}

/** B edits 20 kB at a time, about 4 MB/s, until C sees `peer` leave; bounded at 1000 edits. */
async function editUntilLeft(others: Awaited<ReturnType<typeof bystanders>>, peer: string) {
  const blob = "z".repeat(20_000);
  others.b.send({ type: "edit", id: "f", ops: [put(feature("f", point(0, 0)))] });
  const gone = () => others.c.all("left").some((m) => m.peer === peer);
  let sent = 0;
  for (; sent < 1000 && !gone(); sent++) {
    others.b.send({
      type: "edit",
      id: `big-${sent}`,
      ops: [{ op: "props", fid: "f", set: { blob } }],
    });
    if (sent % 4 === 3) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return await others.c.nextOf("left", (m) => m.peer === peer, 10_000);
}

Deno.test("a fallback session whose client stops reading is closed with 1013 once its buffer is full", async () => {
  await using relay = await startRelay({
    args: [
      "--memory",
      "--max-buffered-bytes",
      "1048576",
      "--rate",
      "100000",
      "--rate-burst",
      "100000",
    ],
  });
  const map = await createMap(relay.url);
  await using others = await bystanders(relay, map);
  using stuck = await stuckFallbackPeer(relay, map);
  const joined = await others.b.nextOf("joined", (m) => m.name === "stuck");
  await editUntilLeft(others, String(joined.peer));
  const close = await relay.waitForLog((l) => l.event === "close" && l.peer === joined.peer);
  assert.equal(close.code, 1013);
  // Its stream is ended rather than kept for a reader who is not there.
  await stuck.closed(20_000);
  await others.check("a stuck fallback peer");
});

Deno.test("a fallback session whose client stops reading expires after --idle-timeout, like a WebSocket missing pings", async () => {
  await using relay = await startRelay({
    args: [
      "--memory",
      "--idle-timeout",
      "1",
      "--max-buffered-bytes",
      String(64 * 1024 * 1024),
      "--rate",
      "100000",
      "--rate-burst",
      "100000",
    ],
  });
  const map = await createMap(relay.url);
  await using others = await bystanders(relay, map);
  using stuck = await stuckFallbackPeer(relay, map);
  const joined = await others.b.nextOf("joined", (m) => m.name === "stuck");
  await editUntilLeft(others, String(joined.peer));
  const close = await relay.waitForLog((l) => l.event === "close" && l.peer === joined.peer);
  assert.equal(close.code, 1001);
  assert.match(String(close.reason), /not read/);
  await stuck.closed(20_000);
  await others.check("an expired fallback peer");
});
