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
  // Most values are plain ASCII, where normalising would cost the most and change nothing.
  if (ASCII.test(text)) return text.toLowerCase();
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

const ASCII = /^\p{ASCII}*$/u;

/** A property value ready to be compared: folded once, with whether its key names the feature. */
interface Leaf {
  key: string;
  value: string;
  folded: string;
  isName: boolean;
}

/**
 * Finds features by their property values. It remembers each properties object's folded values
 * (edits replace a feature's properties with a new object, never change one in place), so typing
 * in a map of 10 000 features folds each value once, not on every key press.
 *
 * @example
 * ```ts
 * const matcher = new FeatureMatcher();
 * matcher.match(doc.features.values(), "lake", 8);
 * ```
 */
export class FeatureMatcher {
  #leaves = new WeakMap<Record<string, unknown>, Leaf[]>();

  /**
   * The features with a property value containing `query` (case- and accent-insensitive), at
   * most `limit`: matches in a name or title first, then whole values, then values that start
   * with it or have a word that does, then any other; ties in the map's order.
   */
  match(features: Iterable<StoredFeature>, query: string, limit: number): FeatureMatch[] {
    const q = fold(query.trim());
    if (q === "") return [];
    const word = new RegExp(`[^\\p{L}\\p{N}]${escape(q)}`, "u");
    // One list per rank, each kept to `limit`: the map's order within a rank is the order seen,
    // so nothing needs sorting and a search that matches everything stays cheap.
    const ranks: { feature: StoredFeature; leaf: Leaf }[][] = Array.from({ length: 8 }, () => []);
    for (const feature of features) {
      let best: { leaf: Leaf; rank: number } | null = null;
      for (const leaf of this.#leavesOf(feature.properties)) {
        const rank = rankOf(leaf.folded, q, word, leaf.isName);
        if (rank !== null && (best === null || rank < best.rank)) best = { leaf, rank };
        if (best?.rank === 0) break;
      }
      if (best !== null && ranks[best.rank].length < limit) {
        ranks[best.rank].push({ feature, leaf: best.leaf });
      }
    }
    return ranks.flat().slice(0, limit).map(({ feature, leaf }) => ({
      fid: feature.id,
      label: labelOf(feature),
      key: leaf.key,
      value: leaf.value,
    }));
  }

  #leavesOf(properties: Record<string, unknown>): Leaf[] {
    let leaves = this.#leaves.get(properties);
    if (!leaves) {
      leaves = [...leavesOf(properties)].map(([key, value]) => ({
        key,
        value,
        folded: fold(value),
        isName: NAME_KEYS.test(key),
      }));
      this.#leaves.set(properties, leaves);
    }
    return leaves;
  }
}

/** 0-3 in a name (exact, prefix, word, inside), 4-7 elsewhere; null when it does not contain q. */
function rankOf(value: string, q: string, word: RegExp, isName: boolean): number | null {
  const at = value.indexOf(q);
  if (at < 0) return null;
  let how = 3;
  if (value === q) how = 0;
  else if (at === 0) how = 1;
  else if (word.test(value)) how = 2;
  return isName ? how : how + 4;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Every text, number and boolean inside the properties, with the top-level key it is under. */
function* leavesOf(properties: Record<string, unknown>): Generator<[string, string]> {
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
