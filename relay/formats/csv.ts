/** CSV with lat/lon (or x/y) columns or a WKT column, read by papaparse and wellknown: one record per row, with its line. */
import Papa from "papaparse";
import wellknown from "wellknown";
import type { FileRead, SourceRecord } from "./records.ts";

/** Header names (any case) that hold each coordinate, in order of preference. */
const LAT = ["lat", "latitude", "y"];
const LON = ["lon", "lng", "long", "longitude", "x"];
const WKT = ["wkt", "wkt_geom", "geometry", "geom", "the_geom"];

/**
 * Reads CSV text (delimiter detected: comma, semicolon, tab, pipe). Geometry comes from a WKT
 * column when the row has one, else from its lat/lon columns; those columns are not kept as
 * properties. A cell that is a plain number becomes a number, an empty cell `null`, the rest
 * text. A row without usable coordinates is a skipped record with its line in the file.
 *
 * @example
 * ```ts
 * import { readCsv } from "./csv.ts";
 * const r = readCsv("name,lat,lon\nBern,46.95,7.45\nNowhere,,\n");
 * r.ok && r.records[1]; // { skip: "no coordinates (the lat and lon cells are empty)", line: 3 }
 * ```
 */
export function readCsv(input: string): FileRead {
  const text = input.replace(/^\uFEFF/, "");
  const rows: { cells: string[]; line: number }[] = [];
  let offset = 0;
  let line = 1;
  const parsed = Papa.parse<string[]>(text, {
    step: (row) => {
      const cells = row.data;
      if (!(cells.length === 1 && cells[0].trim() === "")) rows.push({ cells, line });
      const end = row.meta.cursor;
      for (let i = text.indexOf("\n", offset); i !== -1 && i < end; i = text.indexOf("\n", i + 1)) {
        line++;
      }
      offset = end;
    },
  }) as unknown as { meta?: { delimiter?: string } } | undefined;
  const header = rows.shift()?.cells.map((h) => h.trim());
  if (!header || header.length < 2) {
    return { ok: false, status: 400, message: "not a CSV file with a header row" };
  }
  const find = (names: string[]) => {
    for (const name of names) {
      const at = header.findIndex((h) => h.toLowerCase() === name);
      if (at !== -1) return at;
    }
    return -1;
  };
  const wkt = find(WKT);
  const lat = find(LAT);
  const lon = find(LON);
  if (wkt === -1 && (lat === -1 || lon === -1)) {
    return {
      ok: false,
      status: 422,
      message: "the CSV has no coordinate columns: it needs lat and lon (or latitude and " +
        "longitude, lng, y and x) columns or a WKT column; its columns are " + header.join(", "),
    };
  }
  const decimalComma = (parsed?.meta?.delimiter ?? ",") !== ",";
  const geometryColumns = new Set(wkt !== -1 ? [wkt, lat, lon] : [lat, lon]);
  const records = rows.map(({ cells, line }): SourceRecord => {
    const cell = (i: number) => (i === -1 ? "" : (cells[i] ?? "").trim());
    let geometry: unknown;
    if (cell(wkt) !== "") {
      geometry = wellknown.parse(cell(wkt));
      if (!geometry) return { skip: `the ${header[wkt]} cell is not valid WKT`, line };
    } else if (lat !== -1 && lon !== -1) {
      if (cell(lat) === "" && cell(lon) === "") {
        return {
          skip: `no coordinates (the ${header[lat]} and ${header[lon]} cells are empty)`,
          line,
        };
      }
      const y = coordinate(cell(lat), decimalComma);
      const x = coordinate(cell(lon), decimalComma);
      if (x === null || y === null) {
        const [name, value] = y === null ? [header[lat], cell(lat)] : [header[lon], cell(lon)];
        return { skip: `${name} ${JSON.stringify(value)} is not a number`, line };
      }
      geometry = { type: "Point", coordinates: [x, y] };
    } else {
      return { skip: `no coordinates (the ${header[wkt]} cell is empty)`, line };
    }
    const properties: Record<string, unknown> = {};
    header.forEach((name, i) => {
      if (!geometryColumns.has(i) && name !== "") properties[name] = typed(cells[i] ?? "");
    });
    return { feature: { type: "Feature", geometry, properties }, line };
  });
  return { ok: true, format: "csv", records };
}

function coordinate(text: string, decimalComma: boolean): number | null {
  const t = decimalComma ? text.replace(/^(-?\d+),(\d+)$/, "$1.$2") : text;
  const n = Number(t);
  return t !== "" && Number.isFinite(n) ? n : null;
}

/** A plain number (as JavaScript writes it back, so "007" and "1e3" stay text), `null`, or text. */
function typed(text: string): string | number | null {
  if (text === "") return null;
  const n = Number(text);
  return Number.isFinite(n) && String(n) === text ? n : text;
}
