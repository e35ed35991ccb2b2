/** End-to-end: the offline gazetteer, `GET /api/places`, of a real relay on the real GeoNames data. */
import assert from "assert";
import { startRelay } from "./_relay.ts";

interface Place {
  name: string;
  country: string;
  admin1?: string;
  lat: number;
  lon: number;
  population: number;
}

async function places(base: string, query: string): Promise<Place[]> {
  const res = await fetch(`${base}/api/places?${query}`);
  assert.equal(res.status, 200, await res.clone().text());
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  const body = await res.json();
  assert.ok(Array.isArray(body.places));
  return body.places;
}

Deno.test("GET /api/places finds places by name and by box, with no key", async (t) => {
  await using relay = await startRelay({ args: ["--memory"] });
  const base = relay.url;

  await t.step(
    "loading the gazetteer does not stall the relay: /healthz answers first",
    async () => {
      // The first query loads and indexes ~200 000 places (a second or more of CPU). On the relay's
      // own thread that held up every map's edits and cursors, and HAProxy's health checks.
      const order: string[] = [];
      const first = fetch(`${base}/api/places?q=zur`).then(async (res) => {
        await res.body?.cancel();
        order.push("places");
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const health = fetch(`${base}/healthz`).then(async (res) => {
        assert.equal(res.status, 200);
        await res.body?.cancel();
        order.push("healthz");
      });
      await Promise.all([first, health]);
      assert.deepEqual(order, ["healthz", "places"]);
    },
  );

  await t.step("'zur' finds Zürich first", async () => {
    const [first] = await places(base, "q=zur");
    assert.equal(first.name, "Zürich");
    assert.equal(first.country, "CH");
    assert.ok(Math.abs(first.lat - 47.37) < 0.1 && Math.abs(first.lon - 8.55) < 0.1);
  });

  await t.step("'sao paulo' (no accent) finds São Paulo", async () => {
    const [first] = await places(base, `q=${encodeURIComponent("sao paulo")}`);
    assert.equal(first.name, "São Paulo");
    assert.equal(first.country, "BR");
  });

  await t.step("'new y' ranks New York City first; limit caps the list", async () => {
    const list = await places(base, `q=${encodeURIComponent("new y")}&limit=5`);
    assert.equal(list[0].name, "New York City");
    assert.equal(list.length, 5);
    assert.equal((await places(base, "q=a")).length, 10, "limit defaults to 10");
  });

  await t.step("a box over Europe lists its big cities, most populous first", async () => {
    const res = await fetch(`${base}/api/places?bbox=-10,35,30,60&limit=20`);
    assert.match(res.headers.get("cache-control") ?? "", /max-age=\d+/);
    const list: Place[] = (await res.json()).places;
    assert.equal(list.length, 20);
    const names = list.map((p) => p.name);
    for (const city of ["London", "Berlin", "Madrid", "Rome", "Paris"]) {
      assert.ok(names.includes(city), `${city} in ${names.join(", ")}`);
    }
    const sizes = list.map((p) => p.population);
    assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a));
    assert.ok(list.every((p) => p.lon >= -10 && p.lon <= 30 && p.lat >= 35 && p.lat <= 60));
    assert.equal((await places(base, "bbox=-10,35,30,60")).length, 50, "limit defaults to 50");
  });

  await t.step("a box crossing the antimeridian holds places on both sides", async () => {
    const list = await places(base, "bbox=170,-25,-170,-10");
    const names = list.map((p) => p.name);
    assert.ok(names.includes("Suva"), names.join(", "));
    assert.ok(names.includes("Nuku‘alofa") || names.includes("Apia"), names.join(", "));
    assert.ok(list.every((p) => p.lon >= 170 || p.lon <= -170));
  });

  await t.step("bad input answers 400 problem+json saying what was wrong", async () => {
    for (
      const query of [
        "",
        "q=",
        "q=%20%20",
        `q=${"x".repeat(201)}`,
        "q=zur&bbox=0,0,1,1",
        "q=zur&limit=0",
        "q=zur&limit=51",
        "q=zur&limit=ten",
        "bbox=0,0,1",
        "bbox=a,b,c,d",
        "bbox=0,10,1,5",
        "bbox=-181,0,0,1",
        "bbox=0,-91,1,0",
        "bbox=0,0,1,1&limit=201",
      ]
    ) {
      const res = await fetch(`${base}/api/places?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.headers.get("content-type"), "application/problem+json", query);
      const body = await res.json();
      assert.equal(body.status, 400);
      assert.ok(body.detail.length > 10, query);
    }
    // The relay still answers after all that.
    assert.equal((await places(base, "q=zur"))[0].name, "Zürich");
  });
});
