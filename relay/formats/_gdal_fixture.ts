/** Import fixtures made by GDAL (ogr2ogr) from one GeoJSON source: KML, KMZ, GPX, CSV (WKT and X/Y), zipped Shapefiles in WGS84 and EPSG:2056. */
import { zipSync } from "fflate";

/** The source: a point, a line and a polygon with a hole, with text, integer, real, boolean and null properties. */
export const SOURCE = {
  type: "FeatureCollection",
  features: [
    {
      type: "Feature",
      properties: {
        name: "Café du Pont",
        count: 12,
        ratio: 0.25,
        open: true,
        note: null,
        longfieldname_here: "x",
      },
      geometry: { type: "Point", coordinates: [7.4474, 46.948] },
    },
    {
      type: "Feature",
      properties: {
        name: "Trail",
        count: -3,
        ratio: 1.5,
        open: false,
        note: 'a, "quoted" note',
        longfieldname_here: "y",
      },
      geometry: { type: "LineString", coordinates: [[7.4, 46.9], [7.45, 46.95], [7.5, 46.92]] },
    },
    {
      type: "Feature",
      properties: {
        name: "Park",
        count: 0,
        ratio: -2.125,
        open: true,
        note: "with hole",
        longfieldname_here: "z",
      },
      geometry: {
        type: "Polygon",
        coordinates: [
          [[7.3, 46.8], [7.6, 46.8], [7.6, 47], [7.3, 47], [7.3, 46.8]],
          [[7.4, 46.85], [7.4, 46.95], [7.5, 46.95], [7.5, 46.85], [7.4, 46.85]],
        ],
      },
    },
  ],
} as const;

/** The files, as bytes. */
export interface GdalFixtures {
  kml: Uint8Array;
  kmz: Uint8Array;
  gpx: Uint8Array;
  csvWkt: Uint8Array;
  csvXy: Uint8Array;
  /** Three Shapefiles (points, lines, polygons) in WGS84, zipped. */
  shp: Uint8Array;
  /** The same in EPSG:2056 (CH1903+ / LV95), with its .prj. */
  shp2056: Uint8Array;
}

async function ogr(args: string[]): Promise<void> {
  const out = await new Deno.Command("ogr2ogr", { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`ogr2ogr ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
}

const TYPES = ["POINT", "LINESTRING", "POLYGON"] as const;

/** Runs ogr2ogr into a temporary directory (removed afterwards) and reads what it wrote. */
export async function gdalFixtures(): Promise<GdalFixtures> {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-gdal-" });
  try {
    const src = `${dir}/src.geojson`;
    await Deno.writeTextFile(src, JSON.stringify(SOURCE));
    await ogr(["-f", "KML", `${dir}/out.kml`, src]);
    await ogr(["-f", "CSV", `${dir}/wkt.csv`, src, "-lco", "GEOMETRY=AS_WKT"]);
    await ogr(["-f", "CSV", `${dir}/xy.csv`, src, "-lco", "GEOMETRY=AS_XY"]);
    // GPX holds points (waypoints) and lines (routes, tracks), one layer of each, from a GeoPackage.
    const gpkg = `${dir}/gpx.gpkg`;
    const layers = [["POINT", "POINT", "waypoints"], ["LINESTRING", "LINESTRING", "routes"], [
      "LINESTRING",
      "MULTILINESTRING",
      "tracks",
    ]];
    for (const [i, [type, nlt, nln]] of layers.entries()) {
      await ogr([
        "-f",
        "GPKG",
        ...(i > 0 ? ["-update"] : []),
        gpkg,
        src,
        "-sql",
        `SELECT * FROM src WHERE OGR_GEOMETRY='${type}'`,
        "-nlt",
        nlt,
        "-nln",
        nln,
      ]);
    }
    await ogr(["-f", "GPX", `${dir}/out.gpx`, gpkg, "-dsco", "GPX_USE_EXTENSIONS=YES"]);
    const shapefiles = async (srs: string | null): Promise<Uint8Array> => {
      const files: Record<string, Uint8Array> = {};
      const sub = `${dir}/shp-${srs ?? "wgs84"}`.replace(":", "");
      await Deno.mkdir(sub);
      for (const type of TYPES) {
        // A Shapefile holds one geometry type: one per type, as GDAL users do.
        await ogr([
          "-f",
          "ESRI Shapefile",
          ...(srs ? ["-t_srs", srs] : []),
          `${sub}/${type.toLowerCase()}.shp`,
          src,
          "-sql",
          `SELECT * FROM src WHERE OGR_GEOMETRY='${type}'`,
        ]);
      }
      for await (const entry of Deno.readDir(sub)) {
        files[entry.name] = await Deno.readFile(`${sub}/${entry.name}`);
      }
      return zipSync(files);
    };
    const kml = await Deno.readFile(`${dir}/out.kml`);
    return {
      kml,
      kmz: zipSync({ "doc.kml": kml, "files/icon.png": new Uint8Array([137, 80, 78, 71]) }),
      gpx: await Deno.readFile(`${dir}/out.gpx`),
      csvWkt: await Deno.readFile(`${dir}/wkt.csv`),
      csvXy: await Deno.readFile(`${dir}/xy.csv`),
      shp: await shapefiles(null),
      shp2056: await shapefiles("EPSG:2056"),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
