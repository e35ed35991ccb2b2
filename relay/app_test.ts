/** Unit tests of the HTTP surface, in-process with `app.request` and a hub on an in-memory store. */
import assert from "assert";
import { appFixture } from "./_app_fixture.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { LeaseMetrics, Metrics } from "./metrics.ts";
import type { PeerSocket } from "./peer.ts";

const setup = appFixture;

type App = ReturnType<typeof setup>["app"];

interface Created {
  id: string;
  title: string;
  editKey: string;
  viewKey: string;
  editUrl: string;
  viewUrl: string;
}

async function createMap(app: App, body?: unknown): Promise<Created> {
  const res = await app.request("/api/maps", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return await res.json();
}

/** Checks an RFC 9457 problem response and returns its body text. */
async function problem(res: Response, status: number): Promise<string> {
  assert.equal(res.status, status);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const text = await res.text();
  const body = JSON.parse(text);
  assert.equal(body.status, status);
  assert.equal(typeof body.title, "string");
  assert.equal(typeof body.detail, "string");
  return text;
}

function base64urlBytes(text: string): number {
  assert.match(text, /^[A-Za-z0-9_-]+$/, "base64url without padding");
  return Math.floor((text.length * 6) / 8);
}

const square = {
  type: "Polygon",
  coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
};
const collection = {
  type: "FeatureCollection",
  features: [
    { type: "Feature", id: "park", geometry: square, properties: { name: "Park" } },
    { type: "Feature", geometry: { type: "Point", coordinates: [2, 3] } },
  ],
};

Deno.test("POST /api/maps answers 201 with keys of >= 128 bits and #key= links", async () => {
  await using t = setup();
  const map = await createMap(t.app, { title: "  Field survey  " });
  assert.equal(map.title, "Field survey");
  assert.ok(base64urlBytes(map.editKey) >= 16, map.editKey);
  assert.ok(base64urlBytes(map.viewKey) >= 16, map.viewKey);
  assert.notEqual(map.editKey, map.viewKey);
  assert.match(map.id, /^[A-Za-z0-9_-]{8,64}$/);
  assert.equal(map.editUrl, `http://localhost/m/${map.id}#key=${map.editKey}`);
  assert.equal(map.viewUrl, `http://localhost/m/${map.id}#key=${map.viewKey}`);
  const other = await createMap(t.app);
  assert.equal(other.title, "Untitled map");
  assert.notEqual(other.id, map.id);
});

Deno.test("POST /api/maps refuses a bad body with a problem response", async () => {
  await using t = setup();
  const post = (body: string) => t.app.request("/api/maps", { method: "POST", body });
  assert.match(await problem(await post("{"), 400), /not valid JSON/);
  assert.match(await problem(await post("[1]"), 400), /JSON object/);
  assert.match(await problem(await post('{"title":5}'), 400), /title must be a string/);
  assert.match(
    await problem(await post(JSON.stringify({ title: "x".repeat(201) })), 400),
    /at most 200/,
  );
  await problem(await post(JSON.stringify({ title: "x".repeat(5000) })), 413);
});

Deno.test("POST /api/maps behind a trusted proxy uses its X-Forwarded-Proto in the links", async () => {
  await using t = setup({ trustProxy: ["127.0.0.1"] });
  const res = await t.app.request(
    "/api/maps",
    { method: "POST", headers: { "x-forwarded-proto": "https", host: "localhost" } },
    { remoteAddr: { hostname: "127.0.0.1" } },
  );
  const map: Created = await res.json();
  assert.equal(map.editUrl, `https://localhost/m/${map.id}#key=${map.editKey}`);
  // The same header from anyone else is ignored.
  const direct = await t.app.request(
    "/api/maps",
    { method: "POST", headers: { "x-forwarded-proto": "https", host: "localhost" } },
    { remoteAddr: { hostname: "198.51.100.4" } },
  );
  assert.match((await direct.json()).editUrl, /^http:\/\/localhost\//);
});

Deno.test("share links never name an arbitrary Host: --public-url, else the first origin, else this server", async () => {
  const post = async (app: ReturnType<typeof setup>["app"], host: string) => {
    const res = await app.request("/api/maps", { method: "POST", headers: { host } });
    assert.equal(res.status, 201);
    return await res.json() as Created;
  };
  {
    await using t = setup({ listen: () => ({ hostname: "127.0.0.1", port: 8080 }) });
    const phished = await post(t.app, "phish.example");
    assert.ok(!phished.editUrl.includes("phish"), phished.editUrl);
    assert.ok(phished.editUrl.startsWith("http://127.0.0.1:8080/m/"), phished.editUrl);
    // This server under a loopback name, with its port: as the request named it.
    assert.ok((await post(t.app, "localhost:8080")).editUrl.startsWith("http://localhost:8080/"));
    assert.ok((await post(t.app, "[::1]:8080")).viewUrl.startsWith("http://[::1]:8080/"));
    // The right name with another port is not this server.
    assert.ok((await post(t.app, "localhost:9999")).editUrl.startsWith("http://127.0.0.1:8080/"));
  }
  {
    await using t = setup({ origins: ["https://a.example.org", "https://b.example.org"] });
    assert.ok((await post(t.app, "phish.example")).editUrl.startsWith("https://a.example.org/m/"));
  }
  {
    await using t = setup({
      origins: ["https://a.example.org"],
      publicUrl: "https://maps.example",
    });
    const map = await post(t.app, "phish.example");
    assert.equal(map.editUrl, `https://maps.example/m/${map.id}#key=${map.editKey}`);
    assert.equal(map.viewUrl, `https://maps.example/m/${map.id}#key=${map.viewKey}`);
  }
});

Deno.test("GET features answers GeoJSON for either key, by query or bearer token", async () => {
  await using t = setup();
  const map = await createMap(t.app);
  for (const key of [map.editKey, map.viewKey]) {
    const res = await t.app.request(`/api/maps/${map.id}/features?key=${key}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/geo+json");
    assert.deepEqual(await res.json(), { type: "FeatureCollection", features: [] });
  }
  const bearer = await t.app.request(`/api/maps/${map.id}/features`, {
    headers: { authorization: `Bearer ${map.viewKey}` },
  });
  assert.equal(bearer.status, 200);
  await bearer.body?.cancel();
});

Deno.test("a wrong key and an unknown map give byte-identical 404 answers", async () => {
  await using t = setup();
  const map = await createMap(t.app);
  const answers = await Promise.all([
    t.app.request(`/api/maps/${map.id}/features?key=wrong`),
    t.app.request(`/api/maps/${map.id}/features`),
    t.app.request(`/api/maps/AAAAAAAAAAAAAAAA/features?key=${map.editKey}`),
    t.app.request(`/api/maps/nope/features?key=${map.editKey}`),
    t.app.request(`/api/maps/${map.id}/features?key=wrong`, {
      method: "PUT",
      body: JSON.stringify(collection),
    }),
    t.app.request(`/api/maps/AAAAAAAAAAAAAAAA/features?key=${map.editKey}`, {
      method: "PUT",
      body: JSON.stringify(collection),
    }),
  ]);
  const bodies = await Promise.all(answers.map((res) => problem(res, 404)));
  for (const body of bodies) assert.equal(body, bodies[0]);
  for (const res of answers) {
    assert.equal(res.headers.get("content-type"), answers[0].headers.get("content-type"));
  }
});

Deno.test("PUT features with the edit key replaces the map as one edit peers receive", async () => {
  await using t = setup();
  const map = await createMap(t.app);
  // A connected peer, on a fake socket, sees the import like any other edit.
  const sent: string[] = [];
  const socket: PeerSocket = {
    send: (text) => void sent.push(text),
    close: () => {},
    bufferedAmount: 0,
    bufferedAbove: () => false,
    isOpen: true,
  };
  const conn = t.hub.accept(socket, { mapId: map.id, addr: "192.0.2.1", transport: "test" });
  conn.receive(JSON.stringify({ type: "hello", key: map.viewKey, name: "v", color: "#000000" }));
  t.hub.flush();
  sent.length = 0;

  const put = (body: unknown) =>
    t.app.request(`/api/maps/${map.id}/features?key=${map.editKey}`, {
      method: "PUT",
      body: JSON.stringify(body),
    });
  const res = await put(collection);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { seq: 1, features: 2, total: 2, skipped: [], edits: 1 });
  const edits = sent.map((text) => JSON.parse(text));
  assert.equal(edits.length, 1);
  assert.equal(edits[0].type, "edit");
  assert.equal(edits[0].seq, 1);

  const read = await t.app.request(`/api/maps/${map.id}/features?key=${map.viewKey}`);
  const got = await read.json();
  assert.equal(got.features.length, 2);
  assert.deepEqual(got.features[0], collection.features[0]);
  assert.deepEqual(got.features[1].geometry, collection.features[1].geometry);
  assert.deepEqual(got.features[1].properties, {});
  assert.equal(typeof got.features[1].id, "string");

  // A second import replaces, it does not merge.
  const again = await put({ type: "FeatureCollection", features: [collection.features[0]] });
  assert.deepEqual(await again.json(), { seq: 2, features: 1, total: 1, skipped: [], edits: 1 });
  const after = await t.app.request(`/api/maps/${map.id}/features?key=${map.editKey}`);
  assert.deepEqual((await after.json()).features.map((f: { id: string }) => f.id), ["park"]);
});

Deno.test("PUT features: a file over the frame limit goes in as several edits; a repeated id gets a fresh one", async () => {
  await using t = appFixture({}, { limits: { ...DEFAULT_LIMITS, maxFrameBytes: 2048 } });
  const map = await createMap(t.app);
  const sent: string[] = [];
  const socket: PeerSocket = {
    send: (text) => void sent.push(text),
    close: () => {},
    bufferedAmount: 0,
    bufferedAbove: () => false,
    isOpen: true,
  };
  const conn = t.hub.accept(socket, { mapId: map.id, addr: "192.0.2.1", transport: "test" });
  conn.receive(JSON.stringify({ type: "hello", key: map.viewKey, name: "v", color: "#000000" }));
  t.hub.flush();
  sent.length = 0;
  const features = Array.from({ length: 60 }, (_, i) => ({
    type: "Feature",
    id: i === 59 ? "p0" : `p${i}`,
    geometry: { type: "Point", coordinates: [i, i / 2] },
    properties: { name: `point ${i}` },
  }));
  const res = await t.app.request(`/api/maps/${map.id}/features?key=${map.editKey}`, {
    method: "PUT",
    body: JSON.stringify({ type: "FeatureCollection", features }),
  });
  assert.equal(res.status, 200);
  const answer = await res.json();
  assert.ok(answer.edits > 1, `${answer.edits} edits`);
  assert.deepEqual({ ...answer, edits: 0 }, {
    seq: answer.edits,
    features: 60,
    total: 60,
    skipped: [],
    edits: 0,
  });
  const edits = sent.flatMap((text) => {
    const parsed = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : [parsed];
  }).filter((m) => m.type === "edit");
  assert.equal(edits.length, answer.edits);
  for (const edit of edits) {
    assert.ok(new TextEncoder().encode(JSON.stringify(edit)).length <= 2048);
  }
  const read = await t.app.request(`/api/maps/${map.id}/features?key=${map.viewKey}`);
  const stored = (await read.json()).features;
  assert.equal(stored.length, 60);
  assert.deepEqual(stored[0].properties, { name: "point 0" });
  assert.deepEqual(stored[59].properties, { name: "point 59" });
});

Deno.test("PUT features: a viewer key is 403, an invalid body 422, bad JSON 400", async () => {
  await using t = setup();
  const map = await createMap(t.app);
  const put = (key: string, body: string) =>
    t.app.request(`/api/maps/${map.id}/features?key=${key}`, { method: "PUT", body });
  assert.match(await problem(await put(map.viewKey, JSON.stringify(collection)), 403), /view/);
  const invalid = await problem(
    await put(map.editKey, JSON.stringify({ type: "FeatureCollection", features: 1 })),
    422,
  );
  assert.match(invalid, /not a valid FeatureCollection: features must be an array/);
  // Every feature skipped: refused, with the report, rather than emptying the map.
  const none = await put(
    map.editKey,
    JSON.stringify({ type: "FeatureCollection", features: [{ x: 1 }] }),
  );
  assert.equal(none.status, 422);
  assert.deepEqual(await none.json(), {
    type: "about:blank",
    title: "Unprocessable Content",
    status: 422,
    detail: "none of the 1 features could be imported; the map is unchanged",
    skipped: [{ index: 0, reason: 'not a GeoJSON Feature (its "type" must be "Feature")' }],
  });
  await problem(await put(map.editKey, "{"), 400);
  // None of that changed the map.
  const read = await t.app.request(`/api/maps/${map.id}/features?key=${map.viewKey}`);
  assert.deepEqual((await read.json()).features, []);
});

Deno.test("GET /ws/<id> without an upgrade answers 426", async () => {
  await using t = setup();
  const map = await createMap(t.app);
  assert.match(await problem(await t.app.request(`/ws/${map.id}`), 426), /WebSocket upgrade/);
});

Deno.test("GET /ws/<id> from a foreign Origin answers 403 before upgrading", async () => {
  await using t = setup();
  const map = await createMap(t.app);
  const headers = (origin: string) => ({
    upgrade: "websocket",
    connection: "Upgrade",
    host: "maps.example.com",
    origin,
    "sec-websocket-version": "13",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-protocol": "duplexmap.v1",
  });
  for (const origin of ["https://evil.example", "null", "http://maps.example.com.evil.example"]) {
    const res = await t.app.request(`/ws/${map.id}`, { headers: headers(origin) });
    assert.equal(res.status, 403, origin);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    assert.match((await res.json()).detail, /not allowed to connect/);
  }
  // The page's own host passes the origin check (and is stopped here by the subprotocol instead).
  const own = await t.app.request(`/ws/${map.id}`, {
    headers: { ...headers("http://maps.example.com"), "sec-websocket-protocol": "other" },
  });
  assert.equal(own.status, 400);
  await own.body?.cancel();
});

Deno.test("GET /ws/<id> offering only other subprotocols answers 400 in plain text", async () => {
  await using t = setup({ origins: ["https://maps.example.com"] });
  const map = await createMap(t.app);
  const ask = (headers: Record<string, string>) =>
    t.app.request(`/ws/${map.id}`, {
      headers: { upgrade: "websocket", connection: "Upgrade", ...headers },
    });
  // Without Origin (not a browser) and from an allowed origin, the origin check passes.
  const origins: Record<string, string>[] = [{}, { origin: "https://maps.example.com" }];
  for (const origin of origins) {
    const res = await ask({ "sec-websocket-protocol": "chat, superchat", ...origin });
    assert.equal(res.status, 400);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await res.text();
    assert.match(text, /unsupported subprotocol chat, superchat/);
    assert.match(text, /duplexmap\.v1/);
  }
  const foreign = await ask({
    "sec-websocket-protocol": "duplexmap.v1",
    origin: "https://x.example",
  });
  assert.equal(foreign.status, 403);
  await foreign.body?.cancel();
});

Deno.test("/healthz and /metrics report the hub", async () => {
  await using t = setup();
  await createMap(t.app);
  const health = await t.app.request("/healthz");
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), {
    status: "ok",
    version: "9.9.9-test",
    connections: 0,
    peers: 0,
    maps: 0,
  });
  const metrics = await t.app.request("/metrics");
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await metrics.text();
  assert.match(text, /^# HELP duplexmap_connections /m);
  assert.match(text, /^duplexmap_edits_total 0$/m);
  assert.match(text, /^duplexmap_maps_in_memory 0$/m);
  assert.match(text, /^duplexmap_presence_wait_ticks 0$/m, "an idle relay holds no presence");
  const heapUsed = Number(/^duplexmap_heap_bytes\{kind="used"\} (\d+)$/m.exec(text)?.[1]);
  const rss = Number(/^duplexmap_resident_memory_bytes (\d+)$/m.exec(text)?.[1]);
  assert.ok(heapUsed > 1e6 && rss > heapUsed, `heap used ${heapUsed}, resident ${rss}`);
  // A relay on SQLite keeps no leases and reports none.
  assert.doesNotMatch(text, /duplexmap_maps_owned|duplexmap_fenced_commits_total/);
  await t.hub.close();
  const stopping = await t.app.request("/healthz");
  assert.equal(stopping.status, 503);
  assert.equal((await stopping.json()).status, "stopping");
});

Deno.test("/healthz answers 503 'fenced' while the relay cannot renew its map leases; /metrics adds the lease counters", async () => {
  let fenced = false;
  const metrics = new Metrics();
  metrics.leases = new LeaseMetrics();
  metrics.leases.owned = 2;
  metrics.leases.handoffsOut = 1;
  metrics.leases.observeRenew(0.004);
  const leases = {
    get fenced() {
      return fenced;
    },
    acquire: () => Promise.resolve("ok" as const),
    release: () => {},
    leaseOf: () => undefined,
    fencedCommit: () => {},
  };
  await using t = setup({}, { leases, metrics });
  assert.equal((await t.app.request("/healthz")).status, 200);
  fenced = true;
  const down = await t.app.request("/healthz");
  assert.equal(down.status, 503);
  assert.equal((await down.json()).status, "fenced");
  fenced = false;
  assert.equal((await t.app.request("/healthz")).status, 200);
  const text = await (await t.app.request("/metrics")).text();
  assert.match(text, /^duplexmap_maps_owned 2$/m);
  assert.match(text, /^duplexmap_handoffs_total\{direction="out"\} 1$/m);
  assert.match(text, /^duplexmap_handoffs_total\{direction="in"\} 0$/m);
  assert.match(text, /^duplexmap_lease_renew_seconds_bucket\{le="0.005"\} 1$/m);
  assert.match(text, /^duplexmap_lease_renew_seconds_count 1$/m);
  assert.match(text, /^duplexmap_fenced_commits_total 0$/m);
  assert.match(text, /^duplexmap_self_fenced_total 0$/m);
  assert.match(text, /^duplexmap_lease_renew_failures_total 0$/m);
});

Deno.test("/api/config gives the tile settings, version and the limits imports follow", async () => {
  await using t = setup({
    tiles: "https://tiles.example.com/{z}/{x}/{y}.png",
    tilesAttribution: "© Tiles",
  });
  const res = await t.app.request("/api/config");
  assert.deepEqual(await res.json(), {
    tiles: "https://tiles.example.com/{z}/{x}/{y}.png",
    tilesAttribution: "© Tiles",
    version: "9.9.9-test",
    maxFrameBytes: t.hub.limits.maxFrameBytes,
    maxVertices: 100_000,
    maxPropsBytes: 65_536,
    maxOpsPerEdit: 10_000,
    geocoder: false,
    basemaps: [
      { id: "builtin", name: "Offline (built in)", kind: "builtin" },
      {
        id: "tiles",
        name: "tiles.example.com",
        kind: "raster",
        tiles: "https://tiles.example.com/{z}/{x}/{y}.png",
        attribution: "© Tiles",
      },
    ],
  });
  // The page may load images from the tile server, and nothing else foreign.
  const csp = res.headers.get("content-security-policy") ?? "";
  assert.match(csp, /img-src [^;]*https:\/\/tiles\.example\.com/);
  assert.match(csp, /default-src 'self'/);
});

Deno.test("every --tiles source may serve the page images (CSP img-src)", async () => {
  await using t = setup({
    tileSources: [
      { id: "a", name: "a", url: "https://a.example.com/{z}/{x}/{y}.png", attribution: null },
      { id: "b", name: "b", url: "http://b.example.org:8081/t/{z}/{x}/{y}", attribution: null },
    ],
  });
  const res = await t.app.request("/api/basemaps");
  assert.deepEqual((await res.json()).basemaps.map((b: { id: string }) => b.id), [
    "builtin",
    "a",
    "b",
  ]);
  const csp = res.headers.get("content-security-policy") ?? "";
  assert.match(csp, /img-src [^;]*https:\/\/a\.example\.com/);
  assert.match(csp, /img-src [^;]*http:\/\/b\.example\.org:8081/);
});

Deno.test("pages and assets are served; unknown paths are 404 problems", async () => {
  await using t = setup();
  for (const path of ["/", "/m/AAAAAAAAAAAA"]) {
    const res = await t.app.request(path);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(await res.text(), /<!doctype html>/i);
  }
  const js = await t.app.request("/assets/map.js");
  assert.equal(js.status, 200, "run `deno task build` first if the client is not built");
  assert.match(js.headers.get("content-type") ?? "", /javascript/);
  await js.body?.cancel();
  await problem(await t.app.request("/assets/nope.js"), 404);
  await problem(await t.app.request("/assets/toString"), 404);
  await problem(await t.app.request("/no/such/page"), 404);
});

Deno.test("the map page's script has the test hook (window.duplex) only with testHooks", async () => {
  const script = async (testHooks: boolean) => {
    await using t = setup({ testHooks });
    const res = await t.app.request("/assets/map.js");
    assert.equal(res.status, 200, "run `deno task build` first if the client is not built");
    return await res.text();
  };
  // Property names survive minification: these are the handle's, found nowhere else in the page.
  const hookNames = ["storedUnsent", "pagePoint", "layerKind"];
  const production = await script(false);
  assert.ok(production.includes("Following "), "it is the map page's script");
  assert.deepEqual(hookNames.filter((n) => production.includes(n)), [], "no hook in production");
  const forTests = await script(true);
  assert.deepEqual(hookNames.filter((n) => forTests.includes(n)), hookNames);
});
