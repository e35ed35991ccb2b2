/**
 * Basemap fixtures for tests: a vector MBTiles (ogr2ogr MVT) with synthetic streets around
 * central Zurich plus world-atlas countries, a raster MBTiles (gdal_translate PNG), and a PMTiles
 * v3 archive holding the very same vector tiles.
 */
import { DatabaseSync } from "node:sqlite";
import { feature } from "topojson-client";
import { COMPRESSION, encodePmtiles, type PmtilesTile, TILE_TYPE } from "./_pmtiles_writer.ts";

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
interface GeoFeature {
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

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${out.code}):\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

async function writeGeoJson(path: string, features: GeoFeature[]): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify({ type: "FeatureCollection", features }));
}

/**
 * Writes `dir/vector.mbtiles`: MVT tiles (gzip, as GDAL stores them) with the layers of
 * {@link VECTOR_LAYERS}, zooms 0..16. Returns its path.
 */
export async function writeVectorMbtiles(dir: string, name = "vector.mbtiles"): Promise<string> {
  await writeGeoJson(`${dir}/roads.geojson`, streetFeatures());
  await writeGeoJson(`${dir}/buildings.geojson`, buildingFeatures());
  await writeGeoJson(`${dir}/countries.geojson`, await countryFeatures());
  // One VRT so that a single ogr2ogr run writes all three layers into one tile set.
  const layers = Object.keys(VECTOR_LAYERS).map((l) =>
    `<OGRVRTLayer name="${l}"><SrcDataSource>${l}.geojson</SrcDataSource></OGRVRTLayer>`
  );
  await Deno.writeTextFile(
    `${dir}/layers.vrt`,
    `<OGRVRTDataSource>${layers.join("")}</OGRVRTDataSource>`,
  );
  await Deno.writeTextFile(`${dir}/mvt_conf.json`, JSON.stringify(VECTOR_LAYERS));
  await run("ogr2ogr", [
    "-f",
    "MBTILES",
    name,
    "layers.vrt",
    "-dsco",
    "MINZOOM=0",
    "-dsco",
    "MAXZOOM=16",
    "-dsco",
    "CONF=mvt_conf.json",
    "-dsco",
    "NAME=Fixture streets",
  ], dir);
  const db = new DatabaseSync(`${dir}/${name}`);
  try {
    db.prepare("INSERT OR REPLACE INTO metadata (name, value) VALUES ('attribution', ?)")
      .run(FIXTURE_ATTRIBUTION);
    // GDAL 3.6 also writes tiles one past the world's edge (column or row -1 or 2^z) for shapes that
    // touch the antimeridian or the poles; no reader can ask for them, so they go.
    db.exec(
      `DELETE FROM tiles WHERE tile_column NOT BETWEEN 0 AND (1 << zoom_level) - 1
         OR tile_row NOT BETWEEN 0 AND (1 << zoom_level) - 1`,
    );
  } finally {
    db.close();
  }
  return `${dir}/${name}`;
}

/**
 * Writes `dir/raster.mbtiles`: PNG tiles of a georeferenced image of the street grid (zoom 11
 * overviews up to about 14), made with gdal_rasterize, gdal_translate and gdaladdo.
 */
export async function writeRasterMbtiles(dir: string, name = "raster.mbtiles"): Promise<string> {
  await writeGeoJson(`${dir}/raster_roads.geojson`, streetFeatures());
  const [w, s, e, n] = STREET_BOUNDS;
  await run("gdal_rasterize", [
    "-q",
    ...["-burn", "40", "-burn", "90", "-burn", "160"],
    ...["-ot", "Byte", "-ts", "1024", "1024", "-init", "235", "-a_srs", "EPSG:4326"],
    ...["-te", String(w), String(s), String(e), String(n)],
    "raster_roads.geojson",
    "raster.tif",
  ], dir);
  await run("gdal_translate", [
    "-q",
    ...["-of", "MBTILES", "-co", "TILE_FORMAT=PNG", "-co", "NAME=Fixture raster"],
    "raster.tif",
    name,
  ], dir);
  await run("gdaladdo", ["-q", "-r", "average", name, "2", "4", "8"], dir);
  return `${dir}/${name}`;
}

/** Every tile of an MBTiles file, in XYZ numbering (MBTiles rows count from the south). */
export function readMbtilesTiles(path: string): PmtilesTile[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")
      .all() as {
        zoom_level: number;
        tile_column: number;
        tile_row: number;
        tile_data: Uint8Array;
      }[];
    return rows.map((r) => ({
      z: r.zoom_level,
      x: r.tile_column,
      y: 2 ** r.zoom_level - 1 - r.tile_row,
      data: new Uint8Array(r.tile_data),
    }));
  } finally {
    db.close();
  }
}

/** The metadata table of an MBTiles file. */
export function readMbtilesMetadata(path: string): Record<string, string> {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare("SELECT name, value FROM metadata").all() as {
      name: string;
      value: string;
    }[];
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  } finally {
    db.close();
  }
}

/**
 * Writes a PMTiles v3 archive holding exactly the tiles of the vector MBTiles at `mbtiles`
 * (still gzipped), with its metadata. `maxRootBytes` forces leaf directories in tests.
 */
export async function writePmtilesFromMbtiles(
  mbtiles: string,
  out: string,
  options: { maxRootBytes?: number; metadata?: Record<string, unknown> } = {},
): Promise<string> {
  const meta = readMbtilesMetadata(mbtiles);
  const bounds = meta.bounds.split(",").map(Number) as [number, number, number, number];
  const json = meta.json ? JSON.parse(meta.json) : {};
  const bytes = encodePmtiles(readMbtilesTiles(mbtiles), {
    tileType: TILE_TYPE.mvt,
    tileCompression: COMPRESSION.gzip,
    bounds,
    center: [STREET_CENTER.lon, STREET_CENTER.lat, 14],
    metadata: {
      name: meta.name,
      attribution: meta.attribution,
      vector_layers: json.vector_layers,
      ...options.metadata,
    },
    maxRootBytes: options.maxRootBytes,
  });
  await Deno.writeFile(out, bytes);
  return out;
}

/** The fixture files written by {@link writeTileFixtures}. */
export interface TileFixtures {
  dir: string;
  vectorMbtiles: string;
  rasterMbtiles: string;
  pmtiles: string;
  /** Removes the directory. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Writes all three fixtures into a fresh temp dir (a few seconds). */
export async function writeTileFixtures(): Promise<TileFixtures> {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-tiles-" });
  const [vectorMbtiles, rasterMbtiles] = await Promise.all([
    writeVectorMbtiles(dir),
    writeRasterMbtiles(dir),
  ]);
  const pmtiles = await writePmtilesFromMbtiles(vectorMbtiles, `${dir}/vector.pmtiles`);
  return {
    dir,
    vectorMbtiles,
    rasterMbtiles,
    pmtiles,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}
