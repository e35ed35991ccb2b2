/** Test files from real data: Natural Earth 10m countries (world-atlas) as GeoJSON, by topojson-client and by GDAL's ogr2ogr. */
import { feature } from "topojson-client";

type Topology = Parameters<typeof feature>[0];

const TOPOJSON = new URL("../node_modules/world-atlas/countries-10m.json", import.meta.url);

/** The 255 countries as a GeoJSON FeatureCollection text, as topojson-client decodes them. */
export async function naturalEarthGeoJson(): Promise<string> {
  const topology = JSON.parse(await Deno.readTextFile(TOPOJSON)) as Topology;
  return JSON.stringify(feature(topology, topology.objects.countries));
}

/**
 * The same countries as GDAL writes them (`ogr2ogr -f GeoJSON`): its own conventions, e.g. an
 * empty Polygon for the Vatican, whose one ring is too small to survive the conversion.
 */
export async function naturalEarthFromGdal(dir: string): Promise<string> {
  const out = `${dir}/countries-gdal.geojson`;
  const { code, stderr } = await new Deno.Command("ogr2ogr", {
    args: ["-f", "GeoJSON", out, TOPOJSON.pathname, "countries"],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`ogr2ogr failed: ${new TextDecoder().decode(stderr)}`);
  return await Deno.readTextFile(out);
}

/** `count` points with a few properties each, as a FeatureCollection text. */
export function pointsFile(count: number, pad = 0): string {
  const features = Array.from({ length: count }, (_, i) => ({
    type: "Feature",
    id: `pt-${i}`,
    geometry: { type: "Point", coordinates: [(i % 3600) / 10 - 180, (i % 1700) / 10 - 85] },
    properties: { n: i, name: `point ${i}`, note: "x".repeat(pad) },
  }));
  return JSON.stringify({ type: "FeatureCollection", features });
}

/** Positions in a geometry (or 0 for null). */
export function positions(geometry: unknown): number {
  return JSON.stringify(geometry ?? null).match(/\[-?[\d.e+-]+,-?[\d.e+-]+\]/g)?.length ?? 0;
}
