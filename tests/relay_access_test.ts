/** End-to-end: the maps HTTP API, keys, Origin, subprotocols, health and metrics of a real relay. */
import assert from "assert";
import { createMap, startRelay } from "./_relay.ts";
import { connect, join, RawWsClient, withTimeout } from "./_ws.ts";
import {
  canonicalFeatures,
  feature,
  getFeatures,
  line,
  point,
  put,
  Replica,
  square,
} from "./_fixtures.ts";

const BASE64URL_128 = /^[A-Za-z0-9_-]{22,}$/;

/** An id shaped like `real` (same length and alphabet) that names no map. */
function unknownIdLike(real: string): string {
  const flip = (c: string) => (c === "A" ? "B" : "A");
  return real.split("").map((c, i) => (i % 2 === 0 ? flip(c) : c)).join("");
}

Deno.test("POST /api/maps creates a map: 201 with id, keys of 128+ bits and share links", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const res = await fetch(`${relay.url}/api/maps`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ title: "Trails" }),
  });
  assert.equal(res.status, 201);
  assert.match(res.headers.get("content-type") ?? "", /json/);
  const map = await res.json();
  assert.equal(typeof map.id, "string");
  assert.ok(map.id.length > 0);
  assert.match(map.editKey, BASE64URL_128, "editKey: base64url, at least 128 bits");
  assert.match(map.viewKey, BASE64URL_128, "viewKey: base64url, at least 128 bits");
  assert.notEqual(map.editKey, map.viewKey);
  assert.ok(
    String(map.editUrl).endsWith(`/m/${map.id}#key=${map.editKey}`),
    `editUrl ${map.editUrl}`,
  );
  assert.ok(
    String(map.viewUrl).endsWith(`/m/${map.id}#key=${map.viewKey}`),
    `viewUrl ${map.viewUrl}`,
  );
  const other = await createMap(relay.url);
  assert.notEqual(other.id, map.id);
  assert.notEqual(other.editKey, map.editKey);
  // No title at all is fine too.
  const bare = await fetch(`${relay.url}/api/maps`, { method: "POST" });
  assert.equal(bare.status, 201);
  await bare.body?.cancel();
  // Keys never appear in the relay's logs: not for the API calls above, not when they are used
  // to join (each join's connect line is awaited, so every line before it is there too).
  for (const key of [map.editKey, map.viewKey]) {
    const { peer, welcome } = await join(relay.wsUrl, map.id, key, { name: "logged" });
    await relay.waitForLog((l) => l.event === "connect" && l.peer === welcome.you.peer);
    await peer.close();
  }
  const logText = JSON.stringify(relay.logs);
  assert.ok(!logText.includes(map.editKey) && !logText.includes(map.viewKey), "keys not logged");
});

Deno.test("GET features answers a geo+json FeatureCollection to both keys", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  for (const key of [map.editKey, map.viewKey]) {
    const res = await fetch(`${relay.url}/api/maps/${map.id}/features?key=${key}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/geo\+json/);
    assert.deepEqual(await res.json(), { type: "FeatureCollection", features: [] });
  }
  const { peer } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
  await using _p = peer;
  const f = feature("a", square(1, 2), { name: "x" });
  peer.send({ type: "edit", id: 1, ops: [put(f)] });
  await peer.nextOf("edit");
  const res = await fetch(`${relay.url}/api/maps/${map.id}/features?key=${map.viewKey}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/geo\+json/);
  const fc = await res.json();
  assert.equal(fc.type, "FeatureCollection");
  assert.equal(canonicalFeatures(fc.features), canonicalFeatures([f]));
});

Deno.test("wrong key and unknown map look the same, on HTTP and on WebSocket", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const ghost = unknownIdLike(map.id);
  const wrongKey = map.editKey.split("").reverse().join("");

  const answers = [];
  for (const [id, key] of [[map.id, wrongKey], [ghost, map.editKey], [ghost, wrongKey]]) {
    for (const method of ["GET", "PUT"]) {
      const res = await fetch(`${relay.url}/api/maps/${id}/features?key=${key}`, {
        method,
        headers: { "content-type": "application/geo+json" },
        body: method === "PUT" ? JSON.stringify({ type: "FeatureCollection", features: [] }) : null,
      });
      answers.push({
        what: `${method} ${id === ghost ? "unknown map" : "wrong key"}`,
        status: res.status,
        type: res.headers.get("content-type"),
        body: await res.text(),
      });
    }
  }
  for (const a of answers) {
    assert.equal(a.status, 404, a.what);
    assert.doesNotMatch(a.body, /\.ts:\d+/, "no stack trace");
  }
  const gets = answers.filter((a) => a.what.startsWith("GET"));
  const puts = answers.filter((a) => a.what.startsWith("PUT"));
  for (const group of [gets, puts]) {
    for (const a of group) {
      assert.deepEqual([a.type, a.body], [group[0].type, group[0].body], a.what);
    }
  }
  // A missing key is no different either.
  const noKey = await fetch(`${relay.url}/api/maps/${map.id}/features`);
  assert.equal(noKey.status, 404);
  assert.equal(await noKey.text(), gets[0].body);

  // WebSocket: both are closed with 1008 and the very same reason, with no welcome.
  const closes = [];
  for (const [id, key] of [[map.id, wrongKey], [ghost, map.editKey]]) {
    const peer = await connect(relay.wsUrl, id, { label: id === ghost ? "ghost" : "wrong" });
    peer.send({ type: "hello", key, name: "X", color: "#000000" });
    const closed = await withTimeout(peer.closed, 5000, "close after a bad hello");
    assert.deepEqual(peer.all("welcome"), []);
    closes.push(closed);
  }
  assert.equal(closes[0].code, 1008);
  assert.deepEqual(closes[1], closes[0], "same code and same reason");
});

Deno.test("PUT features with the edit key replaces the map; peers receive it as one edit", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const { peer: a } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
  await using _a = a;
  const { peer: v } = await join(relay.wsUrl, map.id, map.viewKey, { name: "V" });
  await using _v = v;
  a.send({
    type: "edit",
    id: "seed",
    ops: [put(feature("old", point(1, 1))), put(feature("kept", point(2, 2), { v: 1 }))],
  });
  await a.nextOf("edit");
  await v.nextOf("edit");

  const replacement = {
    type: "FeatureCollection",
    features: [
      feature("kept", line([0, 0], [3, 3]), { v: 2, tags: ["a", "b"] }),
      feature("new", square(-70, -30), { name: "imported" }),
    ],
  };
  const res = await fetch(`${relay.url}/api/maps/${map.id}/features?key=${map.editKey}`, {
    method: "PUT",
    headers: { "content-type": "application/geo+json" },
    body: JSON.stringify(replacement),
  });
  assert.ok(res.ok, `PUT answered ${res.status}`);
  await res.body?.cancel();

  const server = await getFeatures(relay.url, map.id, map.viewKey);
  assert.equal(canonicalFeatures(server.features), canonicalFeatures(replacement.features));
  for (const peer of [a, v]) {
    await peer.nextOf("edit", (m) => m.id !== "seed");
    await peer.sync();
    const edits = peer.all("edit");
    assert.equal(edits.length, 2, "the import arrived as exactly one edit");
    const welcome = peer.all("welcome")[0];
    const replica = new Replica(welcome.features?.features ?? [], welcome.seq);
    for (const e of edits) replica.apply(e);
    assert.equal(replica.canonical(), canonicalFeatures(replacement.features));
  }
  // A late joiner sees the import too.
  const { peer: late, welcome } = await join(relay.wsUrl, map.id, map.viewKey, { name: "L" });
  await using _late = late;
  assert.equal(
    canonicalFeatures(welcome.features?.features ?? []),
    canonicalFeatures(replacement.features),
  );
});

Deno.test("PUT features with the view key is 403 and changes nothing", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const res = await fetch(`${relay.url}/api/maps/${map.id}/features?key=${map.viewKey}`, {
    method: "PUT",
    headers: { "content-type": "application/geo+json" },
    body: JSON.stringify({ type: "FeatureCollection", features: [feature("x", point(0, 0))] }),
  });
  assert.equal(res.status, 403);
  await res.body?.cancel();
  assert.deepEqual((await getFeatures(relay.url, map.id, map.editKey)).features, []);
});

Deno.test("a foreign Origin gets 403 before the upgrade; same origin and no Origin are allowed", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const raw = await RawWsClient.open(relay.url, `/ws/${map.id}`, {
    Origin: "http://evil.example",
    "Sec-WebSocket-Protocol": "duplexmap.v1",
  });
  raw.close();
  assert.equal(raw.answer.status, 403);

  // The real client is refused too.
  await assert.rejects(
    connect(relay.wsUrl, map.id, { headers: { origin: "http://evil.example" } }),
  );
  // Same host as the page: allowed; no Origin at all (not a browser): allowed.
  const same = await join(relay.wsUrl, map.id, map.editKey, {
    name: "same",
    headers: { origin: relay.url },
  });
  await same.peer.close();
  const none = await join(relay.wsUrl, map.id, map.editKey, { name: "none" });
  await none.peer.close();
});

Deno.test("--origin allow-list admits the listed origin only", async () => {
  await using relay = await startRelay({
    args: ["--memory", "--origin", "https://maps.example.org"],
  });
  const map = await createMap(relay.url);
  const ok = await join(relay.wsUrl, map.id, map.editKey, {
    name: "listed",
    headers: { origin: "https://maps.example.org" },
  });
  await ok.peer.close();
  const raw = await RawWsClient.open(relay.url, `/ws/${map.id}`, {
    Origin: "https://other.example.org",
  });
  raw.close();
  assert.equal(raw.answer.status, 403);
});

Deno.test("subprotocols: duplexmap.v1, connect and none are accepted; only others get 400", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  for (
    const [offer, expected] of [
      [["duplexmap.v1"], "duplexmap.v1"],
      [["connect"], "connect"],
      [[], ""],
      [["chat", "duplexmap.v1"], "duplexmap.v1"],
    ] as const
  ) {
    const { peer, welcome } = await join(relay.wsUrl, map.id, map.editKey, {
      name: "p",
      protocols: [...offer],
    });
    assert.equal(peer.ws.protocol, expected, `offered ${JSON.stringify(offer)}`);
    assert.equal(welcome.you.role, "editor");
    await peer.close();
  }
  const raw = await RawWsClient.open(relay.url, `/ws/${map.id}`, {
    "Sec-WebSocket-Protocol": "chat, superchat",
  });
  raw.close();
  assert.equal(raw.answer.status, 400);
  assert.match(raw.answer.headers.get("content-type") ?? "", /^text\/plain/);
  assert.ok(raw.answer.body.trim().length > 0, "a plain-text reason");
  await assert.rejects(connect(relay.wsUrl, map.id, { protocols: ["chat"] }));
});

Deno.test("GET /healthz and GET /metrics (Prometheus text) respond", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const { peer } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
  await using _p = peer;
  peer.send({ type: "edit", id: 1, ops: [put(feature("m", point(0, 0)))] });
  await peer.nextOf("edit");

  // One close with a known code, so "closes by code" has something to count.
  const bad = await connect(relay.wsUrl, map.id, { label: "bad" });
  bad.send({ type: "hello", key: "wrong", name: "X", color: "#000000" });
  assert.equal((await withTimeout(bad.closed, 5000, "close after a bad key")).code, 1008);

  const health = await fetch(`${relay.url}/healthz`);
  assert.equal(health.status, 200);
  const healthBody = await health.text();
  assert.ok(healthBody.length > 0);

  const metrics = await fetch(`${relay.url}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain/);
  const text = await metrics.text();
  const samples = text.split("\n").filter((l) => l && !l.startsWith("#"));
  assert.ok(samples.length > 0, "some samples");
  assert.ok(text.includes("# TYPE "), "TYPE lines");
  for (const l of samples) {
    assert.match(
      l,
      /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*,?\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)( -?[0-9]+)?$/,
      "a Prometheus sample line",
    );
  }
  assert.match(text, /\{[^}]*="1008"[^}]*\} [1-9]/, "closes are counted by code (1008 seen)");
  for (const l of text.split("\n").filter((l) => l.startsWith("# TYPE "))) {
    assert.match(l, /^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$/);
  }
});

Deno.test("GET /api/config answers tiles, attribution and version", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const res = await fetch(`${relay.url}/api/config`);
  assert.equal(res.status, 200);
  const config = await res.json();
  assert.equal(config.tiles, null);
  assert.equal(typeof config.version, "string");
  assert.ok("tilesAttribution" in config);
});
