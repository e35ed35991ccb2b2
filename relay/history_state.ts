/** A map as it was right after one edit: the nearest kept snapshot plus the journal replayed to it. */
import { inflateSync } from "node:zlib";
import { applyFrame } from "./edit_ops.ts";
import type { FeatureMap } from "./edit_ops.ts";
import type { HistoryRow, HistoryTables } from "./history_store.ts";
import type { EditFrame, StoredFeature } from "./protocol.ts";

/** The features right after edit `at` as a JSON array without `meta`, or `null` when pruned. */
export function featuresAt(
  history: HistoryTables,
  mapId: string,
  at: number,
  latest: { seq: number; featuresJson: () => string | null },
): string | null {
  const named = history.versionFeatures(mapId, at);
  if (named !== null) return named;
  let base = history.baseAt(mapId, at);
  // The map's latest snapshot is a base too (it may not be one kept for history).
  if (latest.seq <= at && latest.seq > (base?.seq ?? 0)) {
    const json = latest.featuresJson();
    if (json !== null) base = { seq: latest.seq, featuresJson: () => json };
  }
  const from = base?.seq ?? 0;
  return rebuild(from, base?.featuresJson ?? null, at, history.rows(mapId, from, at));
}

/**
 * The features right after edit `at` from a base at seq `from` (none when `base` is `null`) and
 * the journal `rows` after it, or `null` when an edit between them is missing (pruned): then the
 * state cannot be rebuilt.
 */
export function rebuild(
  from: number,
  base: (() => string | null) | null,
  at: number,
  rows: readonly HistoryRow[],
): string | null {
  if (rows.length !== at - from || (rows.length > 0 && rows[0].seq !== from + 1)) return null;
  return replay(base ? base() : null, rows);
}

/** The features of `baseJson` (none when `null`) with `rows` applied in order, without `meta`. */
export function replay(baseJson: string | null, rows: readonly HistoryRow[]): string {
  const features: FeatureMap = new Map();
  if (baseJson !== null) {
    for (const f of JSON.parse(baseJson) as StoredFeature[]) features.set(f.id, f);
  }
  for (const row of rows) applyFrame(features, JSON.parse(row.frame) as EditFrame);
  return JSON.stringify([...features.values()].map(({ meta: _meta, ...f }) => f));
}

/**
 * What {@link answerRebuild} needs to rebuild a state away from the reading thread: the base as
 * JSON, or deflated (a kept snapshot as stored), or none, and the journal rows after it.
 */
export interface RebuildRequest {
  /** The seq of the base (0 for none). */
  from: number;
  /** The base: features JSON, a deflated copy of it, or `null` for an empty map. */
  base: { json: string } | { deflated: Uint8Array } | null;
  /** The seq to rebuild the state at. */
  at: number;
  /** The journal rows after `from`, up to `at`, in order. */
  rows: HistoryRow[];
}

/** {@link rebuild} for a {@link RebuildRequest} (on a worker thread, or here). */
export function answerRebuild(request: RebuildRequest): string | null {
  const { base } = request;
  const text = base === null
    ? null
    : "json" in base
    ? () => base.json
    : () => inflateSync(base.deflated).toString("utf8");
  return rebuild(request.from, text, request.at, request.rows);
}
