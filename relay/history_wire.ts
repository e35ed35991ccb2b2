/** The history API's answers on the wire: one schema for the relay that writes them and the page that reads them. */
import * as v from "valibot";

/** What happened to a feature in one edit. */
export const ChangeKindSchema = v.picklist(["add", "replace", "geom", "props", "del"]);
/** What happened to a feature in one edit. */
export type ChangeKind = v.InferOutput<typeof ChangeKindSchema>;

/** One change of an edit, as `GET .../history` lists it. */
export const ChangeSchema = v.object({
  /** The feature. */
  fid: v.string(),
  /** The feature's name or title when known, else `null`. */
  title: v.nullable(v.string()),
  /** What happened to it. */
  kind: ChangeKindSchema,
  /** For `props`: the keys set or removed, sorted. */
  keys: v.optional(v.array(v.string())),
});
/** One change of an edit. */
export type Change = v.InferOutput<typeof ChangeSchema>;

/**
 * One edit as `GET .../history` lists it. `at`, `name` and `color` are `null` for an edit journaled
 * before the relay recorded its author and time; `more` counts the changes left out of `changes`.
 */
export const HistoryEntrySchema = v.object({
  seq: v.number(),
  at: v.nullable(v.number()),
  name: v.nullable(v.string()),
  color: v.nullable(v.string()),
  /** The author's peer id (`"api"` for an import). */
  by: v.string(),
  /** The author's id for the edit. */
  id: v.union([v.string(), v.number()]),
  label: v.nullable(v.string()),
  /** What it did, in words, without the author. */
  summary: v.string(),
  changes: v.array(ChangeSchema),
  more: v.optional(v.number()),
});
/** One edit in a map's history. */
export type HistoryEntry = v.InferOutput<typeof HistoryEntrySchema>;

/** A page of history, newest first; `next` is the `before` of the next page, `null` at the end. */
export const HistoryPageSchema = v.object({
  /** The map's latest seq. */
  seq: v.number(),
  /** The oldest seq still kept (retention). */
  oldest: v.number(),
  next: v.nullable(v.number()),
  entries: v.array(HistoryEntrySchema),
});
/** A page of history. */
export type HistoryPage = v.InferOutput<typeof HistoryPageSchema>;

/** A named version: the seq it names, its name, when (relay clock, ms) and who named it. */
export const VersionInfoSchema = v.object({
  seq: v.number(),
  name: v.string(),
  at: v.number(),
  author: v.string(),
});
/** A named version. */
export type VersionInfo = v.InferOutput<typeof VersionInfoSchema>;
