/** Unit tests of the GeoJSON geometry checks and vertex counting. */
import assert from "assert";
import { geometryProblem, vertexCount } from "./geometry.ts";
import type { Geometry } from "./geometry.ts";

const square = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]];

Deno.test("geometryProblem accepts every valid RFC 7946 geometry type", () => {
  const valid: Geometry[] = [
    { type: "Point", coordinates: [13.4, 52.5] },
    { type: "Point", coordinates: [-180, -90, 120] },
    { type: "MultiPoint", coordinates: [[0, 0], [180, 90]] },
    { type: "MultiPoint", coordinates: [] },
    { type: "LineString", coordinates: [[0, 0], [1, 1]] },
    { type: "MultiLineString", coordinates: [[[0, 0], [1, 1]], [[2, 2], [3, 3], [4, 4]]] },
    { type: "Polygon", coordinates: [square] },
    { type: "MultiPolygon", coordinates: [[square], [square, square]] },
    {
      type: "GeometryCollection",
      geometries: [{ type: "Point", coordinates: [0, 0] }, {
        type: "LineString",
        coordinates: [[0, 0], [1, 1]],
      }],
    },
  ];
  for (const g of valid) assert.equal(geometryProblem(g), null, JSON.stringify(g));
});

Deno.test("geometryProblem names what is wrong", () => {
  const cases: [unknown, RegExp][] = [
    [null, /must be an object/],
    [[1, 2], /must be an object/],
    [{ type: "Circle", coordinates: [0, 0] }, /unknown geometry type "Circle"/],
    [{ coordinates: [0, 0] }, /unknown geometry type/],
    [{ type: "Point", coordinates: [200, 0] }, /longitude 200 is outside -180\.\.180/],
    [{ type: "Point", coordinates: [0, -91] }, /latitude -91 is outside -90\.\.90/],
    [{ type: "Point", coordinates: [0] }, /position must be \[lng, lat\]/],
    [{ type: "Point", coordinates: [0, 0, 0, 0] }, /position must be \[lng, lat\]/],
    [{ type: "Point", coordinates: [0, "1"] }, /finite numbers/],
    [{ type: "Point", coordinates: [0, Infinity] }, /finite numbers/],
    [{ type: "Point", coordinates: [NaN, 0] }, /finite numbers/],
    [{ type: "LineString", coordinates: [[0, 0]] }, /a line needs at least 2 positions/],
    [{ type: "LineString", coordinates: "nope" }, /coordinates must be an array/],
    [{ type: "MultiLineString", coordinates: [[[0, 0]]] }, /at least 2 positions/],
    [{ type: "Polygon", coordinates: [] }, /at least one ring/],
    [{ type: "Polygon", coordinates: [[[0, 0], [1, 0], [0, 0]]] }, /at least 4 positions/],
    [
      { type: "Polygon", coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]] },
      /must be closed/,
    ],
    [{ type: "MultiPolygon", coordinates: [[[[0, 0], [1, 0], [0, 0]]]] }, /at least 4 positions/],
    [{ type: "GeometryCollection" }, /geometries must be an array/],
    [
      { type: "GeometryCollection", geometries: [{ type: "Point", coordinates: [0, 99] }] },
      /latitude 99/,
    ],
  ];
  for (const [input, expected] of cases) {
    const problem = geometryProblem(input);
    assert.ok(problem !== null, `${JSON.stringify(input)} should be invalid`);
    assert.match(problem, expected, JSON.stringify(input));
  }
});

Deno.test("geometryProblem refuses geometry collections nested too deeply", () => {
  let g: unknown = { type: "Point", coordinates: [0, 0] };
  for (let i = 0; i < 4; i++) g = { type: "GeometryCollection", geometries: [g] };
  assert.equal(geometryProblem(g), null);
  g = { type: "GeometryCollection", geometries: [g] };
  assert.match(geometryProblem(g) ?? "", /nested too deeply/);
});

Deno.test("geometryProblem keeps a long unknown type name short in its message", () => {
  const problem = geometryProblem({ type: "x".repeat(10_000), coordinates: [] }) ?? "";
  assert.ok(problem.length < 80, problem);
});

Deno.test("vertexCount counts every position", () => {
  assert.equal(vertexCount({ type: "Point", coordinates: [0, 0] }), 1);
  assert.equal(vertexCount({ type: "MultiPoint", coordinates: [[0, 0], [1, 1], [2, 2]] }), 3);
  assert.equal(vertexCount({ type: "LineString", coordinates: [[0, 0], [1, 1]] }), 2);
  assert.equal(
    vertexCount({ type: "MultiLineString", coordinates: [[[0, 0], [1, 1]], [[0, 0], [1, 1]]] }),
    4,
  );
  assert.equal(vertexCount({ type: "Polygon", coordinates: [square, square] }), 10);
  assert.equal(
    vertexCount({ type: "MultiPolygon", coordinates: [[square], [square, square]] }),
    15,
  );
  assert.equal(
    vertexCount({
      type: "GeometryCollection",
      geometries: [{ type: "Point", coordinates: [0, 0] }, {
        type: "Polygon",
        coordinates: [square],
      }],
    }),
    6,
  );
});

Deno.test("geometryProblem: a type that cannot be turned into text is refused, never thrown", () => {
  for (
    const type of [{ toString: 1 }, Object.create(null), [{ valueOf: "x", toString: 2 }], null]
  ) {
    assert.match(geometryProblem({ type, coordinates: [0, 0] }) ?? "", /unknown geometry type/);
  }
});

Deno.test("vertexCount: empty multi-geometries and collections have no position to zoom to; anything else has", () => {
  const none: Geometry[] = [
    { type: "MultiPoint", coordinates: [] },
    { type: "MultiLineString", coordinates: [] },
    { type: "MultiPolygon", coordinates: [] },
    { type: "GeometryCollection", geometries: [] },
    {
      type: "GeometryCollection",
      geometries: [{ type: "GeometryCollection", geometries: [] }, {
        type: "MultiPoint",
        coordinates: [],
      }],
    },
  ];
  for (const g of none) assert.equal(vertexCount(g), 0, JSON.stringify(g));
  const some: Geometry[] = [
    { type: "Point", coordinates: [0, 0] },
    { type: "MultiPoint", coordinates: [[1, 2]] },
    {
      type: "GeometryCollection",
      geometries: [{ type: "GeometryCollection", geometries: [] }, {
        type: "LineString",
        coordinates: [[0, 0], [1, 1]],
      }],
    },
  ];
  for (const g of some) assert.ok(vertexCount(g) > 0, JSON.stringify(g));
});
