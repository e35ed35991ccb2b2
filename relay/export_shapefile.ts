/** A map's features as a zip of Shapefiles (one per geometry family, WGS84 .prj), by @mapbox/shp-write's writer. */
import { write } from "@mapbox/shp-write";
import type { OGCGeometry } from "@mapbox/shp-write";
import JSZip from "jszip";
import type { StoredFeature } from "./protocol.ts";

/** WGS84 in the ESRI WKT that `.prj` files hold. */
const WGS84_PRJ = 'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137,' +
  '298.257223563]],PRIMEM["Greenwich",0],UNIT["Degree",0.017453292519943295]]';

type Geometry = NonNullable<StoredFeature["geometry"]>;
type Ring = number[][];
type DbfType = "number" | "boolean" | "string";
type DbfRow = Record<string, string | number | boolean | null>;

/** What a zip of Shapefiles holds and left out. */
export interface ShapefileZip {
  body: Uint8Array<ArrayBuffer>;
  skipped: number;
  note: string;
}

/**
 * A zip of `points`, `lines` and `polygons` Shapefiles (only those with features), each with a
 * WGS84 `.prj`; a feature is one record (a MultiLineString or MultiPolygon one record of several
 * parts), rings wound as Shapefile wants (outer clockwise). DBF limits: names are cut to 10
 * characters (made unique), nested values and mixed-type columns become JSON text, text is cut at
 * 254 characters, booleans are T/F. MultiPoints, GeometryCollections and features without geometry
 * are left out, counted.
 */
export async function toShapefileZip(features: readonly StoredFeature[]): Promise<ShapefileZip> {
  const fields = dbfFields(features);
  const families: Record<"points" | "lines" | "polygons", { rows: DbfRow[]; shapes: unknown[] }> = {
    points: { rows: [], shapes: [] },
    lines: { rows: [], shapes: [] },
    polygons: { rows: [], shapes: [] },
  };
  let skipped = 0;
  for (const f of features) {
    const shape = shapeOf(f.geometry);
    if (!shape) {
      skipped++;
      continue;
    }
    const row: DbfRow = {};
    for (const [key, { name, type }] of fields) row[name] = dbfValue(f.properties[key], type);
    families[shape.family].rows.push(row);
    families[shape.family].shapes.push(shape.coordinates);
  }
  const zip = new JSZip();
  const TYPES = { points: "POINT", lines: "POLYLINE", polygons: "POLYGON" } as const;
  for (const [family, { rows, shapes }] of Object.entries(families)) {
    if (shapes.length === 0) continue;
    write(rows, TYPES[family as keyof typeof TYPES] as OGCGeometry, shapes as object[], (_, f) => {
      zip.file(`${family}.shp`, f.shp.buffer, { binary: true });
      zip.file(`${family}.shx`, f.shx.buffer, { binary: true });
      zip.file(`${family}.dbf`, f.dbf.buffer, { binary: true });
      zip.file(`${family}.prj`, WGS84_PRJ);
      zip.file(`${family}.cpg`, "UTF-8");
    });
  }
  const renamed = [...fields].filter(([key, { name }]) => utf8Bytes(key) !== name).length;
  const note = [
    skipped ? `${skipped} left out (no geometry, MultiPoint or GeometryCollection)` : "",
    renamed ? `${renamed} property names cut to 10 characters` : "",
  ].filter(Boolean).join("; ");
  const body = await zip.generateAsync({ type: "uint8array", compression: "DEFLATE" });
  // JSZip's bytes are a plain ArrayBuffer's; the declared type leaves room for a shared one.
  return { body: body as Uint8Array<ArrayBuffer>, skipped, note };
}

function shapeOf(
  g: Geometry | null,
): { family: "points" | "lines" | "polygons"; coordinates: unknown } | null {
  switch (g?.type) {
    case "Point":
      return g.coordinates.length >= 2 ? { family: "points", coordinates: g.coordinates } : null;
    case "LineString":
      return g.coordinates.length ? { family: "lines", coordinates: [g.coordinates] } : null;
    case "MultiLineString":
      return g.coordinates.length ? { family: "lines", coordinates: g.coordinates } : null;
    case "Polygon":
      return g.coordinates.length
        ? { family: "polygons", coordinates: wound(g.coordinates as Ring[]) }
        : null;
    case "MultiPolygon":
      return g.coordinates.length
        ? { family: "polygons", coordinates: (g.coordinates as Ring[][]).map(wound) }
        : null;
    default:
      return null;
  }
}

/** A polygon's rings as Shapefile winds them: the outer ring clockwise, holes counter-clockwise. */
function wound(rings: Ring[]): Ring[] {
  return rings.map((ring, i) => {
    let twiceArea = 0;
    for (let j = 0; j + 1 < ring.length; j++) {
      twiceArea += ring[j][0] * ring[j + 1][1] - ring[j + 1][0] * ring[j][1];
    }
    const clockwise = twiceArea < 0;
    return clockwise === (i === 0) ? ring : [...ring].reverse();
  });
}

/** Each property key's DBF column: a unique name of at most 10 characters and one type. */
function dbfFields(
  features: readonly StoredFeature[],
): Map<string, { name: string; type: DbfType }> {
  const types = new Map<string, DbfType | "mixed">();
  for (const f of features) {
    for (const [k, v] of Object.entries(f.properties)) {
      const had = types.get(k);
      if (v === null || v === undefined) {
        if (had === undefined) types.set(k, "string");
        continue;
      }
      const t: DbfType = typeof v === "number"
        ? "number"
        : typeof v === "boolean"
        ? "boolean"
        : "string";
      types.set(k, had === undefined || had === t ? t : "mixed");
    }
  }
  const used = new Set<string>();
  const fields = new Map<string, { name: string; type: DbfType }>();
  for (const [key, t] of types) {
    const bytes = utf8Bytes(key);
    let name = bytes.slice(0, 10);
    for (let n = 1; used.has(name.toLowerCase()); n++) {
      name = `${bytes.slice(0, 10 - String(n).length - 1)}_${n}`;
    }
    used.add(name.toLowerCase());
    fields.set(key, { name, type: t === "mixed" ? "string" : t });
  }
  return fields;
}

function dbfValue(value: unknown, type: DbfType): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  if (type !== "string") return value as number | boolean;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return utf8Bytes(text.length > 254 ? text.slice(0, 254) : text, 254);
}

/**
 * Text as its UTF-8 bytes, one character per byte, at most `max` bytes and no character cut in
 * half: the DBF writer writes each character's code as one byte, and the `.cpg` says UTF-8.
 */
function utf8Bytes(text: string, max = Infinity): string {
  let bytes = new TextEncoder().encode(text);
  if (bytes.length > max) {
    let end = max;
    while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  let out = "";
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}
