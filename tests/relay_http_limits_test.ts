/** End-to-end: what the HTTP side refuses to people without keys: big or slow bodies, floods, phishing. */
import assert from "assert";
import { createMap, type RelayProcess, startRelay } from "./_relay.ts";
import { head, RawHttp } from "./_http.ts";
import { connect, join, withTimeout } from "./_ws.ts";
import { feature, getFeatures, point } from "./_fixtures.ts";

const MiB = 1024 * 1024;

/** A POST /api/maps as a given client address, through the relay's trusted proxy (loopback). */
function createAs(relay: RelayProcess, addr: string, headers: Record<string, string> = {}) {
  return fetch(`${relay.url}/api/maps`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": addr, ...headers },
    body: "{}",
  });
}

async function problemOf(res: Response, status: number): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  return JSON.parse(text).detail;
}

Deno.test("PUT features with a wrong key or to an unknown map is 404 before any of a huge body is read", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const targets = [
    `/api/maps/${map.id}/features?key=wrong-key-wrong-key-wrong`,
    `/api/maps/${map.id.replace(/^./, (c) => (c === "A" ? "B" : "A"))}/features?key=${map.editKey}`,
  ];
  for (const path of targets) {
    using raw = await RawHttp.open(relay.url);
    // Declares 50 MiB and sends a few bytes: the answer must come without waiting for the rest.
    await raw.write(head("PUT", path, { "content-length": String(50 * MiB) }));
    await raw.write('{"type":"FeatureCollection","features":[');
    const answer = await raw.answer(5000);
    assert.equal(answer.status, 404, answer.body);
    // The connection is not kept for the 50 MiB the relay will never read.
    await raw.closed(5000);
    assert.match(raw.received, /unknown map or key/);
  }
  // A view key is known to be a view key: 403, also without reading.
  using raw = await RawHttp.open(relay.url);
  await raw.write(
    head("PUT", `/api/maps/${map.id}/features?key=${map.viewKey}`, {
      "content-length": String(50 * MiB),
    }),
  );
  assert.equal((await raw.answer(5000)).status, 403);
});

Deno.test("PUT features larger than --max-import-bytes is 413, declared or streamed; a valid one still works", async () => {
  await using relay = await startRelay({ args: ["--memory", "--max-import-bytes", "4096"] });
  const map = await createMap(relay.url);
  const url = `${relay.url}/api/maps/${map.id}/features?key=${map.editKey}`;
  const big = JSON.stringify({
    type: "FeatureCollection",
    features: [feature("a", point(1, 2), { note: "x".repeat(5000) })],
  });
  // Declared too large: refused at once.
  const declared = await fetch(url, { method: "PUT", body: big });
  assert.match(await problemOf(declared, 413), /larger than 4096 bytes/);
  // Streamed without a length (chunked): counted as it arrives, refused past the bound.
  const bytes = new TextEncoder().encode(big);
  const streamed = await fetch(url, {
    method: "PUT",
    body: new ReadableStream({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 1000) {
          controller.enqueue(bytes.slice(at, at + 1000));
        }
        controller.close();
      },
    }),
  });
  assert.match(await problemOf(streamed, 413), /larger than 4096 bytes/);
  assert.deepEqual((await getFeatures(relay.url, map.id, map.editKey)).features, []);
  // Under the bound: imported. Bad JSON and a bad collection get their own answers.
  const ok = await fetch(url, {
    method: "PUT",
    body: JSON.stringify({ type: "FeatureCollection", features: [feature("a", point(1, 2))] }),
  });
  assert.equal(ok.status, 200, await ok.clone().text());
  assert.equal((await ok.json()).features, 1);
  assert.match(await problemOf(await fetch(url, { method: "PUT", body: "{" }), 400), /JSON/);
  assert.match(
    await problemOf(await fetch(url, { method: "PUT", body: '{"type":"Feature"}' }), 422),
    /FeatureCollection/,
  );
  assert.deepEqual(
    (await getFeatures(relay.url, map.id, map.viewKey)).features.map((f) => f.id),
    ["a"],
  );
});

Deno.test("a second import into a map while one runs is 429 with Retry-After; it works once the first ends", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const path = `/api/maps/${map.id}/features?key=${map.editKey}`;
  const body = JSON.stringify({ type: "FeatureCollection", features: [feature("a", point(1, 2))] });
  // Two imports into one map, each waiting for the rest of its body: whichever the relay admits
  // first is running when the other arrives.
  using one = await RawHttp.open(relay.url);
  using two = await RawHttp.open(relay.url);
  for (const raw of [one, two]) {
    await raw.write(head("PUT", path, { "content-length": String(body.length) }));
    await raw.write(body.slice(0, 10));
  }
  // Both requests have reached their handlers once a later request is answered.
  await (await fetch(`${relay.url}/healthz`)).body?.cancel();
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const raw of [one, two]) await raw.write(body.slice(10));
  const answers = [await one.answer(), await two.answer()];
  const statuses = answers.map((a) => a.status).sort();
  assert.deepEqual(statuses, [200, 429], JSON.stringify(answers.map((a) => a.body)));
  const refused = answers.find((a) => a.status === 429)!;
  assert.match(JSON.parse(refused.body).detail, /already running/);
  assert.ok(Number(refused.headers.get("retry-after")) >= 1);
  // With the first finished, the next import runs.
  const third = await fetch(`${relay.url}${path}`, { method: "PUT", body });
  assert.equal(third.status, 200, await third.text());
});

Deno.test("a body sent too slowly is answered 408 and its connection closed (--body-timeout-ms)", async () => {
  await using relay = await startRelay({ args: ["--memory", "--body-timeout-ms", "300"] });
  const map = await createMap(relay.url);
  for (
    const path of [
      "/api/maps",
      `/rt/${map.id}`,
      `/api/maps/${map.id}/features?key=${map.editKey}`,
    ]
  ) {
    using raw = await RawHttp.open(relay.url);
    await raw.write(head(path.includes("features") ? "PUT" : "POST", path, {
      "content-length": "1000",
    }));
    // A slowloris body: a byte every 100 ms (bounded: 1000 bytes would take 100 s).
    let dripping = true;
    const drip = (async () => {
      for (let i = 0; dripping && i < 1000; i++) {
        await raw.write(" ").catch(() => (dripping = false));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const answer = await raw.answer(10_000);
    assert.equal(answer.status, 408, `${path}: ${answer.body}`);
    // The relay then drops the connection instead of waiting for the rest of the body.
    await raw.closed(10_000);
    dripping = false;
    await drip;
    assert.match(raw.received, /did not arrive within 300 ms/);
  }
  // A client that sends part of a body and then nothing is answered too.
  using silent = await RawHttp.open(relay.url);
  await silent.write(head("POST", "/api/maps", { "content-length": "1000" }) + "{");
  assert.equal((await silent.answer(10_000)).status, 408);
  // The relay still serves everyone else.
  await createMap(relay.url);
});

Deno.test("map creation is rate-limited per client address: 429 past the burst, another address still creates", async () => {
  await using relay = await startRelay({
    args: ["--memory", "--trust-proxy", "127.0.0.1", "--create-burst", "3", "--create-rate", "1"],
  });
  for (let i = 0; i < 3; i++) {
    const res = await createAs(relay, "203.0.113.7");
    assert.equal(res.status, 201, await res.text());
  }
  const refused = await createAs(relay, "203.0.113.7");
  assert.match(await problemOf(refused, 429), /too many maps created from your address/);
  assert.equal(refused.headers.get("retry-after"), "60");
  const other = await createAs(relay, "198.51.100.20");
  assert.equal(other.status, 201, await other.text());
});

Deno.test("a foreign Origin cannot create maps, import or open fallback sessions; the page's own origin can", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  // The CSRF shape: a cross-site form or fetch with a text/plain body needs no preflight.
  const foreign = await fetch(`${relay.url}/api/maps`, {
    method: "POST",
    headers: { origin: "http://evil.example", "content-type": "text/plain" },
    body: '{"title":"pwned"}',
  });
  assert.match(await problemOf(foreign, 403), /origin http:\/\/evil\.example is not allowed/);
  const put = await fetch(`${relay.url}/api/maps/${map.id}/features?key=${map.editKey}`, {
    method: "PUT",
    headers: { origin: "http://evil.example", "content-type": "text/plain" },
    body: '{"type":"FeatureCollection","features":[]}',
  });
  assert.equal(put.status, 403);
  await put.body?.cancel();
  const rt = await fetch(`${relay.url}/rt/${map.id}`, {
    method: "POST",
    headers: { origin: "http://evil.example", "content-type": "text/plain" },
    body: "{}",
  });
  assert.equal(rt.status, 403);
  await rt.body?.cancel();
  const same = await fetch(`${relay.url}/api/maps`, {
    method: "POST",
    headers: { origin: relay.url, "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(same.status, 201);
  await same.body?.cancel();
});

Deno.test("one address holds peers on at most --max-maps-per-addr maps; 1013 says so, others are unaffected", async () => {
  await using relay = await startRelay({
    args: ["--memory", "--trust-proxy", "127.0.0.1", "--max-maps-per-addr", "2"],
  });
  const maps = [await createMap(relay.url), await createMap(relay.url), await createMap(relay.url)];
  const as = (addr: string) => ({ "x-forwarded-for": addr });
  const held = [];
  for (const map of maps.slice(0, 2)) {
    held.push((await join(relay.wsUrl, map.id, map.editKey, { headers: as("203.0.113.7") })).peer);
    // A second peer of the same address on a map it already holds is fine.
    held.push((await join(relay.wsUrl, map.id, map.editKey, { headers: as("203.0.113.7") })).peer);
  }
  const third = await connect(relay.wsUrl, maps[2].id, { headers: as("203.0.113.7") });
  third.send({ type: "hello", key: maps[2].editKey, name: "third", color: "#000000" });
  const closed = await withTimeout(third.closed, 5000, "close of the third map's peer");
  assert.equal(closed.code, 1013);
  assert.match(closed.reason, /already has peers on 2 maps/);
  // Another address joins that map.
  const other = await join(relay.wsUrl, maps[2].id, maps[2].editKey, {
    headers: as("198.51.100.20"),
  });
  await other.peer.close();
  // Leaving one map frees a place.
  for (const peer of held.slice(0, 2)) await peer.close();
  const again = await join(relay.wsUrl, maps[2].id, maps[2].editKey, {
    headers: as("203.0.113.7"),
  });
  await again.peer.close();
  for (const peer of held.slice(2)) await peer.close();
});

Deno.test("at --max-maps, the maps idle peers hold longest make room for an active user", async () => {
  await using relay = await startRelay({
    args: ["--memory", "--trust-proxy", "127.0.0.1", "--max-maps", "2", "--evict-after-ms", "2000"],
  });
  const attacker = { "x-forwarded-for": "203.0.113.7" };
  const maps = [await createMap(relay.url), await createMap(relay.url)];
  const idle = [];
  for (const map of maps) {
    idle.push((await join(relay.wsUrl, map.id, map.editKey, { headers: attacker })).peer);
  }
  // Joined, then idle for longer than --evict-after-ms.
  await new Promise((resolve) => setTimeout(resolve, 2300));
  const mine = await createMap(relay.url);
  const { peer, welcome } = await join(relay.wsUrl, mine.id, mine.editKey, {
    headers: { "x-forwarded-for": "198.51.100.20" },
  });
  assert.equal(welcome.type, "welcome");
  const closes = await Promise.race(
    idle.map((p) => withTimeout(p.closed, 5000, "an idle peer's close")),
  );
  assert.equal(closes.code, 1013);
  assert.match(closes.reason, /make room/);
  // The active user's map is not what goes next: a newcomer waits for an idle map instead.
  peer.send({ type: "cursor", at: [1, 1] });
  const fresh = await createMap(relay.url);
  const next = await join(relay.wsUrl, fresh.id, fresh.editKey, { name: "next" });
  await peer.sync();
  assert.ok(peer.open, "the active user's map stayed");
  await next.peer.close();
  await peer.close();
  for (const p of idle) await p.close();
});

Deno.test("share links are built from --public-url, never from the request's Host", async () => {
  for (
    const [args, expected] of [
      [[], "http://127.0.0.1:"],
      [["--public-url", "https://maps.example.com"], "https://maps.example.com/m/"],
    ] as const
  ) {
    await using relay = await startRelay({ args: ["--memory", ...args] });
    using raw = await RawHttp.open(relay.url);
    await raw.write(
      head("POST", "/api/maps", { host: "phish.example", "content-length": "2" }) + "{}",
    );
    const answer = await raw.answer();
    assert.equal(answer.status, 201, answer.body);
    const map = JSON.parse(answer.body);
    for (const link of [map.editUrl, map.viewUrl]) {
      assert.ok(!link.includes("phish"), link);
      assert.ok(link.startsWith(expected), link);
    }
  }
});
