/** Reads simplestyle-spec 1.1.0 properties (as geojson.io, Placemark and GitHub write them) leniently. */

/** The style a feature asks for, every value valid; a missing or bad property gives the default. */
export interface SimpleStyle {
  stroke: string;
  strokeWidth: number;
  strokeOpacity: number;
  fill: string;
  fillOpacity: number;
  markerColor: string;
  markerSize: MarkerSize;
  /** The text drawn on a point's pin ("" for none): a number, or one character or emoji. */
  markerSymbol: string;
}

/** simplestyle's three marker sizes. */
export type MarkerSize = "small" | "medium" | "large";

/** The property names this module reads, in the order the style editor shows them. */
export const STYLE_KEYS = [
  "stroke",
  "stroke-width",
  "stroke-opacity",
  "fill",
  "fill-opacity",
  "marker-color",
  "marker-size",
  "marker-symbol",
] as const;

/**
 * The page's look for a feature without style properties (its blue), not simplestyle's greys, so
 * unstyled maps look as they did.
 */
export const DEFAULT_STYLE: Readonly<SimpleStyle> = {
  stroke: "#2563eb",
  strokeWidth: 2,
  strokeOpacity: 0.9,
  fill: "#2563eb",
  fillOpacity: 0.18,
  markerColor: "#2563eb",
  markerSize: "medium",
  markerSymbol: "",
};

/** Pin heights in CSS pixels per marker size. */
export const MARKER_PIXELS: Readonly<Record<MarkerSize, number>> = {
  small: 22,
  medium: 30,
  large: 40,
};

/**
 * A colour as `#rrggbb` (lower case), or `null`. simplestyle allows `#rgb` and `#rrggbb`, with or
 * without the `#`.
 */
export function parseColor(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value.trim());
  if (!m) return null;
  const hex = m[1].toLowerCase();
  return "#" + (hex.length === 3 ? [...hex].map((c) => c + c).join("") : hex);
}

/** A finite number (numeric strings too, as CSV imports give them), clamped; `null` if none. */
function parseNumber(value: unknown, min: number, max: number): number | null {
  const n = typeof value === "number"
    ? value
    : typeof value === "string" && value.trim() !== ""
    ? Number(value)
    : NaN;
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : null;
}

/**
 * The text a `marker-symbol` draws: a number 0-99 as itself, one character or emoji (one
 * grapheme) as itself; anything else (a Maki icon name, a long text) draws nothing.
 */
export function parseSymbol(value: unknown): string {
  if (typeof value === "number") {
    return Number.isInteger(value) && value >= 0 && value <= 99 ? String(value) : "";
  }
  if (typeof value !== "string") return "";
  const text = value.trim();
  if (/^\d{1,2}$/.test(text)) return String(Number(text));
  const graphemes = [...new Intl.Segmenter().segment(text)];
  return graphemes.length === 1 ? text : "";
}

/** The style of a feature's properties; never throws, whatever the properties hold. */
export function readStyle(properties: Readonly<Record<string, unknown>>): SimpleStyle {
  const size = properties["marker-size"];
  return {
    stroke: parseColor(properties["stroke"]) ?? DEFAULT_STYLE.stroke,
    strokeWidth: parseNumber(properties["stroke-width"], 0, 50) ?? DEFAULT_STYLE.strokeWidth,
    strokeOpacity: parseNumber(properties["stroke-opacity"], 0, 1) ?? DEFAULT_STYLE.strokeOpacity,
    fill: parseColor(properties["fill"]) ?? DEFAULT_STYLE.fill,
    fillOpacity: parseNumber(properties["fill-opacity"], 0, 1) ?? DEFAULT_STYLE.fillOpacity,
    markerColor: parseColor(properties["marker-color"]) ?? DEFAULT_STYLE.markerColor,
    markerSize: size === "small" || size === "medium" || size === "large"
      ? size
      : DEFAULT_STYLE.markerSize,
    markerSymbol: parseSymbol(properties["marker-symbol"]),
  };
}

/** Whether a point asks for a marker of its own (a pin) rather than the plain dot. */
export function hasMarkerStyle(properties: Readonly<Record<string, unknown>>): boolean {
  return "marker-color" in properties || "marker-size" in properties ||
    "marker-symbol" in properties;
}

/** Leaflet path options (the subset of `L.PathOptions` this module sets) for lines and areas. */
export interface PathStyle {
  color: string;
  weight: number;
  opacity: number;
  fillColor: string;
  fillOpacity: number;
}

/** The Leaflet path options for a style. */
export function pathStyle(style: SimpleStyle): PathStyle {
  return {
    color: style.stroke,
    weight: style.strokeWidth,
    opacity: style.strokeOpacity,
    fillColor: style.fill,
    fillOpacity: style.fillOpacity,
  };
}

/** What a point's pin looks like: its SVG markup, size and anchor (the tip, bottom centre). */
export interface PinIcon {
  html: string;
  size: [number, number];
  anchor: [number, number];
}

/** A pin-shaped SVG marker in the style's colour with its symbol, escaped for HTML. */
export function pinIcon(style: SimpleStyle, selected = false): PinIcon {
  const height = MARKER_PIXELS[style.markerSize];
  const width = Math.round(height * 0.75);
  const symbol = style.markerSymbol.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const outline = selected ? "#0f172a" : "#ffffff";
  const html = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 24 32" aria-hidden="true"><path d="M12 31C12 31 2 18.5 2 11a10 10 0 0 1 20 0` +
    `c0 7.5-10 20-10 20z" fill="${style.markerColor}" stroke="${outline}" ` +
    `stroke-width="${selected ? 3 : 1.5}"/>` +
    (symbol
      ? `<text x="12" y="15" text-anchor="middle" font-size="11" font-family="sans-serif" ` +
        `font-weight="bold" fill="${contrastText(style.markerColor)}">${symbol}</text>`
      : `<circle cx="12" cy="11" r="3.5" fill="${contrastText(style.markerColor)}"/>`) +
    `</svg>`;
  return { html, size: [width, height], anchor: [width / 2, height] };
}

/** Black or white, whichever reads better on a `#rrggbb` background. */
export function contrastText(color: string): string {
  const n = parseInt(color.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111111" : "#ffffff";
}
