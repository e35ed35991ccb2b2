/** The map the export tests write in every format: each geometry type, properties of every JSON kind, one row without geometry. */
type Position = number[];
export type Geometry = { type: string; coordinates: unknown } | null;
export type Feature = { id?: unknown; geometry: Geometry; properties: Record<string, unknown> };

const square = (x: number, y: number, d: number): Position[] => [
  [x, y],
  [x + d, y],
  [x + d, y + d],
  [x, y + d],
  [x, y],
];

/** One feature of each geometry type a map holds, properties of every JSON kind, one without geometry. */
export const SOURCE: Feature[] = [
  {
    id: "paris",
    geometry: { type: "Point", coordinates: [2.3522219, 48.856614] },
    properties: {
      name: 'Café, "Paris"',
      population: 2148000,
      capital: true,
      tags: { kind: "city", ids: [1, 2] },
      a_very_long_property_name: "long",
    },
  },
  {
    id: "sf",
    geometry: { type: "Point", coordinates: [-122.4194155, 37.7749295] },
    properties: { name: "San Francisco", population: 808437.5, capital: false },
  },
  {
    id: "route",
    geometry: {
      type: "LineString",
      coordinates: [[2.35, 48.85], [4.8357, 45.764], [5.3698, 43.2965]],
    },
    properties: { name: "Route" },
  },
  {
    id: "two-lines",
    geometry: { type: "MultiLineString", coordinates: [[[0, 0], [1, 1]], [[2, 2], [3, 3.5]]] },
    properties: { name: "Two lines" },
  },
  {
    id: "holed",
    geometry: { type: "Polygon", coordinates: [square(10, 10, 4), square(11, 11, 1).reverse()] },
    properties: { name: "Holed" },
  },
  {
    id: "islands",
    geometry: { type: "MultiPolygon", coordinates: [[square(20, 0, 1)], [square(22, 0, 1)]] },
    properties: { name: "Islands" },
  },
  { id: "row", geometry: null, properties: { name: "Attributes only", population: 5 } },
];

/** {@link SOURCE} as a GeoJSON file for the import API. */
export function sourceText(): string {
  return JSON.stringify({
    type: "FeatureCollection",
    features: SOURCE.map((f) => ({ type: "Feature", ...f })),
  });
}
