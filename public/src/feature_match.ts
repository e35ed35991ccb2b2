/** Finds the map's features whose property values match what a person typed, best first. */
import type { StoredFeature } from "../../relay/protocol.ts";

/** One feature that matched, and why. */
export interface FeatureMatch {
  /** The feature's id. */
  fid: string;
  /** What to call it: its name-like property, else its first text value, else its geometry. */
  label: string;
  /** The property whose value matched. */
  key: string;
  /** That value, as text. */
  value: string;
}

// Properties that name a feature: a match there ranks above a match anywhere else.
const NAME_KEYS = /^(name|title|label)([:_].*)?$/i;

/**
 * Folds case and accents so `zurich` finds `Zürich` and `ZÜRICH`.
 *
 * @example
 * ```ts
 * fold("Zürich"); // "zurich"
 * ```
 */
export function fold(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/**
 * The features with a property value containing `query` (case- and accent-insensitive), at most
 * `limit`: matches in a name or title first, then whole values, then values that start with it or
 * have a word that does, then any other; ties in the map's order.
 *
 * @example
 * ```ts
 * matchFeatures(doc.features.values(), "lake", 8);
 * ```
 */
export function matchFeatures(
  features: Iterable<StoredFeature>,
  query: string,
  limit: number,
): FeatureMatch[] {
  const q = fold(query.trim());
  if (q === "") return [];
  const found: { match: FeatureMatch; rank: number; order: number }[] = [];
  let order = 0;
  for (const feature of features) {
    let best: { key: string; value: string; rank: number } | null = null;
    for (const [key, value] of leaves(feature.properties)) {
      const rank = rankOf(fold(value), q, NAME_KEYS.test(key));
      if (rank !== null && (best === null || rank < best.rank)) best = { key, value, rank };
    }
    if (best !== null) {
      found.push({
        match: { fid: feature.id, label: labelOf(feature), key: best.key, value: best.value },
        rank: best.rank,
        order: order++,
      });
    }
  }
  found.sort((a, b) => a.rank - b.rank || a.order - b.order);
  return found.slice(0, limit).map((f) => f.match);
}

/** 0-3 in a name (exact, prefix, word, inside), 4-7 elsewhere; null when it does not contain q. */
function rankOf(value: string, q: string, isName: boolean): number | null {
  const at = value.indexOf(q);
  if (at < 0) return null;
  let how = 3;
  if (value === q) how = 0;
  else if (at === 0) how = 1;
  else if (new RegExp(`[^\\p{L}\\p{N}]${escape(q)}`, "u").test(value)) how = 2;
  return isName ? how : how + 4;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Every text, number and boolean inside the properties, with the top-level key it is under. */
function* leaves(properties: Record<string, unknown>): Generator<[string, string]> {
  for (const [key, value] of Object.entries(properties)) {
    for (const text of texts(value, 0)) yield [key, text];
  }
}

function* texts(value: unknown, depth: number): Generator<string> {
  if (typeof value === "string") yield value;
  else if (typeof value === "number" || typeof value === "boolean") yield String(value);
  else if (value !== null && typeof value === "object" && depth < 8) {
    for (const v of Object.values(value)) yield* texts(v, depth + 1);
  }
}

/** The name people know a feature by. */
export function labelOf(feature: StoredFeature): string {
  const props = feature.properties;
  for (const key of Object.keys(props)) {
    const v = props[key];
    if (NAME_KEYS.test(key) && typeof v === "string" && v.trim() !== "") return v;
  }
  for (const v of Object.values(props)) {
    if (typeof v === "string" && v.trim() !== "") return v;
  }
  return `Unnamed ${geometryName(feature.geometry?.type)}`;
}

function geometryName(type: string | undefined): string {
  switch (type) {
    case "Point":
    case "MultiPoint":
      return "point";
    case "LineString":
    case "MultiLineString":
      return "line";
    case "Polygon":
    case "MultiPolygon":
      return "area";
    default:
      return "feature";
  }
}
