/** Unit tests of `GET /api/places`: the index is built on the first query, once. */
import assert from "assert";
import { Hono } from "hono";
import { parsePlaces, type PlaceIndex } from "../places.ts";
import type { Env, RouteContext } from "./common.ts";
import { parseBBox, placesRoutes } from "./places.ts";

const TEXT = "Zürich\tZurich\t\tCH\tZH\t47.36667\t8.55\t341730\n";

function appWith(load: () => Promise<PlaceIndex>): Hono<Env> {
  const app = new Hono<Env>();
  placesRoutes(app, {} as RouteContext, load);
  return app;
}

Deno.test("the gazetteer is loaded on the first query, not before, and only once", async () => {
  let loads = 0;
  const app = appWith(() => {
    loads++;
    return Promise.resolve(parsePlaces(TEXT));
  });
  assert.equal(loads, 0);
  const bad = await app.request("/api/places?bbox=nope");
  assert.equal(bad.status, 400);
  assert.equal(loads, 0, "a rejected request loads nothing");
  const answers = await Promise.all([
    app.request("/api/places?q=zur"),
    app.request("/api/places?bbox=0,40,10,50"),
  ]);
  assert.equal(loads, 1);
  for (const res of answers) {
    assert.equal(res.status, 200);
    assert.equal((await res.json()).places[0].name, "Zürich");
  }
});

Deno.test("a gazetteer that failed to load is tried again on the next query", async () => {
  let loads = 0;
  const app = new Hono<Env>();
  placesRoutes(app, {} as RouteContext, () => {
    loads++;
    return loads === 1 ? Promise.reject(new Error("disk")) : Promise.resolve(parsePlaces(TEXT));
  });
  const failed = await app.request("/api/places?q=zur");
  assert.equal(failed.status, 503, "a failed load says so, as a problem");
  assert.equal(failed.headers.get("content-type"), "application/problem+json");
  assert.equal((await app.request("/api/places?q=zur")).status, 200);
  assert.equal(loads, 2);
});

Deno.test("parseBBox reads W,S,E,N and says what is wrong with anything else", () => {
  assert.deepEqual(parseBBox("170,-20,-170,-10"), {
    west: 170,
    south: -20,
    east: -170,
    north: -10,
  });
  assert.deepEqual(parseBBox("-10.5,35,30,60.25"), {
    west: -10.5,
    south: 35,
    east: 30,
    north: 60.25,
  });
  for (const bad of ["", "1,2,3", "1,2,3,4,5", "x,0,1,1", "0,0,1e3,1", "200,0,0,1", "0,50,1,40"]) {
    assert.equal(typeof parseBBox(bad), "string", bad);
  }
});
