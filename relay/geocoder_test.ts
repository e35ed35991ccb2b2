/** Tests of `/api/geocode` against a fake Nominatim on loopback, and of the Geocoder's limits. */
import assert from "assert";
import { appFixture } from "./_app_fixture.ts";
import { Geocoder, toPlace } from "./geocoder.ts";

/** One jsonv2 result as Nominatim writes it (strings for numbers). */
const ZURICH_JSONV2 = {
  place_id: 1,
  lat: "47.3744489",
  lon: "8.5410422",
  category: "boundary",
  type: "administrative",
  name: "Zürich",
  display_name: "Zürich, Bezirk Zürich, Zürich, Schweiz/Suisse/Svizzera/Svizra",
  address: { city: "Zürich", state: "Zürich", country: "Schweiz/Suisse/Svizzera/Svizra" },
  boundingbox: ["47.3202187", "47.4346662", "8.4480061", "8.6254413"],
};

/** A fake Nominatim on a free loopback port that records what it was asked. */
function fakeNominatim(answer: (url: URL) => Promise<Response> | Response) {
  const requests: { url: URL; userAgent: string | null }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    requests.push({ url, userAgent: req.headers.get("user-agent") });
    return answer(url);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/nominatim/`,
    requests,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

function geocoder(url: string, extra: Partial<ConstructorParameters<typeof Geocoder>[0]> = {}) {
  return new Geocoder({ url, userAgent: "DuplexMap/9.9.9-test (tests)", ...extra });
}

Deno.test("/api/geocode maps Nominatim's answer into places, and names Duplex Map upstream", async () => {
  await using upstream = fakeNominatim(() => Response.json([ZURICH_JSONV2, { lat: "x" }]));
  await using fx = appFixture({ geocoder: geocoder(upstream.url) });
  const res = await fx.app.request("/api/geocode?q=Z%C3%BCrich");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    places: [{
      name: "Zürich",
      country: "Schweiz/Suisse/Svizzera/Svizra",
      admin1: "Zürich",
      lat: 47.3744489,
      lon: 8.5410422,
      population: 0,
      bbox: [8.4480061, 47.3202187, 8.6254413, 47.4346662],
    }],
  });
  assert.equal(upstream.requests.length, 1);
  const [{ url, userAgent }] = upstream.requests;
  assert.equal(url.pathname, "/nominatim/search");
  assert.equal(url.searchParams.get("format"), "jsonv2");
  assert.equal(url.searchParams.get("q"), "Zürich");
  assert.equal(url.searchParams.get("limit"), "10");
  assert.match(userAgent ?? "", /^DuplexMap\//);
  const config = await (await fx.app.request("/api/config")).json();
  assert.equal(config.geocoder, true);
});

Deno.test("/api/geocode: the same search again is answered from the cache", async () => {
  await using upstream = fakeNominatim(() => Response.json([ZURICH_JSONV2]));
  await using fx = appFixture({ geocoder: geocoder(upstream.url) });
  const first = await (await fx.app.request("/api/geocode?q=zurich")).json();
  const again = await (await fx.app.request("/api/geocode?q=%20ZURICH%20")).json();
  assert.deepEqual(again, first);
  assert.equal(upstream.requests.length, 1, "one upstream request for both");
});

Deno.test("/api/geocode: an upstream that does not answer in time gives 504", async () => {
  await using upstream = fakeNominatim(async () => {
    await new Promise((r) => setTimeout(r, 1000));
    return Response.json([]);
  });
  await using fx = appFixture({ geocoder: geocoder(upstream.url, { timeoutMs: 100 }) });
  const res = await fx.app.request("/api/geocode?q=slow");
  assert.equal(res.status, 504);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  assert.match((await res.json()).detail, /did not answer within 0.1 s/);
});

Deno.test("/api/geocode: an upstream error is 502 and is not remembered", async () => {
  let fail = true;
  await using upstream = fakeNominatim(() =>
    fail ? new Response("overloaded", { status: 503 }) : Response.json([ZURICH_JSONV2])
  );
  const logged: [string, Record<string, unknown> | undefined][] = [];
  const logger = {
    log: (event: string, fields?: Record<string, unknown>) => logged.push([event, fields]),
  };
  await using fx = appFixture({ geocoder: geocoder(upstream.url, { logger }) });
  const res = await fx.app.request("/api/geocode?q=zurich");
  assert.equal(res.status, 502);
  assert.match((await res.json()).detail, /answered 503/);
  assert.deepEqual(logged, [["geocoder_failed", {
    status: 502,
    detail: "the online geocoder answered 503",
  }]], "logged for the operator, without the query");
  fail = false;
  const retry = await fx.app.request("/api/geocode?q=zurich");
  assert.equal(retry.status, 200);
  assert.equal(upstream.requests.length, 2);
});

Deno.test("/api/geocode without --geocoder is 404 and /api/config says geocoder: false", async () => {
  await using fx = appFixture();
  const res = await fx.app.request("/api/geocode?q=zurich");
  assert.equal(res.status, 404);
  assert.match((await res.json()).detail, /no online geocoder is configured/);
  assert.equal((await (await fx.app.request("/api/config")).json()).geocoder, false);
});

Deno.test("/api/geocode: an empty or overlong q is 400", async () => {
  await using upstream = fakeNominatim(() => Response.json([]));
  await using fx = appFixture({ geocoder: geocoder(upstream.url) });
  for (const q of ["", "%20%20", "x".repeat(201)]) {
    const res = await fx.app.request(`/api/geocode?q=${q}`);
    assert.equal(res.status, 400, q);
    await res.body?.cancel();
  }
  assert.equal((await fx.app.request("/api/geocode")).status, 400);
  assert.equal(upstream.requests.length, 0);
});

Deno.test("Geocoder spaces upstream requests one a second for everyone, then refuses with 429", async () => {
  let now = 0;
  const slept: number[] = [];
  const asked: string[] = [];
  const g = geocoder("http://nominatim.invalid", {
    now: () => now,
    sleep: (ms) => {
      slept.push(ms);
      return Promise.resolve();
    },
    fetch: (url) => {
      asked.push(new URL(String(url)).searchParams.get("q") ?? "");
      return Promise.resolve(Response.json([ZURICH_JSONV2]));
    },
  });
  // Four different searches at the same instant from four addresses: 0, 1 and 2 s of waiting
  // are within the 2 s queue; the fourth would wait 3 s and is refused.
  const results = await Promise.all(["a", "b", "c", "d"].map((q, i) => g.search(q, `10.0.0.${i}`)));
  assert.deepEqual(slept, [0, 1000, 2000]);
  assert.deepEqual(asked, ["a", "b", "c"]);
  assert.deepEqual(results.map((r) => r.ok ? 200 : r.status), [200, 200, 200, 429]);
  // A cached search needs no turn.
  assert.equal((await g.search("a", "10.0.0.9")).ok, true);
  assert.equal(asked.length, 3);
  now = 3000;
  assert.equal((await g.search("d", "10.0.0.3")).ok, true);
});

Deno.test("Geocoder limits each address (cached searches count too)", async () => {
  let now = 0;
  const g = geocoder("http://nominatim.invalid", {
    now: () => now,
    sleep: () => Promise.resolve(),
    fetch: () => Promise.resolve(Response.json([])),
    perAddressRate: 2,
    perAddressBurst: 3,
  });
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    const r = await g.search("same", "10.0.0.1");
    statuses.push(r.ok ? 200 : r.status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 429]);
  assert.equal((await g.search("same", "10.0.0.2")).ok, true, "another address is not affected");
  now = 500;
  assert.equal((await g.search("same", "10.0.0.1")).ok, true, "one more after half a second");
});

Deno.test("Geocoder forgets the least recently used searches beyond cacheSize", async () => {
  const asked: string[] = [];
  const g = geocoder("http://nominatim.invalid", {
    cacheSize: 2,
    upstreamRate: 1000,
    perAddressBurst: 100,
    sleep: () => Promise.resolve(),
    fetch: (url) => {
      asked.push(new URL(String(url)).searchParams.get("q") ?? "");
      return Promise.resolve(Response.json([]));
    },
  });
  for (const q of ["a", "b", "a", "c", "a", "b"]) await g.search(q, "x");
  // "a" stayed (used last but one each time); "b" was pushed out by "c".
  assert.deepEqual(asked, ["a", "b", "c", "b"]);
});

Deno.test("toPlace: falls back to display_name and refuses results without a position", () => {
  assert.deepEqual(
    toPlace({ lat: "-33.86", lon: "151.2", display_name: "Sydney Opera House, Sydney, Australia" }),
    { name: "Sydney Opera House", country: "Australia", lat: -33.86, lon: 151.2, population: 0 },
  );
  assert.equal(toPlace({ lat: "", lon: "1" }), null);
  assert.equal(toPlace({ lat: "95", lon: "1" }), null);
  assert.equal(toPlace(null), null);
  assert.equal(toPlace("Zürich"), null);
});
