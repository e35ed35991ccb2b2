/** Unit tests of the gazetteer index on a small hand-written gazetteer text. */
import assert from "assert";
import { normalizeName, parsePlaces } from "./places.ts";

// name, ascii, alternates, country, admin1, lat, lon, population; most populous first.
const TEXT = [
  "# test gazetteer",
  "New York City\t\tNew York,Nueva York\tUS\tNY\t40.71427\t-74.00597\t8804190",
  "São Paulo\tSao Paulo\t\tBR\t\t-23.5475\t-46.63611\t12400232",
  "Köln\tKoeln\tCologne\tDE\t\t50.93333\t6.95\t963395",
  "Zürich\tZurich\tZurigo\tCH\tZH\t47.36667\t8.55\t341730",
  "Suva\t\t\tFJ\t\t-18.14161\t178.44149\t77366",
  "Newark\t\t\tUS\tNJ\t40.73566\t-74.17237\t281054",
  "Apia\t\t\tWS\t\t-13.83333\t-171.76666\t40407",
  "Zurndorf\t\t\tAT\t\t47.96\t16.99\t2000",
  "Cologne\t\t\tFR\t\t43.72\t0.97\t728",
  "New Yekepa\t\t\tLR\t\t7.57\t-8.53\t700",
].join("\n");

Deno.test("normalizeName takes off accents and case and makes runs of spaces one", () => {
  assert.equal(normalizeName("  São   Paulo"), "sao paulo");
  assert.equal(normalizeName("ZÜRICH"), "zurich");
  assert.equal(normalizeName("Łódź"), "lodz");
  assert.equal(normalizeName("new "), "new ");
});

Deno.test("search matches a prefix of a name without case or accents", () => {
  const index = parsePlaces(TEXT);
  assert.equal(index.size, 10);
  assert.deepEqual(index.search("zur", 10).map((p) => p.name), ["Zürich", "Zurndorf"]);
  assert.deepEqual(index.search("SAO PAULO", 10).map((p) => p.name), ["São Paulo"]);
  assert.deepEqual(index.search("sã", 10).map((p) => p.name), ["São Paulo"]);
  assert.deepEqual(index.search("koln", 10).map((p) => p.name), ["Köln"]);
});

Deno.test("search ranks by population, exact matches first, each place once", () => {
  const index = parsePlaces(TEXT);
  // "New York City" matches by name and by two alternates, and is listed once.
  assert.deepEqual(index.search("new", 10).map((p) => p.name), [
    "New York City",
    "Newark",
    "New Yekepa",
  ]);
  assert.deepEqual(index.search("new y", 10).map((p) => p.name), ["New York City", "New Yekepa"]);
  // Both are called Cologne (Köln by an alternate name): both exact, the bigger first.
  assert.deepEqual(index.search("cologne", 10).map((p) => p.name), ["Köln", "Cologne"]);
  assert.deepEqual(index.search("colog", 1).map((p) => p.name), ["Köln"]);
  assert.deepEqual(index.search("   ", 10), []);
  assert.deepEqual(index.search("xyz", 10), []);
});

Deno.test("search answers the contract's Place shape", () => {
  const [zurich] = parsePlaces(TEXT).search("zurigo", 10);
  assert.deepEqual(zurich, {
    name: "Zürich",
    country: "CH",
    admin1: "ZH",
    lat: 47.36667,
    lon: 8.55,
    population: 341730,
  });
  assert.equal("admin1" in parsePlaces(TEXT).search("suva", 1)[0], false);
});

Deno.test("within picks the most populous places inside a box, up to the limit", () => {
  const index = parsePlaces(TEXT);
  const europe = { west: -10, south: 35, east: 30, north: 60 };
  assert.deepEqual(index.within(europe, 50).map((p) => p.name), [
    "Köln",
    "Zürich",
    "Zurndorf",
    "Cologne",
  ]);
  assert.deepEqual(index.within(europe, 2).map((p) => p.name), ["Köln", "Zürich"]);
  assert.deepEqual(index.within({ west: 0, south: 0, east: 1, north: 1 }, 50), []);
});

Deno.test("within takes a box crossing the antimeridian (west > east)", () => {
  const index = parsePlaces(TEXT);
  const pacific = { west: 170, south: -30, east: -170, north: 0 };
  assert.deepEqual(index.within(pacific, 50).map((p) => p.name), ["Suva", "Apia"]);
  // The same numbers the other way round are the rest of the world.
  const rest = index.within({ west: -170, south: -30, east: 170, north: 0 }, 50);
  assert.deepEqual(rest.map((p) => p.name), ["São Paulo"]);
});

Deno.test("within answers small boxes (read by grid cell) like a scan of every place would", () => {
  const index = parsePlaces(TEXT);
  const all = index.within({ west: -180, south: -90, east: 180, north: 90 }, 50);
  assert.equal(all.length, index.size);
  // Small boxes around each place, some across the antimeridian, and on the map's edges.
  const boxes = [
    { west: 178, south: -19, east: -171, north: -13 },
    { west: 179.9, south: -90, east: -179.9, north: 90 },
    { west: 6, south: 47, east: 9, north: 51 },
    { west: 180, south: 89, east: 180, north: 90 },
    ...all.map((p) => ({ west: p.lon, south: p.lat, east: p.lon, north: p.lat })),
  ];
  for (const box of boxes) {
    const expected = all.filter((p) =>
      p.lat >= box.south && p.lat <= box.north &&
      (box.west > box.east
        ? p.lon >= box.west || p.lon <= box.east
        : p.lon >= box.west && p.lon <= box.east)
    );
    assert.deepEqual(index.within(box, 50), expected, JSON.stringify(box));
  }
  assert.deepEqual(
    index.within({ west: 178, south: -19, east: -171, north: -13 }, 50).map((p) => p.name),
    ["Suva", "Apia"],
  );
});

Deno.test("short queries answer the same the second time (they are kept), each limit its own", () => {
  const index = parsePlaces(TEXT);
  const first = index.search("n", 10);
  assert.deepEqual(first.map((p) => p.name), ["New York City", "Newark", "New Yekepa"]);
  assert.deepEqual(index.search("N", 10), first);
  assert.deepEqual(index.search("n", 1).map((p) => p.name), ["New York City"]);
  assert.deepEqual(index.search("n", 10), first);
  first[0].name = "changed by a caller";
  assert.equal(index.search("n", 10)[0].name, "New York City");
});
