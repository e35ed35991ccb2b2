/** Data for the basemap fixtures: a synthetic street grid around central Zurich, a lake, a place, countries. */
import { feature } from "topojson-client";

/** Where the synthetic street grid is centred (Zurich, Bahnhofstrasse). */
export const STREET_CENTER = { lat: 47.37, lon: 8.54 } as const;
/** The street grid's extent, west, south, east, north. */
export const STREET_BOUNDS: [number, number, number, number] = [8.51, 47.35, 8.57, 47.39];
/** Vector layer names in the fixture, with the zooms each one is tiled at. */
export const VECTOR_LAYERS = {
  countries: { minzoom: 0, maxzoom: 5 },
  roads: { minzoom: 9, maxzoom: 16 },
  buildings: { minzoom: 13, maxzoom: 16 },
} as const;
/**
 * The layers of the Protomaps-like variant: a Protomaps basemap build's layer names (so the relay
 * reports `flavor: "protomaps"` and protomaps-leaflet's styles draw it), with the same data.
 */
export const PROTOMAPS_LAYERS = {
  earth: { minzoom: 0, maxzoom: 5 },
  water: { minzoom: 9, maxzoom: 16 },
  roads: { minzoom: 9, maxzoom: 16 },
  buildings: { minzoom: 13, maxzoom: 16 },
  places: { minzoom: 3, maxzoom: 16 },
} as const;
/** The attribution written into every fixture's metadata. */
export const FIXTURE_ATTRIBUTION = "Test data; countries: Natural Earth";

const STREET_STEP = { lat: 0.0014, lon: 0.002 }; // about 155 m by 150 m blocks

/** The XYZ tile holding a point at zoom z. */
export function tileAt(z: number, lat: number, lon: number): [number, number] {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const r = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
  return [x, y];
}

type Position = [number, number];
/** A GeoJSON Feature as the fixtures write it. */
export interface GeoFeature {
  type: "Feature";
  properties: Record<string, unknown>;
  geometry: { type: string; coordinates: unknown };
}

/** Streets as LineStrings on a regular grid; every fifth one is a main road. */
export function streetFeatures(): GeoFeature[] {
  const [w, s, e, n] = STREET_BOUNDS;
  const out: GeoFeature[] = [];
  let i = 0;
  for (let lon = w; lon <= e + 1e-9; lon += STREET_STEP.lon, i++) {
    out.push(road(`Nordgasse ${i}`, i % 5 === 0, [[lon, s], [lon, n]]));
  }
  i = 0;
  for (let lat = s; lat <= n + 1e-9; lat += STREET_STEP.lat, i++) {
    out.push(road(`Querstrasse ${i}`, i % 5 === 0, [[w, lat], [e, lat]]));
  }
  return out;
}

function road(name: string, main: boolean, coordinates: Position[]): GeoFeature {
  return {
    type: "Feature",
    properties: { name, kind: main ? "major_road" : "minor_road" },
    geometry: { type: "LineString", coordinates },
  };
}

/** Two buildings per block, of a size that depends on the block, so tiles differ. */
export function buildingFeatures(): GeoFeature[] {
  const [w, s, e, n] = STREET_BOUNDS;
  const out: GeoFeature[] = [];
  let row = 0;
  for (let lat = s; lat + STREET_STEP.lat <= n + 1e-9; lat += STREET_STEP.lat, row++) {
    let col = 0;
    for (let lon = w; lon + STREET_STEP.lon <= e + 1e-9; lon += STREET_STEP.lon, col++) {
      const size = 0.25 + ((row * 7 + col * 3) % 5) * 0.04;
      for (const half of [0, 0.5]) {
        const x0 = lon + STREET_STEP.lon * (half + 0.08);
        const y0 = lat + STREET_STEP.lat * 0.15;
        const x1 = x0 + STREET_STEP.lon * size;
        const y1 = y0 + STREET_STEP.lat * (size + 0.3);
        out.push({
          type: "Feature",
          properties: { height: Math.round(size * 40) },
          geometry: {
            type: "Polygon",
            coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
          },
        });
      }
    }
  }
  return out;
}

/** world-atlas countries (Natural Earth 1:110m) as GeoJSON features. */
export async function countryFeatures(): Promise<GeoFeature[]> {
  const url = new URL("../node_modules/world-atlas/countries-110m.json", import.meta.url);
  const topology = JSON.parse(await Deno.readTextFile(url));
  const collection = feature(topology, topology.objects.countries) as unknown as {
    features: GeoFeature[];
  };
  return collection.features.map((f) => ({
    type: "Feature",
    properties: { name: f.properties?.name ?? "" },
    geometry: f.geometry,
  }));
}

/** A lake south-east of the street grid, for the Protomaps-like `water` layer. */
export function lakeFeatures(): GeoFeature[] {
  const ring: Position[] = [[8.545, 47.355], [8.58, 47.33], [8.6, 47.3], [8.57, 47.29], [
    8.54,
    47.35,
  ]];
  return [{
    type: "Feature",
    properties: { kind: "water", name: "Zürichsee" },
    geometry: { type: "Polygon", coordinates: [[...ring, ring[0]]] },
  }];
}

/** The place label of the Protomaps-like `places` layer. */
export function placeFeatures(): GeoFeature[] {
  return [{
    type: "Feature",
    properties: { kind: "locality", name: "Zürich", population_rank: 12, min_zoom: 3 },
    geometry: { type: "Point", coordinates: [STREET_CENTER.lon, STREET_CENTER.lat] },
  }];
}
