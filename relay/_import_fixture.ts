/** A GeoJSON file of what real files hold (RFC 7946 allows it) and what is truly invalid, with the exact report expected. */

/** A square ring around (x, y), counter-clockwise unless `clockwise`. */
function ring(x: number, y: number, d: number, clockwise = false): number[][] {
  const ccw = [[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]];
  return clockwise ? ccw.toReversed() : ccw;
}

/**
 * The file's text (it holds `1e999`, which JSON.parse reads as Infinity, the way a NaN or overflow
 * written by a buggy exporter arrives), and what an import of it must report. Indexes are the
 * features' positions in the file, from 0.
 */
export function mixedImport(): {
  text: string;
  kept: string[];
  skipped: { index: number; id?: string | number; reason: string }[];
  holed: { outer: number[][]; hole: number[][] };
} {
  const features = [
    // 0: an attribute-only row.
    { type: "Feature", id: "row", geometry: null, properties: { name: "no place" } },
    // 1: empty coordinates (what GDAL writes for a polygon it has no rings for).
    {
      type: "Feature",
      id: "empty",
      geometry: { type: "Polygon", coordinates: [] },
      properties: {},
    },
    // 2: a polygon with a hole, the outer ring clockwise and the hole counter-clockwise.
    {
      type: "Feature",
      id: "holed",
      geometry: { type: "Polygon", coordinates: [ring(10, 10, 2, true), ring(10, 10, 1, false)] },
      properties: { name: "holed" },
    },
    // 3: a longitude out of range.
    { type: "Feature", id: "far", geometry: { type: "Point", coordinates: [200, 0] } },
    // 4: Infinity (written as 1e999 below), without an id.
    { type: "Feature", geometry: { type: "Point", coordinates: [0, "INF"] } },
    // 5: an unknown geometry type, with an integer id.
    { type: "Feature", id: 7, geometry: { type: "Circle", coordinates: [0, 0] } },
    // 6: a MultiPolygon split at the antimeridian, as Natural Earth has Russia and Fiji.
    {
      type: "Feature",
      id: "split",
      geometry: {
        type: "MultiPolygon",
        coordinates: [
          [[[178, -17], [180, -17], [180, -16], [178, -16], [178, -17]]],
          [[[-180, -17], [-179, -17], [-179, -16], [-180, -16], [-180, -17]]],
        ],
      },
      properties: { name: "split" },
    },
    // 7: not a feature at all.
    { type: "Point", coordinates: [1, 1] },
  ];
  return {
    text: JSON.stringify({ type: "FeatureCollection", features }).replace('"INF"', "1e999"),
    kept: ["row", "empty", "holed", "split"],
    skipped: [
      {
        index: 3,
        id: "far",
        reason: "bad geometry: coordinates: longitude 200 is outside -180..180",
      },
      { index: 4, reason: "bad geometry: coordinates: a position must hold finite numbers" },
      { index: 5, id: 7, reason: 'bad geometry: unknown geometry type "Circle"' },
      { index: 7, reason: 'not a GeoJSON Feature (its "type" must be "Feature")' },
    ],
    holed: { outer: ring(10, 10, 2, false), hole: ring(10, 10, 1, true) },
  };
}
