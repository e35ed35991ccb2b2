/** Says who last changed a feature and when ("Changed by Ann, 2 min ago") from its relay `meta`. */
import type { FeatureMeta } from "../../relay/protocol.ts";

/** How long ago `at` was, in words: "just now", "5 s ago", "2 min ago", "3 h ago", "4 days ago". */
export function ago(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ago`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

/** "Changed by Ann, 2 min ago", or null for a feature the relay has no record of (older maps). */
export function changedText(meta: FeatureMeta | undefined, now: number): string | null {
  if (!meta) return null;
  return `Changed by ${meta.by}, ${ago(meta.at, now)}`;
}
