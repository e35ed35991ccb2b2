/** Unit tests of PlaceSource (debounce, stale answers dropped) and zoomForPopulation. */
import assert from "assert";
import { FakeTimers } from "../../relay/_fake_timers.ts";
import { type Place, placeDetail, PlaceSource, zoomForPopulation } from "./find_sources.ts";

const place = (name: string): Place => ({ name, country: "CH", lat: 47, lon: 8, population: 1 });

/**
 * A fetch whose answers the test releases one by one, in any order; it does not stop on abort,
 * as an answer already on its way does not.
 */
function heldFetch() {
  const calls: { url: string; signal: AbortSignal; answer(places: Place[]): void }[] = [];
  const fetch = (url: string | URL | Request, init?: RequestInit) =>
    new Promise<Response>((resolve) => {
      const signal = init?.signal ?? new AbortController().signal;
      calls.push({
        url: String(url),
        signal,
        answer: (places) => resolve(Response.json({ places })),
      });
    });
  return { calls, fetch: fetch as typeof globalThis.fetch };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("PlaceSource asks once typing pauses, with the query escaped", async () => {
  const timers = new FakeTimers();
  const held = heldFetch();
  const got: [string, string[]][] = [];
  const source = new PlaceSource({
    url: "/api/places",
    delayMs: 150,
    limit: 6,
    timers,
    fetch: held.fetch,
    onPlaces: (q, places) => got.push([q, places.map((p) => p.name)]),
  });
  source.query("Z");
  timers.advance(100);
  source.query("Zü");
  timers.advance(100);
  source.query("Zür ");
  assert.equal(held.calls.length, 0, "nothing while typing");
  timers.advance(150);
  assert.deepEqual(held.calls.map((c) => c.url), ["/api/places?q=Z%C3%BCr&limit=6"]);
  held.calls[0].answer([place("Zürich")]);
  await settle();
  assert.deepEqual(got, [["Zür", ["Zürich"]]]);
});

Deno.test("PlaceSource drops a slow answer once the query has changed", async () => {
  const timers = new FakeTimers();
  const held = heldFetch();
  const got: [string, string[]][] = [];
  const source = new PlaceSource({
    url: "/api/places",
    delayMs: 10,
    timers,
    fetch: held.fetch,
    onPlaces: (q, places) => got.push([q, places.map((p) => p.name)]),
  });
  source.query("Ber");
  timers.advance(10);
  source.query("Bern");
  timers.advance(10);
  assert.equal(held.calls.length, 2);
  assert.equal(held.calls[0].signal.aborted, true, "the older request is aborted");
  held.calls[1].answer([place("Bern")]);
  held.calls[0].answer([place("Berlin")]);
  await settle();
  assert.deepEqual(got, [["Bern", ["Bern"]]], "only the current query's answer is delivered");
});

Deno.test("PlaceSource: too short gives none at once; failures give none; close stops it", async () => {
  const timers = new FakeTimers();
  const got: [string, number][] = [];
  const source = new PlaceSource({
    url: "/api/geocode",
    delayMs: 10,
    minLength: 3,
    timers,
    fetch: () => Promise.resolve(new Response("no", { status: 404 })),
    onPlaces: (q, places) => got.push([q, places.length]),
  });
  source.query("ab");
  assert.deepEqual(got, [["ab", 0]]);
  source.query("abc");
  timers.advance(10);
  await settle();
  assert.deepEqual(got, [["ab", 0], ["abc", 0]]);
  source.query("abcd");
  source.close();
  timers.advance(10);
  await settle();
  assert.equal(got.length, 2);
});

Deno.test("PlaceSource passes on what went wrong: the problem's detail, or the status", async () => {
  const timers = new FakeTimers();
  const got: [string, number, string | undefined][] = [];
  const answers = [
    Response.json({ status: 429, detail: "the online geocoder is busy" }, { status: 429 }),
    new Response("<html>bad gateway</html>", { status: 502 }),
  ];
  const source = new PlaceSource({
    url: "/api/geocode",
    delayMs: 0,
    timers,
    fetch: () => Promise.resolve(answers.shift() ?? Promise.reject(new TypeError("offline"))),
    onPlaces: (q, places, problem) => got.push([q, places.length, problem]),
  });
  for (const q of ["one", "two", "three"]) {
    source.query(q);
    timers.advance(0);
    await settle();
  }
  assert.deepEqual(got, [
    ["one", 0, "the online geocoder is busy"],
    ["two", 0, "the server answered 502"],
    ["three", 0, "the server could not be reached"],
  ]);
});

Deno.test("zoomForPopulation: bigger places are shown from further out", () => {
  assert.deepEqual([8e6, 2e6, 4e5, 3e4, 500, 0].map(zoomForPopulation), [10, 11, 12, 13, 14, 14]);
});

Deno.test("placeDetail names a country code in the reader's language", () => {
  const hyde = {
    name: "Hyde",
    country: "GB",
    admin1: "ENG",
    lat: 53.45,
    lon: -2.08,
    population: 1,
  };
  assert.equal(placeDetail(hyde, "en"), "ENG, United Kingdom");
  assert.equal(placeDetail({ ...hyde, admin1: undefined }, "de"), "Vereinigtes Königreich");
  assert.equal(placeDetail({ ...hyde, country: "Schweiz" }, "en"), "ENG, Schweiz");
  assert.equal(placeDetail({ ...hyde, country: "" }, "en"), "ENG");
});
