/** Unit tests of the history panel's logic: the timeline merged and grouped into sessions, and its words. */
import assert from "assert";
import * as v from "valibot";
import {
  changeList,
  commentWords,
  groupSessions,
  type HistoryEntry,
  HistoryPageSchema,
  loadedUpTo,
  type MapComment,
  momentText,
  rangeText,
  sessionWords,
  timelineItems,
} from "./history_model.ts";

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 3, 14, 0);

function entry(seq: number, at: number, name: string, summary = `edit ${seq}`): HistoryEntry {
  const color = name === "Ann" ? "#e11d48" : "#2563eb";
  return { seq, at, name, color, by: "p1", id: `e${seq}`, label: null, summary, changes: [] };
}

function comment(id: string, created: number, extra: Partial<MapComment> = {}): MapComment {
  return { id, thread: id, text: "Look here", name: "Ann", color: "#e11d48", created, ...extra };
}

const noTitle = () => null;

Deno.test("groupSessions: one author's consecutive edits within 20 minutes make one session", () => {
  const items = timelineItems(
    [
      entry(6, T0 + 60 * MIN, "Ann"),
      entry(5, T0 + 50 * MIN, "Ann"),
      entry(4, T0 + 40 * MIN, "Ann"), // 10 min before: same session
      entry(3, T0 + 10 * MIN, "Ann"), // 30 min gap: a new session
      entry(2, T0 + 9 * MIN, "Bo"), // another author
      entry(1, T0 + 8 * MIN, "Ann"), // Ann again after Bo: a new session
    ],
    [],
    true,
    noTitle,
  );
  const sessions = groupSessions(items);
  assert.deepEqual(
    sessions.map((s) => [s.name, s.items.map((i) => i.kind === "edit" ? i.entry.seq : 0)]),
    [["Ann", [6, 5, 4]], ["Ann", [3]], ["Bo", [2]], ["Ann", [1]]],
  );
  assert.equal(sessions[0].from, T0 + 40 * MIN);
  assert.equal(sessions[0].to, T0 + 60 * MIN);
  assert.equal(groupSessions(items, 60 * MIN).length, 3, "the gap is an option");
});

Deno.test("timelineItems: comments interleave by time; older ones wait for their page", () => {
  const entries = [entry(3, T0 + 30 * MIN, "Bo"), entry(2, T0 + 20 * MIN, "Bo")];
  const comments = [
    comment("c-old", T0 + 5 * MIN),
    comment("c-mid", T0 + 25 * MIN, { anchor: { fid: "f1" } }),
  ];
  const title = (fid: string) => fid === "f1" ? "Dam" : null;
  const partial = timelineItems(entries, comments, false, title);
  assert.deepEqual(partial.map((i) => i.kind === "edit" ? i.entry.seq : i.id), [3, "c-mid", 2]);
  const whole = timelineItems(entries, comments, true, title);
  assert.deepEqual(whole.map((i) => i.kind === "edit" ? i.entry.seq : i.id), [
    3,
    "c-mid",
    2,
    "c-old",
  ]);
  const mid = whole[1];
  assert.equal(mid.kind === "comment" && mid.text, "commented on 'Dam': Look here");
  assert.deepEqual(
    groupSessions(whole).map((s) => s.name),
    ["Bo", "Ann", "Bo", "Ann"],
    "a comment is its author's, in the session order",
  );
});

Deno.test("commentWords: a reply, a place, a feature without a known title, a long text cut", () => {
  assert.equal(commentWords(comment("r", 0, { thread: "c" }), noTitle), "replied: Look here");
  assert.equal(
    commentWords(comment("c", 0, { anchor: { at: [1, 2] } }), noTitle),
    "commented: Look here",
  );
  assert.equal(
    commentWords(comment("c", 0, { anchor: { fid: "gone" } }), noTitle),
    "commented on a feature: Look here",
  );
  assert.equal(
    commentWords(comment("c", 0, { text: "y".repeat(500) }), noTitle).length,
    "commented: ".length + 140,
  );
});

Deno.test("sessionWords lists the first summaries, then counts the rest", () => {
  assert.equal(sessionWords(["moved 'Dam'"]), "moved 'Dam'");
  assert.equal(
    sessionWords(["a", "b", "c", "d", "e"]),
    "a; b; c; and 2 more changes",
  );
  assert.equal(sessionWords(["a", "b"], 1), "a; and 1 more change");
});

Deno.test("momentText and rangeText speak of today, yesterday and older days", () => {
  const f = { now: T0 + 4 * 60 * MIN, timeZone: "UTC" };
  assert.equal(momentText(T0 + 5 * MIN, f), "Today 14:05");
  assert.equal(momentText(T0 - 20 * 60 * MIN, f), "Yesterday 18:00");
  assert.equal(momentText(Date.UTC(2026, 10, 28, 9, 30), f), "28 Nov 2026, 09:30");
  assert.equal(rangeText(T0, T0 + 35 * MIN, f), "Today 14:00–14:35");
  assert.equal(rangeText(T0, T0 + 20_000, f), "Today 14:00");
  assert.equal(rangeText(T0 - 20 * 60 * MIN, T0, f), "Yesterday 18:00 – Today 14:00");
});

Deno.test("the history page schema takes the contract's example and refuses a malformed one", () => {
  const page = v.parse(HistoryPageSchema, {
    seq: 812,
    oldest: 1,
    next: 762,
    entries: [{
      seq: 812,
      at: 1796212800000,
      name: "Ann",
      color: "#e11d48",
      by: "840d32458e",
      id: "k3j9x2-19",
      label: null,
      summary: "moved 'Dam', changed 2 properties",
      changes: [{ fid: "f1", title: "Dam", kind: "geom" }, {
        fid: "f1",
        title: "Dam",
        kind: "props",
        keys: ["fill", "name"],
      }],
    }],
  });
  assert.equal(page.entries[0].changes[1].keys?.length, 2);
  assert.ok(
    !v.safeParse(HistoryPageSchema, { seq: 1, oldest: 1, next: null, entries: [{}] }).success,
  );
});

Deno.test("loadedUpTo: the whole map's timeline is loaded up to its newest entry, a feature's up to the page's seq", () => {
  // The relay's head is 5 but edit 5 was not listed yet: 5 must still be asked for later.
  const page = {
    seq: 5,
    oldest: 1,
    next: null,
    entries: [entry(4, T0, "Ann"), entry(3, T0, "Ann")],
  };
  assert.equal(loadedUpTo(page, 2, false), 4);
  assert.equal(loadedUpTo({ ...page, entries: [] }, 2, false), 2, "nothing new: what was held");
  assert.equal(loadedUpTo(page, 2, true), 5, "a feature's history skips other features' edits");
});

Deno.test("changeList says each change of an edit on its own line, with the keys of property changes", () => {
  const e: HistoryEntry = {
    ...entry(7, T0, "Ann"),
    changes: [
      { fid: "f1", title: "Dam", kind: "props", keys: ["fill", "name"] },
      { fid: "f2", title: null, kind: "del" },
    ],
    more: 3,
  };
  assert.equal(changeList(e), "changed 'Dam': fill, name\ndeleted f2\nand 3 more");
});
