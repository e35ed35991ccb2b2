/**
 * Basemap fixtures for tests: a vector MBTiles (ogr2ogr MVT) with synthetic streets around
 * central Zurich plus world-atlas countries, a raster MBTiles (gdal_translate PNG), and a PMTiles
 * v3 archive holding the very same vector tiles.
 */
import { DatabaseSync } from "node:sqlite";
import { COMPRESSION, encodePmtiles, type PmtilesTile, TILE_TYPE } from "./_pmtiles_writer.ts";
import {
  buildingFeatures,
  countryFeatures,
  FIXTURE_ATTRIBUTION,
  type GeoFeature,
  lakeFeatures,
  placeFeatures,
  PROTOMAPS_LAYERS,
  STREET_BOUNDS,
  STREET_CENTER,
  streetFeatures,
  VECTOR_LAYERS,
} from "./_tiles_fixture_data.ts";

export * from "./_tiles_fixture_data.ts";

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
 * {@link VECTOR_LAYERS}, zooms 0..16. With `protomaps`, the layers of {@link PROTOMAPS_LAYERS}
 * instead (countries as `earth`, plus a lake and a place). Returns its path.
 */
export async function writeVectorMbtiles(
  dir: string,
  name = "vector.mbtiles",
  options: { protomaps?: boolean } = {},
): Promise<string> {
  const prefix = name.replace(/\.mbtiles$/, "");
  const countries = await countryFeatures();
  const sources: Record<string, GeoFeature[]> = options.protomaps
    ? {
      earth: countries,
      water: lakeFeatures(),
      roads: streetFeatures(),
      buildings: buildingFeatures(),
      places: placeFeatures(),
    }
    : { countries, roads: streetFeatures(), buildings: buildingFeatures() };
  for (const [layer, features] of Object.entries(sources)) {
    await writeGeoJson(`${dir}/${prefix}_${layer}.geojson`, features);
  }
  // One VRT so that a single ogr2ogr run writes all layers into one tile set.
  const layers = Object.keys(sources).map((l) =>
    `<OGRVRTLayer name="${l}"><SrcDataSource>${prefix}_${l}.geojson</SrcDataSource>` +
    `<SrcLayer>${prefix}_${l}</SrcLayer></OGRVRTLayer>`
  );
  await Deno.writeTextFile(
    `${dir}/${prefix}.vrt`,
    `<OGRVRTDataSource>${layers.join("")}</OGRVRTDataSource>`,
  );
  await Deno.writeTextFile(
    `${dir}/${prefix}_conf.json`,
    JSON.stringify(options.protomaps ? PROTOMAPS_LAYERS : VECTOR_LAYERS),
  );
  await run("ogr2ogr", [
    "-f",
    "MBTILES",
    name,
    `${prefix}.vrt`,
    "-dsco",
    "MINZOOM=0",
    "-dsco",
    "MAXZOOM=16",
    "-dsco",
    `CONF=${prefix}_conf.json`,
    "-dsco",
    `NAME=${options.protomaps ? "Fixture Protomaps-like" : "Fixture streets"}`,
  ], dir);
  const db = new DatabaseSync(`${dir}/${name}`);
  try {
    // ogr2ogr only warns about a VRT layer it cannot read, and writes a tile set without it.
    const json = db.prepare("SELECT value FROM metadata WHERE name = 'json'").get() as {
      value: string;
    };
    const written = JSON.parse(json.value).vector_layers.length;
    if (written !== Object.keys(sources).length) {
      throw new Error(`ogr2ogr wrote ${written} of ${Object.keys(sources).length} layers`);
    }
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
  /** With `protomaps: true`: a PMTiles archive with a Protomaps build's layer names. */
  protomapsPmtiles?: string;
  /** Removes the directory. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Writes all three fixtures into a fresh temp dir (a few seconds); with `protomaps`, also a
 * Protomaps-like PMTiles archive.
 */
export async function writeTileFixtures(
  options: { protomaps?: boolean } = {},
): Promise<TileFixtures> {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-tiles-" });
  const [vectorMbtiles, rasterMbtiles, protomapsMbtiles] = await Promise.all([
    writeVectorMbtiles(dir),
    writeRasterMbtiles(dir),
    options.protomaps
      ? writeVectorMbtiles(dir, "protomaps.mbtiles", { protomaps: true })
      : Promise.resolve(null),
  ]);
  const pmtiles = await writePmtilesFromMbtiles(vectorMbtiles, `${dir}/vector.pmtiles`);
  const protomapsPmtiles = protomapsMbtiles
    ? await writePmtilesFromMbtiles(protomapsMbtiles, `${dir}/protomaps.pmtiles`)
    : undefined;
  return {
    dir,
    vectorMbtiles,
    rasterMbtiles,
    pmtiles,
    protomapsPmtiles,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}
