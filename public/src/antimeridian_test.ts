/** Tests for drawing shapes across the antimeridian, with real Natural Earth shapes (npm world-atlas). */
import assert from "assert";
import { feature } from "topojson-client";
import countries50 from "world-atlas/countries-50m.json" with { type: "json" };
import countries110 from "world-atlas/countries-110m.json" with { type: "json" };
import type { Geometry, Position } from "../../relay/geometry.ts";
import {
  type Box,
  copyOffset,
  coveringBox,
  shiftGeometry,
  shownGeometry,
  unwrapRing,
} from "./antimeridian.ts";
import { restoredGeometry, storedGeometry } from "./antimeridian_edit.ts";
import { rectangleBounds } from "./rectangle.ts";

type Topology = Parameters<typeof feature>[0];

function country(topology: unknown, name: string): Geometry {
  const topo = topology as Topology;
  const collection = feature(topo, topo.objects.countries);
  if (collection.type !== "FeatureCollection") throw new Error("no countries");
  const found = collection.features.find((f) => f.properties?.name === name);
  if (!found?.geometry) throw new Error(`no ${name} in world-atlas`);
  return found.geometry as Geometry;
}

function lines(g: Geometry): Position[][] {
  switch (g.type) {
    case "Point":
      return [[g.coordinates]];
    case "MultiPoint":
      return g.coordinates.map((p) => [p]);
    case "LineString":
      return [g.coordinates];
    case "MultiLineString":
    case "Polygon":
      return g.coordinates;
    case "MultiPolygon":
      return g.coordinates.flat();
    case "GeometryCollection":
      return g.geometries.flatMap(lines);
  }
}

/** Edges a flat map would draw across most of the world, except along a pole (the map's edge). */
function stripes(g: Geometry): Position[][] {
  return lines(g).flatMap((l) =>
    l.slice(1).flatMap((b, i) =>
      Math.abs(b[0] - l[i][0]) > 180 && !(Math.abs(b[1]) === 90 && Math.abs(l[i][1]) === 90)
        ? [[l[i], b]]
        : []
    )
  );
}

const width = (b: Box | null) => b ? b[2] - b[0] : NaN;

for (const [scale, topology] of [["50m", countries50], ["110m", countries110]] as const) {
  Deno.test(`${scale} Russia, Fiji and Antarctica are drawn without a band across the world, and stay stored as they were`, () => {
    for (const name of ["Russia", "Fiji", "Antarctica"]) {
      const stored = country(topology, name);
      const before = structuredClone(stored);
      assert.ok(stripes(stored).length > 0, `${name} as stored crosses 180`);
      const shown = shownGeometry(stored);
      assert.deepEqual(stripes(shown.geometry), [], `${name} drawn with no long edge`);
      assert.deepEqual(stored, before, `${name}'s stored geometry is untouched`);
      const b = shown.box;
      assert.ok(b && (b[0] + b[2]) / 2 >= -180 && (b[0] + b[2]) / 2 <= 180, `${name} centred`);
    }
    const russia = shownGeometry(country(topology, "Russia")).box;
    assert.ok(russia && russia[0] > 19 && russia[0] < 20 && russia[2] > 190 && russia[2] < 191);
    const fiji = shownGeometry(country(topology, "Fiji")).box;
    assert.ok(fiji && fiji[0] > 174 && fiji[2] > 180 && fiji[2] < 182, `Fiji ${fiji}`);
    const antarctica = shownGeometry(country(topology, "Antarctica")).box;
    assert.deepEqual(antarctica && [antarctica[0], antarctica[2]], [-180, 180]);
  });
}

Deno.test("Antarctica's ring round the pole is closed along the pole, and the basemap's unwrapRing leaves it", () => {
  for (const topology of [countries50, countries110]) {
    const stored = country(topology, "Antarctica");
    assert.equal(stored.type, "MultiPolygon");
    const shown = shownGeometry(stored).geometry;
    assert.equal(shown.type, "MultiPolygon");
    if (stored.type !== "MultiPolygon" || shown.type !== "MultiPolygon") return;
    const polar = stored.coordinates.findIndex((p) =>
      stripes({ type: "Polygon", coordinates: p }).length
    );
    const ring = shown.coordinates[polar][0];
    assert.equal(ring.length, stored.coordinates[polar][0].length + 3);
    assert.deepEqual(ring.slice(-3, -1).map((p) => p[1]), [-90, -90]);
    assert.deepEqual(ring.at(-1), ring[0], "closed");
    assert.equal(unwrapRing(stored.coordinates[polar][0]), stored.coordinates[polar][0]);
  }
});

Deno.test("the USA's Aleutians and Kiribati's islands are gathered beside each other across 180", () => {
  const usa = shownGeometry(country(countries50, "United States of America")).box;
  assert.ok(usa && usa[0] > -188 && usa[0] < -187 && usa[2] > -67 && usa[2] < -66, `USA ${usa}`);
  const kiribati = shownGeometry(country(countries50, "Kiribati")).box;
  assert.ok(width(kiribati) < 45, `Kiribati ${kiribati}`);
  // New Zealand's Tokelau and Chatham Islands lie east of 180.
  const nz = shownGeometry(country(countries50, "New Zealand")).box;
  assert.ok(width(nz) < 30, `New Zealand ${nz}`);
  // Russia's 10 m shape splits Chukotka off at 180 instead of jumping: gathered the same way.
  const split: Geometry = {
    type: "MultiPolygon",
    coordinates: [
      [[[170, 60], [180, 60], [180, 70], [170, 70], [170, 60]]],
      [[[-180, 60], [-170, 60], [-170, 70], [-180, 70], [-180, 60]]],
    ],
  };
  assert.deepEqual(shownGeometry(split).box, [170, 60, 190, 70]);
});

Deno.test("shapes that do not cross 180 are drawn as they are, the same objects", () => {
  for (const name of ["France", "Brazil", "Japan", "Chile"]) {
    const stored = country(countries50, name);
    assert.equal(shownGeometry(stored).geometry, stored, name);
  }
  const point: Geometry = { type: "Point", coordinates: [180, 0] };
  assert.equal(shownGeometry(point).geometry, point);
});

Deno.test("a feature near 180 is drawn on the copy of the world nearest the view", () => {
  const near = shownGeometry({ type: "Point", coordinates: [-179.9, -16.5] }).box;
  assert.ok(near);
  assert.equal(copyOffset(near, [170, 190]), 360);
  assert.equal(copyOffset(near, [-190, -170]), 0);
  assert.equal(copyOffset(near, [-20, 20]), 0, "out of view: left where it is");
  const fiji = shownGeometry(country(countries50, "Fiji")).box;
  assert.ok(fiji);
  assert.equal(copyOffset(fiji, [-200, -170]), -360);
  assert.equal(copyOffset(fiji, [-540, 540]), 0, "a view wider than the world keeps it");
});

Deno.test("the box around several features is small across 180, not the whole world", () => {
  const fiji = shownGeometry(country(countries50, "Fiji")).box;
  const point = shownGeometry({ type: "Point", coordinates: [-179.5, -17] }).box;
  assert.ok(fiji && point);
  const both = coveringBox([point, fiji]);
  assert.ok(both && width(both) < 8, `${both}`);
  assert.deepEqual(coveringBox([[0, 0, 10, 5], [20, -5, 30, 0]]), [0, -5, 30, 5]);
  assert.equal(coveringBox([]), null);
});

Deno.test("a shape drawn across 180 on any copy is stored in range, whole, and drawn where it was drawn", () => {
  // Geoman's rectangle from 170 to 190 (east of the antimeridian on the first copy).
  const drawn: Geometry = {
    type: "Polygon",
    coordinates: [[[170, 0], [170, 10], [190, 10], [190, 0], [170, 0]]],
  };
  const stored = storedGeometry(drawn);
  assert.deepEqual(stored, {
    type: "Polygon",
    coordinates: [[[170, 0], [170, 10], [-170, 10], [-170, 0], [170, 0]]],
  });
  const shown = shownGeometry(stored).geometry;
  assert.deepEqual(shown, drawn);
  assert.deepEqual(rectangleBounds(shown), [170, 0, 190, 10], "still a rectangle, 20° wide");
  // On the copy west of the first one; a point on the copy east of it.
  assert.deepEqual(storedGeometry({ type: "LineString", coordinates: [[-190, 5], [-170, 5]] }), {
    type: "LineString",
    coordinates: [[170, 5], [-170, 5]],
  });
  assert.deepEqual(storedGeometry({ type: "Point", coordinates: [370.25, 91] }), {
    type: "Point",
    coordinates: [10.25, 90],
  });
  const inRange: Geometry = { type: "LineString", coordinates: [[1, 2], [3, 4]] };
  assert.equal(storedGeometry(inRange), inRange);
});

Deno.test("an edge drawn more than 180° long keeps its way round once stored", () => {
  // From -170 east to 170: across Africa, not across the Pacific.
  const stored = storedGeometry({ type: "LineString", coordinates: [[-170, 10], [170, 20]] });
  assert.equal(stored.type, "LineString");
  if (stored.type !== "LineString") return;
  assert.ok(stored.coordinates.length > 2);
  assert.ok(stored.coordinates.every((p) => p[0] >= -180 && p[0] <= 180));
  const box = shownGeometry(stored).box;
  assert.deepEqual(box && [box[0], box[2]], [-170, 170]);
});

function positionsOf(g: Geometry): Position[] {
  return lines(g).flat();
}

Deno.test("a Geoman edit of Russia comes back as stored, only the moved position changed", () => {
  const stored = country(countries50, "Russia");
  const shown = shownGeometry(stored).geometry;
  assert.equal(shown.type, "MultiPolygon");
  if (shown.type !== "MultiPolygon" || stored.type !== "MultiPolygon") return;
  // Untouched: exactly the stored positions, -180 still -180 and +180 still +180.
  assert.deepEqual(restoredGeometry(shown, stored, 0), stored);
  // Chukotka (drawn east of 180) gets one position dragged a little.
  const edited = structuredClone(shown);
  const part = edited.coordinates.findIndex((p) => p[0].some((q) => q[0] > 185));
  const i = edited.coordinates[part][0].findIndex((q) => q[0] > 185);
  const [x, y] = edited.coordinates[part][0][i];
  edited.coordinates[part][0][i] = [x + 0.5, y + 0.25];
  const back = restoredGeometry(edited, stored, 0);
  const expected = structuredClone(stored);
  const r6 = (n: number) => Math.round(n * 1e6) / 1e6;
  expected.coordinates[part][0][i] = [Math.round((r6(x + 0.5) - 360) * 1e7) / 1e7, r6(y + 0.25)];
  assert.deepEqual(back, expected);
  // Drawn on the copy west of the first one (offset -360), an edit maps back the same way.
  assert.deepEqual(restoredGeometry(shiftGeometry(shown, -360), stored, -360), stored);
});

Deno.test("a Geoman edit of Antarctica leaves out the positions added along the pole", () => {
  const stored = country(countries110, "Antarctica");
  const shown = shownGeometry(stored).geometry;
  assert.deepEqual(restoredGeometry(shown, stored, 0), stored);
});

Deno.test("a feature dragged across 180 comes back in range and is drawn where it was dropped", () => {
  const stored = country(countries50, "Fiji");
  const shown = shownGeometry(stored).geometry;
  const dragged = shiftGeometry(shown, 5);
  const back = restoredGeometry(dragged, stored, 0);
  assert.ok(positionsOf(back).every((p) => p[0] >= -180 && p[0] <= 180));
  const again = shownGeometry(back);
  const before = shownGeometry(stored).box;
  assert.ok(again.box && before);
  const moved = (again.box[0] - (before[0] + 5) + 720) % 360;
  assert.ok(moved < 1e-6 || moved > 360 - 1e-6, `${again.box} vs ${before}`);
  assert.deepEqual(stripes(again.geometry), []);
});

Deno.test("a corner Geoman recomputes with float noise still counts as left alone", () => {
  const stored: Geometry = {
    type: "Polygon",
    coordinates: [[[-3.658447, 50.1], [-3.658447, 51.2], [2.5, 51.2], [2.5, 50.1], [
      -3.658447,
      50.1,
    ]]],
  };
  // The north-east corner dragged to 3.0001234567, 51.3; the rest recomputed from the bounds.
  const edited: Geometry = {
    type: "Polygon",
    coordinates: [[
      [-3.6584469999999985, 50.1],
      [-3.6584469999999985, 51.30000001234],
      [
        3.0001234567,
        51.30000001234,
      ],
      [3.0001234567, 50.1],
      [-3.6584469999999985, 50.1],
    ]],
  };
  assert.deepEqual(restoredGeometry(edited, stored, 0), {
    type: "Polygon",
    coordinates: [[[-3.658447, 50.1], [-3.658447, 51.3], [3.000123, 51.3], [3.000123, 50.1], [
      -3.658447,
      50.1,
    ]]],
  });
});
