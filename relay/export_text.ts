/** The text export formats written here: CSV (WKT plus lat/lon) and GPX (points and lines). */
import type { StoredFeature } from "./protocol.ts";

type Geometry = NonNullable<StoredFeature["geometry"]>;
type Position = readonly number[];

/**
 * A geometry as WKT (`POINT (2.35 48.85)`), or `""` for none. Positions keep every digit and any
 * third coordinate (written as `Z`).
 *
 * @example
 * ```ts
 * toWkt({ type: "Point", coordinates: [2.35, 48.85] }); // "POINT (2.35 48.85)"
 * ```
 */
export function toWkt(geometry: Geometry | null): string {
  if (geometry === null) return "";
  const z = hasZ(geometry) ? " Z" : "";
  const pos = (p: Position) => p.join(" ");
  const list = (ps: readonly Position[]) => `(${ps.map(pos).join(", ")})`;
  const rings = (rs: readonly (readonly Position[])[]) => `(${rs.map(list).join(", ")})`;
  const empty = (name: string) => `${name} EMPTY`;
  switch (geometry.type) {
    case "Point":
      return geometry.coordinates.length
        ? `POINT${z} (${pos(geometry.coordinates)})`
        : empty("POINT");
    case "MultiPoint":
      return geometry.coordinates.length
        ? `MULTIPOINT${z} (${geometry.coordinates.map((p) => `(${pos(p)})`).join(", ")})`
        : empty("MULTIPOINT");
    case "LineString":
      return geometry.coordinates.length
        ? `LINESTRING${z} ${list(geometry.coordinates)}`
        : empty("LINESTRING");
    case "MultiLineString":
      return geometry.coordinates.length
        ? `MULTILINESTRING${z} ${rings(geometry.coordinates)}`
        : empty("MULTILINESTRING");
    case "Polygon":
      return geometry.coordinates.length
        ? `POLYGON${z} ${rings(geometry.coordinates)}`
        : empty("POLYGON");
    case "MultiPolygon":
      return geometry.coordinates.length
        ? `MULTIPOLYGON${z} (${geometry.coordinates.map(rings).join(", ")})`
        : empty("MULTIPOLYGON");
    case "GeometryCollection":
      return geometry.geometries.length
        ? `GEOMETRYCOLLECTION (${geometry.geometries.map((g) => toWkt(g as Geometry)).join(", ")})`
        : empty("GEOMETRYCOLLECTION");
  }
}

function hasZ(geometry: Geometry): boolean {
  if (geometry.type === "GeometryCollection") return false;
  const first = (c: unknown): unknown => Array.isArray(c) && Array.isArray(c[0]) ? first(c[0]) : c;
  const p = first(geometry.coordinates);
  return Array.isArray(p) && p.length > 2;
}

/** Reserved CSV columns; a property of the same name is written as `property_<name>`. */
const CSV_COLUMNS = ["id", "WKT", "lat", "lon"] as const;

/**
 * The features as CSV (RFC 4180, CRLF): `id`, `WKT`, `lat` and `lon` (points only), then one column
 * per property in order of first appearance; nested values as JSON, `null` as an empty cell.
 * Features without geometry are kept, with empty geometry cells.
 *
 * @example
 * ```ts
 * toCsv([{ type: "Feature", id: "a", geometry: null, properties: { n: 1 } }]);
 * // "id,WKT,lat,lon,n\r\na,,,,1\r\n"
 * ```
 */
export function toCsv(features: readonly StoredFeature[]): string {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const f of features) {
    for (const k of Object.keys(f.properties)) {
      if (!seen.has(k)) seen.add(k), keys.push(k);
    }
  }
  const header = [
    ...CSV_COLUMNS,
    ...keys.map((k) => (CSV_COLUMNS as readonly string[]).includes(k) ? `property_${k}` : k),
  ];
  const lines = [header.map(csvCell).join(",")];
  for (const f of features) {
    const g = f.geometry;
    const point = g?.type === "Point" && g.coordinates.length >= 2 ? g.coordinates : null;
    const cells = [
      f.id,
      toWkt(g),
      point ? String(point[1]) : "",
      point ? String(point[0]) : "",
      ...keys.map((k) => cellText(f.properties[k])),
    ];
    lines.push(cells.map(csvCell).join(","));
  }
  return lines.join("\r\n") + "\r\n";
}

function cellText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** What {@link toGpx} wrote and left out. */
export interface GpxResult {
  /** The GPX 1.1 document. */
  text: string;
  /** Features left out: no geometry, or one GPX cannot hold (polygons, collections). */
  skipped: number;
}

/**
 * The features as GPX 1.1: points (and each point of a MultiPoint) as `wpt`, lines as `trk` (a
 * MultiLineString as one `trk` with a `trkseg` per part). `name` (or `title`) and `desc` (or
 * `description`) go in the elements GPX has; other properties go in `<extensions>` as
 * GDAL's `<ogr:KEY>` elements holding text (JSON for non-strings), so GDAL and QGIS read them back
 * as fields; a key that is no XML name has its other characters turned into `_`.
 */
export function toGpx(features: readonly StoredFeature[]): GpxResult {
  const wpts: string[] = [];
  const trks: string[] = [];
  let skipped = 0;
  for (const f of features) {
    const g = f.geometry;
    const meta = gpxMeta(f.properties);
    if (g?.type === "Point" && g.coordinates.length >= 2) {
      wpts.push(wpt(g.coordinates, meta));
    } else if (g?.type === "MultiPoint" && g.coordinates.length > 0) {
      for (const p of g.coordinates) wpts.push(wpt(p, meta));
    } else if (g?.type === "LineString" && g.coordinates.length > 0) {
      trks.push(trk([g.coordinates], meta));
    } else if (g?.type === "MultiLineString" && g.coordinates.length > 0) {
      trks.push(trk(g.coordinates, meta));
    } else {
      skipped++;
    }
  }
  const text = '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<gpx version="1.1" creator="Duplex Map" xmlns="http://www.topografix.com/GPX/1/1" ' +
    'xmlns:ogr="http://osgeo.org/gdal">\n' +
    wpts.join("") + trks.join("") + "</gpx>\n";
  return { text, skipped };
}

function gpxMeta(props: Record<string, unknown>): string {
  const name = props.name ?? props.title;
  const desc = props.desc ?? props.description;
  const rest = Object.entries(props).filter(([k]) =>
    !["name", "title", "desc", "description"].includes(k) || (k === "title" && "name" in props) ||
    (k === "description" && "desc" in props)
  );
  let out = "";
  if (name !== undefined && name !== null) out += `<name>${xml(cellText(name))}</name>`;
  if (desc !== undefined && desc !== null) out += `<desc>${xml(cellText(desc))}</desc>`;
  if (rest.length) {
    out += "<extensions>" + rest.map(([k, v]) =>
      `<ogr:${xmlName(k)}>${xml(cellText(v))}</ogr:${xmlName(k)}>`
    ).join("") + "</extensions>";
  }
  return out;
}

function wpt(p: Position, meta: string): string {
  const ele = p.length > 2 ? `<ele>${p[2]}</ele>` : "";
  return `<wpt lat="${p[1]}" lon="${p[0]}">${ele}${meta}</wpt>\n`;
}

function trk(parts: readonly (readonly Position[])[], meta: string): string {
  const segs = parts.map((line) =>
    "<trkseg>" + line.map((p) =>
      `<trkpt lat="${p[1]}" lon="${p[0]}">${p.length > 2 ? `<ele>${p[2]}</ele>` : ""}</trkpt>`
    ).join("") + "</trkseg>"
  ).join("");
  return `<trk>${meta}${segs}</trk>\n`;
}

/** A property key as an XML element name. */
function xmlName(key: string): string {
  const name = key.replace(/[^A-Za-z0-9_.-]/g, "_");
  return /^[A-Za-z_]/.test(name) ? name : `_${name}`;
}

/** Text escaped for XML content and attribute values. */
function xml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)
    // XML 1.0 cannot hold most control characters, even escaped.
    // deno-lint-ignore no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");
}
