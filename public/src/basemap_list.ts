/** The pure side of basemaps: the list read from `/api/config`, the remembered choice, the over-zoom rule. */
import type { BasemapInfo } from "../../relay/basemaps/basemap_file.ts";

export type { BasemapInfo };

/** The built-in offline basemap: always first, always available, the default. */
export const BUILTIN: BasemapInfo = { id: "builtin", name: "Offline (built in)", kind: "builtin" };

/**
 * Past this zoom the built-in basemap (Natural Earth at 1:50m) shows only beige; the relay gives
 * it no maxzoom, so the page uses this one for the over-zoom line.
 */
export const BUILTIN_MAXZOOM = 10;

/**
 * How many zoom levels past its data a basemap still looks right: vector tiles redraw their
 * geometry at any scale (protomaps-leaflet draws the last level on 512-pixel tiles, so one level
 * is native and a 4096-unit tile holds street detail one more); raster tiles are stretched
 * (Leaflet's maxNativeZoom) and blur, so only one level.
 */
export const OVERZOOM_MARGIN = { vector: 2, raster: 1, builtin: 0 } as const;

/** The localStorage key of the chosen basemap (localStorage is already per relay origin). */
export const CHOICE_KEY = "duplexmap.basemap";

const KINDS = new Set(["builtin", "vector", "raster"]);

/** What the old config said: one raster URL in `tiles`, its credit in `tilesAttribution`. */
interface LegacyConfig {
  basemaps?: unknown;
  tiles?: unknown;
  tilesAttribution?: unknown;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** One entry of `config.basemaps` checked field by field; null when it cannot be drawn. */
function parseInfo(raw: unknown): BasemapInfo | null {
  if (typeof raw !== "object" || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const id = str(r.id);
  const kind = r.kind;
  if (!id || typeof kind !== "string" || !KINDS.has(kind)) return null;
  const info: BasemapInfo = {
    id,
    name: str(r.name) ?? id,
    kind: kind as BasemapInfo["kind"],
  };
  if (info.kind !== "builtin") {
    info.tiles = str(r.tiles);
    if (!info.tiles) return null;
  }
  const archive = str(r.archive);
  if (archive) info.archive = archive;
  const minzoom = num(r.minzoom);
  if (minzoom !== undefined) info.minzoom = minzoom;
  const maxzoom = num(r.maxzoom);
  if (maxzoom !== undefined) info.maxzoom = maxzoom;
  const b = r.bounds;
  if (Array.isArray(b) && b.length === 4 && b.every((v) => num(v) !== undefined)) {
    info.bounds = [b[0], b[1], b[2], b[3]];
  }
  const attribution = str(r.attribution);
  if (attribution) info.attribution = attribution;
  if (Array.isArray(r.vectorLayers)) {
    info.vectorLayers = r.vectorLayers.filter((v): v is string => typeof v === "string");
  }
  if (r.flavor === "protomaps") info.flavor = "protomaps";
  return info;
}

/**
 * The basemaps to offer, from `/api/config`: its `basemaps` list when there is one (entries that
 * cannot be drawn are left out, ids and names are kept unique), otherwise the built-in one plus the old
 * single `tiles` URL. The built-in basemap is always there, and first.
 */
export function basemapsFromConfig(config: LegacyConfig | null | undefined): BasemapInfo[] {
  const list: BasemapInfo[] = [];
  const seen = new Set<string>();
  const push = (info: BasemapInfo | null) => {
    if (!info || seen.has(info.id)) return;
    seen.add(info.id);
    list.push(info);
  };
  if (Array.isArray(config?.basemaps)) {
    const parsed = config.basemaps.map(parseInfo);
    push(parsed.find((i) => i?.kind === "builtin") ?? BUILTIN);
    for (const info of parsed) if (info?.kind !== "builtin") push(info);
    return distinctNames(list);
  }
  push(BUILTIN);
  const tiles = str(config?.tiles);
  if (tiles) {
    const attribution = str(config?.tilesAttribution);
    push({ id: "tiles", name: "Tiles", kind: "raster", tiles, ...attribution && { attribution } });
  }
  return list;
}

/**
 * Two files often carry the same metadata name (a PMTiles copy of an MBTiles file, two extracts of
 * one build); the switcher must tell them apart, so each shared name gets its id after it.
 */
function distinctNames(list: BasemapInfo[]): BasemapInfo[] {
  const count = new Map<string, number>();
  for (const b of list) count.set(b.name, (count.get(b.name) ?? 0) + 1);
  return list.map((b) => count.get(b.name) === 1 ? b : { ...b, name: `${b.name} (${b.id})` });
}

/** The remembered choice if it is still offered, else the built-in basemap's id. */
export function loadChoice(storage: Pick<Storage, "getItem">, list: BasemapInfo[]): string {
  let stored: string | null = null;
  try {
    stored = storage.getItem(CHOICE_KEY);
  } catch {
    // Storage can be denied (privacy settings); the default is then the answer.
  }
  const builtin = list.find((b) => b.kind === "builtin")?.id ?? BUILTIN.id;
  return list.some((b) => b.id === stored) ? stored as string : builtin;
}

/** Remembers a person's choice in this browser; storage that refuses only loses the memory. */
export function saveChoice(storage: Pick<Storage, "setItem">, id: string): void {
  try {
    storage.setItem(CHOICE_KEY, id);
  } catch {
    // Quota or privacy mode: the choice still holds for this page.
  }
}

/** The zoom levels a basemap shows well: its data's zooms widened by what its kind over-zooms. */
export function detailRange(info: BasemapInfo): { min: number; max: number } {
  const max = info.maxzoom ?? (info.kind === "builtin" ? BUILTIN_MAXZOOM : Infinity);
  // Vector tiles are drawn 512 pixels wide, from the level below the view's: its first level
  // shows from one zoom later.
  const min = (info.minzoom ?? 0) + (info.kind === "vector" && info.minzoom ? 1 : 0);
  return { min, max: max + OVERZOOM_MARGIN[info.kind] };
}

/**
 * Whether the view shows nothing of what `info` holds: zoomed past (or before) its detail range,
 * or looking at a box that misses its bounds entirely. `view` is west, south, east, north; a view
 * wider than the world or crossing the antimeridian is compared on both sides.
 */
export function beyondBasemap(
  info: BasemapInfo,
  zoom: number,
  view: [number, number, number, number],
): boolean {
  const { min, max } = detailRange(info);
  if (zoom > max || zoom < min) return true;
  if (!info.bounds) return false;
  const [w, s, e, n] = info.bounds;
  const [vw, vs, ve, vn] = view;
  if (vs > n || vn < s) return true;
  // Bounds across the antimeridian (west > east) are rare in tile metadata: no judgement then.
  if (ve - vw >= 360 || w > e) return false;
  // Longitudes of the view may run past ±180 (Leaflet wraps the world); try the copies beside it.
  return ![-360, 0, 360].some((shift) => vw + shift <= e && ve + shift >= w);
}
