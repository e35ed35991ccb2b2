/** The built-in basemap's layout rules: which Natural Earth scale and which place names at a zoom, how big, where. */
import type { Place } from "../../relay/places.ts";

/** Natural Earth scales world-atlas ships, coarse to fine. */
export type Scale = "110m" | "50m" | "10m";

/** The most detailed scale worth drawing at `zoom`: 1:110m for the world, 1:10m from zoom 5. */
export function scaleForZoom(zoom: number): Scale {
  return zoom < 3 ? "110m" : zoom < 5 ? "50m" : "10m";
}

export type { Place };

/** How one label is drawn. */
export interface LabelStyle {
  /** CSS font shorthand, also used to measure the text. */
  font: string;
  /** 1 for the biggest places to 4 for villages; the label's CSS class is `place-label-<rank>`. */
  rank: 1 | 2 | 3 | 4;
}

/** A label to place: its text, where its place is (CSS pixels) and its measured width. */
export interface LabelCandidate<T> {
  item: T;
  x: number;
  y: number;
  width: number;
  /** Font size in pixels (the label's height is derived from it). */
  size: number;
}

/** A placed label: which side of the dot its text sits on. */
export interface PlacedLabel<T> extends LabelCandidate<T> {
  side: "right" | "left";
}

/** The smallest place worth a label at `zoom`: big cities at world scale, every village up close. */
export function minPopulation(zoom: number): number {
  if (zoom <= 2) return 1_000_000;
  if (zoom <= 3) return 300_000;
  if (zoom <= 4) return 100_000;
  if (zoom <= 5) return 30_000;
  if (zoom <= 6) return 10_000;
  if (zoom <= 7) return 3_000;
  return 0;
}

/** Bigger and bolder for bigger places; a point larger once the map is at city scale. */
export function labelStyle(population: number, zoom: number): LabelStyle & { size: number } {
  const rank = population >= 5_000_000
    ? 1
    : population >= 1_000_000
    ? 2
    : population >= 100_000
    ? 3
    : 4;
  const size = [15, 13, 12, 11][rank - 1] + (zoom >= 8 ? 1 : 0);
  const weight = [700, 700, 600, 400][rank - 1];
  return { rank, size, font: `${weight} ${size}px system-ui, sans-serif` };
}

/** The dot's radius and the gap between dot and text, in pixels. */
const DOT = 3;
const GAP = 4;

/**
 * Greedy decluttering: candidates in the order given (most populous first) take their spot to
 * the right of the dot, else to the left, else are dropped; no two labels (text and dot) overlap.
 */
export function declutter<T>(candidates: readonly LabelCandidate<T>[]): PlacedLabel<T>[] {
  const taken: Box[] = [];
  const placed: PlacedLabel<T>[] = [];
  for (const c of candidates) {
    const height = c.size * 1.25;
    const dot: Box = [c.x - DOT, c.y - DOT, c.x + DOT, c.y + DOT];
    for (const side of ["right", "left"] as const) {
      const x0 = side === "right" ? c.x + DOT + GAP : c.x - DOT - GAP - c.width;
      const text: Box = [x0, c.y - height / 2, x0 + c.width, c.y + height / 2];
      if (taken.some((b) => overlaps(b, text) || overlaps(b, dot))) continue;
      taken.push(text, dot);
      placed.push({ ...c, side });
      break;
    }
  }
  return placed;
}

/** [left, top, right, bottom] in pixels. */
type Box = [number, number, number, number];

const MARGIN = 2;

function overlaps(a: Box, b: Box): boolean {
  return a[0] < b[2] + MARGIN && b[0] < a[2] + MARGIN && a[1] < b[3] + MARGIN &&
    b[1] < a[3] + MARGIN;
}

/**
 * Which world copies (0 for -180..180, 1 for 180..540, -1 for -540..-180) a view from `west` to
 * `east` (unwrapped, as Leaflet gives them) shows. Copies reach 20° past their edges, as rings
 * across the antimeridian are kept whole on one side (Chukotka to ~190°, Fiji to ~181°).
 */
export function worldCopies(west: number, east: number): number[] {
  const first = Math.ceil((west - 200) / 360) + 0; // + 0: no -0 copy
  const last = Math.floor((east + 200) / 360);
  const out: number[] = [];
  for (let k = Math.max(first, -2); k <= Math.min(last, 2); k++) out.push(k);
  return out;
}

/** One polygon of the land (a country, or one island of it) and its extent in degrees. */
export interface LandPart {
  rings: number[][][];
  west: number;
  south: number;
  east: number;
  north: number;
}

/**
 * Splits countries into their polygons, each with its extent: drawing only the parts near the view
 * keeps a zoom at 1:10m from projecting every vertex of the world (France's overseas islands and
 * mainland are separate parts, so a view of Lyon does not draw Réunion).
 */
export function landParts(polygons: readonly number[][][][]): LandPart[] {
  return polygons.map((rings) => {
    let [west, south, east, north] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const [lon, lat] of rings[0] ?? []) {
      west = Math.min(west, lon);
      east = Math.max(east, lon);
      south = Math.min(south, lat);
      north = Math.max(north, lat);
    }
    return { rings, west, south, east, north };
  });
}

/** `"<copy>:<index>"` of every part that touches `view` (unwrapped degrees) on some world copy. */
export function partsInView(
  parts: readonly LandPart[],
  view: { west: number; south: number; east: number; north: number },
): string[] {
  const out: string[] = [];
  for (const copy of worldCopies(view.west, view.east)) {
    const shift = 360 * copy;
    parts.forEach((p, i) => {
      if (p.east + shift < view.west || p.west + shift > view.east) return;
      if (p.north < view.south || p.south > view.north) return;
      out.push(`${copy}:${i}`);
    });
  }
  return out;
}

/** The copy of `lon` (±360) nearest to `centerLng`, so places show on the world copy in view. */
export function nearestCopy(lon: number, centerLng: number): number {
  return lon + 360 * Math.round((centerLng - lon) / 360);
}

/** The basemap unwraps rings with the same rule as features (public/src/antimeridian.ts). */
export { unwrapRing } from "./antimeridian.ts";
