/** Vector tile basemaps (MVT), drawn on canvas by protomaps-leaflet: a Protomaps build's own theme, or generic rules. */
import {
  CircleSymbolizer,
  type Feature,
  GeomType,
  type LabelRule,
  leafletLayer,
  type LeafletLayerOptions,
  LineLabelSymbolizer,
  LineSymbolizer,
  type PaintRule,
  PolygonSymbolizer,
  TextSymbolizer,
} from "protomaps-leaflet";
import type { BasemapInfo } from "./basemap_list.ts";
import type L from "./leaflet.ts";

/** Options for {@link vectorBasemap}. */
export interface VectorBasemapOptions {
  /** The pane the tiles are drawn in. @default "basemap" */
  pane?: string;
  /** Labels' language in a Protomaps build. @default "en" */
  lang?: string;
}

/** One colour per source layer, so roads, buildings and borders of an unknown schema differ. */
const PALETTE = ["#8d99ae", "#b07d62", "#6a994e", "#5e60ce", "#c9184a", "#457b9d"];
const FONT = "12px sans-serif";

const isGeom = (type: GeomType) => (_z: number, f: Feature) => f.geomType === type;

/**
 * Paint and label rules for vector tiles of any schema: polygons filled lightly and outlined,
 * lines stroked, points as dots, and labels from each feature's `name`. Every polygon is painted
 * before any line and every line before any point, so small features stay on top.
 */
export function genericRules(
  layers: string[],
): { paintRules: PaintRule[]; labelRules: LabelRule[] } {
  const colour = (i: number) => PALETTE[i % PALETTE.length];
  const paintRules: PaintRule[] = [
    ...layers.map((dataLayer, i) => ({
      dataLayer,
      filter: isGeom(GeomType.Polygon),
      symbolizer: new PolygonSymbolizer({
        fill: colour(i),
        opacity: 0.25,
        stroke: colour(i),
        width: 0.8,
      }),
    })),
    ...layers.map((dataLayer, i) => ({
      dataLayer,
      filter: isGeom(GeomType.Line),
      symbolizer: new LineSymbolizer({ color: colour(i), width: (z: number) => z >= 14 ? 2 : 1 }),
    })),
    ...layers.map((dataLayer, i) => ({
      dataLayer,
      filter: isGeom(GeomType.Point),
      symbolizer: new CircleSymbolizer({ radius: 3, fill: colour(i), stroke: "#fff", width: 1 }),
    })),
  ];
  const text = { labelProps: ["name"], font: FONT, fill: "#333", stroke: "#fff", width: 2 };
  const labelRules: LabelRule[] = layers.flatMap((dataLayer) => [
    { dataLayer, filter: isGeom(GeomType.Line), symbolizer: new LineLabelSymbolizer(text) },
    { dataLayer, filter: isGeom(GeomType.Point), symbolizer: new TextSymbolizer(text) },
  ]);
  return { paintRules, labelRules };
}

/**
 * The relay's z/x/y tiles in the one shape protomaps-leaflet reads tiles through besides its own
 * URL fetcher (`getZxy` of a PMTiles archive). Its URL fetcher would parse a 404's problem+json
 * as a tile and log a decoding error for every tile outside the file; here a 404 is an empty tile.
 */
export class RelayZxyTiles {
  #template: string;

  constructor(template: string) {
    this.#template = template;
  }

  /** The tile's bytes, or undefined when the file has no tile there (404). */
  async getZxy(z: number, x: number, y: number, signal?: AbortSignal) {
    const url = this.#template.replace("{z}", String(z)).replace("{x}", String(x))
      .replace("{y}", String(y));
    const response = await fetch(url, { signal });
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`basemap tile ${z}/${x}/${y} answered ${response.status}`);
    return { data: await response.arrayBuffer() };
  }
}

/**
 * A vector basemap as a Leaflet grid layer. Tiles come from the relay's z/x/y URL; past the
 * file's maxzoom the renderer scales the last level's geometry (over-zoom), which stays sharp.
 */
export function vectorBasemap(info: BasemapInfo, options: VectorBasemapOptions = {}): L.Layer {
  const style = info.flavor === "protomaps"
    ? { flavor: "light", lang: options.lang ?? "en" }
    : { ...genericRules(info.vectorLayers ?? []), backgroundColor: "#f4f1ea" };
  const [w, s, e, n] = info.bounds ?? [-180, -85.0511, 180, 85.0511];
  return leafletLayer({
    url: new RelayZxyTiles(info.tiles ?? "") as unknown as LeafletLayerOptions["url"],
    maxDataZoom: info.maxzoom ?? 14,
    pane: options.pane ?? "basemap",
    bounds: [[s, w], [n, e]],
    attribution: info.attribution ?? "",
    ...style,
  }) as unknown as L.Layer;
}
