/** The history panel's pure logic: the relay's history answers checked, edits and comments merged into a timeline, grouped into sessions of one author, and put in words. */
import * as v from "valibot";
import { type Comment, CommentSchema } from "../../relay/protocol.ts";
import * as Wire from "../../relay/history_wire.ts";

/**
 * One accepted edit as `GET /api/maps/<id>/history` lists it (the relay's schema), with what an edit
 * journaled before the relay recorded authors and times lacks filled in for display: time 0 is
 * "earlier", the author "Someone" in grey.
 */
export const HistoryEntrySchema = v.pipe(
  Wire.HistoryEntrySchema,
  v.transform((e) => ({
    ...e,
    at: e.at ?? 0,
    name: e.name ?? "Someone",
    color: e.color ?? "#9ca3af",
  })),
);
/** One accepted edit in the map's history. */
export type HistoryEntry = v.InferOutput<typeof HistoryEntrySchema>;

/** One page of the history, newest first; `next` is the `before` of the next page, null at the end. */
export const HistoryPageSchema = v.object({
  ...Wire.HistoryPageSchema.entries,
  entries: v.array(HistoryEntrySchema),
});
/** One page of the history. */
export type HistoryPage = v.InferOutput<typeof HistoryPageSchema>;

/** A named version (contract point 3). */
export const NamedVersionSchema = Wire.VersionInfoSchema;
/** A named version of the map. */
export type NamedVersion = Wire.VersionInfo;

/** A comment or reply (the relay's schema). */
export const MapCommentSchema = CommentSchema;
/** A comment or reply. */
export type MapComment = Comment;

/** One line of the timeline: an edit, or a comment in words. */
export type TimelineItem =
  | { kind: "edit"; at: number; name: string; color: string; entry: HistoryEntry }
  | { kind: "comment"; at: number; name: string; color: string; text: string; id: string };

/** Consecutive timeline items by one author, newest first (Google Docs' sessions). */
export interface TimelineSession {
  name: string;
  color: string;
  /** The oldest item's time. */
  from: number;
  /** The newest item's time. */
  to: number;
  items: TimelineItem[];
}

/**
 * The seq up to which a page of newest edits leaves nothing out, given `head` held before. The
 * whole map's history lists every edit, so that is its newest entry: the page's `seq` may be newer
 * (an edit accepted while the relay read the page), and taking it would skip that edit for good.
 * A feature's history (`perFeature`) lists only some edits, so there the page's `seq` counts.
 *
 * @example
 * ```ts
 * loadedUpTo({ seq: 9, oldest: 1, next: null, entries: [] }, 7, false); // 7
 * ```
 */
export function loadedUpTo(page: HistoryPage, head: number, perFeature: boolean): number {
  if (perFeature) return page.seq;
  return Math.max(head, page.entries[0]?.seq ?? 0);
}

/** The gap that ends a session: the same author 20 minutes later starts a new one. */
export const SESSION_GAP_MS = 20 * 60_000;

/**
 * What a comment says in the timeline: "commented on 'Dam': …", "replied: …", "commented: …".
 *
 * @example
 * ```ts
 * commentWords({ id: "c1", thread: "c1", text: "Too far north", name: "Ann", color: "#000",
 *   created: 0, anchor: { fid: "f1" } }, () => "Dam");
 * // "commented on 'Dam': Too far north"
 * ```
 */
export function commentWords(comment: MapComment, titleOf: (fid: string) => string | null): string {
  const text = comment.text.length > 140 ? `${comment.text.slice(0, 139)}…` : comment.text;
  if (comment.thread !== comment.id) return `replied: ${text}`;
  const anchor = comment.anchor;
  if (anchor && "fid" in anchor) {
    const title = titleOf(anchor.fid);
    return `commented on ${title === null ? "a feature" : `'${title}'`}: ${text}`;
  }
  return `commented: ${text}`;
}

/**
 * The loaded edits and the comments of the same span merged by time, newest first. While older
 * history remains to be loaded (`complete` false), comments older than the oldest loaded edit
 * wait, so they appear in their place once that page arrives.
 */
export function timelineItems(
  entries: readonly HistoryEntry[],
  comments: readonly MapComment[],
  complete: boolean,
  titleOf: (fid: string) => string | null,
): TimelineItem[] {
  const oldest = entries.length > 0 ? entries[entries.length - 1].at : Infinity;
  const items: TimelineItem[] = entries.map((entry) => ({
    kind: "edit",
    at: entry.at,
    name: entry.name,
    color: entry.color,
    entry,
  }));
  for (const c of comments) {
    if (!complete && c.created < oldest) continue;
    items.push({
      kind: "comment",
      at: c.created,
      name: c.name,
      color: c.color,
      text: commentWords(c, titleOf),
      id: c.id,
    });
  }
  // Stable: edits of the same millisecond keep their seq order (newest first).
  return items.sort((a, b) => b.at - a.at);
}

/**
 * Groups a newest-first timeline into sessions: consecutive items by the same author (name and
 * colour as they were then) no more than `gapMs` apart.
 *
 * @example
 * ```ts
 * const item = (at: number, name: string) => ({ kind: "comment" as const, at, name, color: "#000", text: "", id: `${at}` });
 * groupSessions([item(3, "Ann"), item(2, "Ann"), item(1, "Bo")]).map((s) => s.items.length); // [2, 1]
 * ```
 */
export function groupSessions(
  items: readonly TimelineItem[],
  gapMs: number = SESSION_GAP_MS,
): TimelineSession[] {
  const sessions: TimelineSession[] = [];
  for (const item of items) {
    const last = sessions.at(-1);
    if (
      last && last.name === item.name && last.color === item.color && last.from - item.at <= gapMs
    ) {
      last.items.push(item);
      last.from = item.at;
    } else {
      sessions.push({
        name: item.name,
        color: item.color,
        from: item.at,
        to: item.at,
        items: [item],
      });
    }
  }
  return sessions;
}

/**
 * A session's edits in a few words: its first summaries, then how many more.
 *
 * @example
 * ```ts
 * sessionWords(["moved 'Dam'", "added a point", "deleted 'Hut'", "added 2 features"], 2);
 * // "moved 'Dam'; added a point; and 2 more changes"
 * ```
 */
export function sessionWords(summaries: readonly string[], shown = 3): string {
  const head = summaries.slice(0, shown).join("; ");
  const rest = summaries.length - shown;
  if (rest <= 0) return head;
  return `${head}; and ${rest} more change${rest === 1 ? "" : "s"}`;
}

const KIND_WORDS = {
  add: "added",
  replace: "replaced",
  geom: "moved",
  props: "changed",
  del: "deleted",
} as const;

/**
 * An edit's changes one per line, for the tooltip of its line in the timeline: which feature and,
 * for properties, which keys.
 *
 * @example
 * ```ts
 * changeList({ seq: 1, at: 0, name: "Ann", color: "#000", label: null, summary: "",
 *   changes: [{ fid: "f1", title: "Dam", kind: "props", keys: ["fill", "name"] }] });
 * // "changed 'Dam': fill, name"
 * ```
 */
export function changeList(entry: HistoryEntry): string {
  const lines = entry.changes.map((c) => {
    const what = `${KIND_WORDS[c.kind]} ${c.title === null ? c.fid : `'${c.title}'`}`;
    return c.keys && c.keys.length > 0 ? `${what}: ${c.keys.join(", ")}` : what;
  });
  if (entry.more) lines.push(`and ${entry.more} more`);
  return lines.join("\n");
}

/** Options of the time formats: the clock to compare with and the zone (local when absent). */
export interface TimeFormat {
  now: number;
  timeZone?: string;
}

function parts(ms: number, timeZone?: string): { day: string; time: string; date: string } {
  const time = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone })
    .format(ms);
  const day = new Intl.DateTimeFormat("en-CA", { dateStyle: "short", timeZone }).format(ms);
  const date = new Intl.DateTimeFormat("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    timeZone,
  }).format(ms);
  return { day, time, date };
}

/**
 * A moment for people: "Today 14:05", "Yesterday 09:30" or "3 Dec 2026, 14:05".
 *
 * @example
 * ```ts
 * momentText(Date.UTC(2026, 11, 3, 14, 5), { now: Date.UTC(2026, 11, 3, 18), timeZone: "UTC" }); // "Today 14:05"
 * ```
 */
export function momentText(ms: number, format: TimeFormat): string {
  if (ms <= 0) return "Earlier";
  const p = parts(ms, format.timeZone);
  if (p.day === parts(format.now, format.timeZone).day) return `Today ${p.time}`;
  if (p.day === parts(format.now - 86_400_000, format.timeZone).day) return `Yesterday ${p.time}`;
  return `${p.date}, ${p.time}`;
}

/**
 * A session's time range: "Today 14:05–14:40", one moment when it begins and ends in the same
 * minute, both in full when it spans days.
 */
export function rangeText(from: number, to: number, format: TimeFormat): string {
  const start = momentText(from, format);
  const a = parts(from, format.timeZone);
  const b = parts(to, format.timeZone);
  if (a.day === b.day && a.time === b.time) return start;
  if (a.day === b.day) return `${start}–${b.time}`;
  return `${start} – ${momentText(to, format)}`;
}
