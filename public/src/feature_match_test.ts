/** Unit tests of matchFeatures: any property value, case- and accent-insensitive, names first. */
import assert from "assert";
import type { StoredFeature } from "../../relay/protocol.ts";
import { FeatureMatcher, fold, labelOf } from "./feature_match.ts";

function point(id: string, properties: Record<string, unknown>): StoredFeature {
  return {
    type: "Feature",
    id,
    geometry: { type: "Point", coordinates: [8.54, 47.37] },
    properties,
  };
}

const FEATURES: StoredFeature[] = [
  point("kiosk", { name: "Kiosk am See", note: "near the Zürichsee" }),
  point("lake", { title: "Zürichsee", depth: 136 }),
  point("bridge", { name: "Quaibrücke", tags: { crosses: "Limmat" } }),
  point("zurich", { name: "Zürich" }),
  point("school", { kind: "school", open: true, name: "Schulhaus Limmat" }),
  point("empty", {}),
];

const matcher = new FeatureMatcher();
const matchFeatures = (fs: StoredFeature[], q: string, limit: number) =>
  matcher.match(fs, q, limit);
const ids = (q: string, limit = 10) => matchFeatures(FEATURES, q, limit).map((m) => m.fid);

Deno.test("fold drops case and accents", () => {
  assert.equal(fold("ZÜRICH Straße Ålesund"), "zurich straße alesund");
});

Deno.test("a value matches without its case or accents", () => {
  assert.deepEqual(ids("ZURICH"), ["zurich", "lake", "kiosk"]);
  assert.deepEqual(ids("zürich"), ids("zurich"));
});

Deno.test("names rank first: exact, then prefix, then a word, then inside; then other values", () => {
  // "Zürich" is a name equal to the query, "Zürichsee" a title starting with it, and the kiosk
  // matches only in its note.
  assert.deepEqual(matchFeatures(FEATURES, "zurich", 10), [
    { fid: "zurich", label: "Zürich", key: "name", value: "Zürich" },
    { fid: "lake", label: "Zürichsee", key: "title", value: "Zürichsee" },
    { fid: "kiosk", label: "Kiosk am See", key: "note", value: "near the Zürichsee" },
  ]);
  // A word in a name beats a value elsewhere, and the match shown is the best of a feature's.
  assert.deepEqual(matchFeatures(FEATURES, "limmat", 10), [
    { fid: "school", label: "Schulhaus Limmat", key: "name", value: "Schulhaus Limmat" },
    { fid: "bridge", label: "Quaibrücke", key: "tags", value: "Limmat" },
  ]);
  assert.deepEqual(ids("see"), ["kiosk", "lake"], "a word ('am See') before inside ('Zürichsee')");
});

Deno.test("numbers, booleans and nested values match as text", () => {
  assert.deepEqual(matchFeatures(FEATURES, "136", 10), [
    { fid: "lake", label: "Zürichsee", key: "depth", value: "136" },
  ]);
  assert.deepEqual(ids("true"), ["school"]);
  assert.deepEqual(ids("limm"), ["school", "bridge"]);
});

Deno.test("an empty query or no match gives nothing; the limit is kept", () => {
  assert.deepEqual(ids("   "), []);
  assert.deepEqual(ids("nowhere"), []);
  assert.deepEqual(ids("z", 2), ["lake", "zurich"], "equal ranks keep the map's order");
  assert.deepEqual(ids("a.b*("), [], "regex characters are plain text");
});

Deno.test("an edit (new properties object) is seen by the next search", () => {
  const features = [point("a", { name: "Old mill" })];
  const m = new FeatureMatcher();
  assert.deepEqual(m.match(features, "mill", 5).map((f) => f.value), ["Old mill"]);
  features[0] = { ...features[0], properties: { name: "New bakery" } };
  assert.deepEqual(m.match(features, "mill", 5), []);
  assert.deepEqual(m.match(features, "bakery", 5).map((f) => f.value), ["New bakery"]);
});

Deno.test("labelOf: a name-like property, else the first text, else the geometry", () => {
  assert.equal(labelOf(point("a", { "name:en": "Lake Zurich", kind: "lake" })), "Lake Zurich");
  assert.equal(labelOf(point("b", { kind: "bench", seats: 3 })), "bench");
  assert.equal(labelOf(point("c", { seats: 3 })), "Unnamed point");
  assert.equal(
    labelOf({
      type: "Feature",
      id: "d",
      geometry: { type: "Polygon", coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] },
      properties: {},
    }),
    "Unnamed area",
  );
});
