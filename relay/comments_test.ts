/** Unit tests of comments: the wire schema, a map's threads in memory, the GeoJSON layer. */
import assert from "assert";
import * as v from "valibot";
import { authorIdOf, MapComments } from "./comments.ts";
import { commentsGeoJson, representativePoint } from "./comments_geojson.ts";
import {
  ClientMessageSchema,
  MAX_COMMENT_CHARS,
  parseFrame,
  ServerMessageSchema,
} from "./protocol.ts";
import type { StoredFeature } from "./protocol.ts";

const ann = { name: "Ann", color: "#e11d48", at: 1000 };
const bob = { name: "Bob", color: "#17bebb", at: 2000 };

function parseOne(message: unknown) {
  const frame = parseFrame(JSON.stringify(message), ClientMessageSchema);
  assert.ok(frame.ok);
  return frame.items[0];
}

Deno.test("comment requests: valid ones pass trimmed; a bad one keeps its ref for comment_refused", () => {
  const ok = parseOne({
    type: "comment",
    ref: "r1",
    op: "add",
    text: " Dam? ",
    anchor: { at: [1, 2] },
  });
  assert.deepEqual(ok, {
    ok: true,
    message: { type: "comment", ref: "r1", op: "add", text: "Dam?", anchor: { at: [1, 2] } },
  });
  const cases: [unknown, string][] = [
    [
      { type: "comment", ref: "r2", op: "add", text: "  ", anchor: { at: [1, 2] } },
      "text: text must not be empty",
    ],
    [
      {
        type: "comment",
        ref: "r3",
        op: "add",
        text: "x".repeat(MAX_COMMENT_CHARS + 1),
        anchor: { fid: "f1" },
      },
      `text: text is longer than ${MAX_COMMENT_CHARS} characters`,
    ],
    [{ type: "comment", ref: "r4", op: "add", text: "x", anchor: { at: [200, 0] } }, "anchor"],
    [
      { type: "comment", ref: "r5", op: "add", text: "x", anchor: { at: [1, 2], fid: "f" } },
      "anchor:",
    ],
    [
      { type: "comment", ref: "r6", op: "remove", id: "c1" },
      "op: comment op must be one of add, reply, resolve, edit, delete",
    ],
    [{ type: "comment", ref: "r6b", op: "delete", thread: "c1" }, "id:"],
    [{ type: "comment", ref: "r6c", op: "edit", id: "c1", text: " " }, "text: text must not be"],
    [
      { type: "comment", ref: "r7", op: "resolve", thread: "c1", resolved: "yes" },
      "resolved: resolved must be true or false",
    ],
    [{ type: "comment", ref: "r8", op: "reply", text: "x" }, "thread:"],
  ];
  for (const [message, error] of cases) {
    const item = parseOne(message);
    assert.equal(item.ok, false);
    assert.ok(
      !item.ok && item.error.startsWith(error),
      `${JSON.stringify(message)}: ${!item.ok && item.error}`,
    );
    assert.equal(!item.ok && item.comment, (message as { ref: string }).ref);
    assert.equal(!item.ok && item.edit, undefined);
  }
  // Without a usable ref there is nobody to answer by ref: an ordinary bad_message.
  const noRef = parseOne({ type: "comment", op: "add", text: "x", anchor: { at: [1, 2] } });
  assert.ok(!noRef.ok && noRef.comment === undefined);
});

Deno.test("MapComments: threads in order, replies, resolve and reopen, refusals", () => {
  const comments = new MapComments({ maxComments: 3 });
  const root = comments.add("Is this the dam?", { fid: "f1" }, ann);
  assert.ok(root.ok);
  assert.deepEqual(root.comment, {
    id: "c1",
    thread: "c1",
    text: "Is this the dam?",
    name: "Ann",
    color: "#e11d48",
    created: 1000,
    resolved: false,
    anchor: { fid: "f1" },
  });
  const reply = comments.reply("c1", "Yes", bob);
  assert.ok(reply.ok);
  assert.deepEqual(reply.comment, {
    id: "c2",
    thread: "c1",
    text: "Yes",
    name: "Bob",
    color: "#17bebb",
    created: 2000,
  });
  assert.deepEqual(comments.reply("c2", "reply to a reply", bob), {
    ok: false,
    code: "unknown_thread",
    message: 'there is no comment thread "c2" on this map',
  });
  assert.equal(comments.resolve("c9", true).ok, false);
  const resolved = comments.resolve("c1", true);
  assert.ok(resolved.ok && resolved.comment.resolved === true);
  // A resolved root keeps its place; every comment is a row for the commit, the root once.
  assert.deepEqual(comments.list().map((c) => [c.id, c.resolved]), [["c1", true], [
    "c2",
    undefined,
  ]]);
  const unsaved = comments.takeUnsaved();
  assert.deepEqual(unsaved.comments?.map((r) => [r.n, r.id]), [[1, "c1"], [2, "c2"]]);
  assert.equal(JSON.parse(unsaved.comments![0].record).resolved, true);
  assert.equal(comments.hasUnsaved, false);
  assert.ok(comments.add("third", { at: [0, 0] }, ann).ok);
  assert.deepEqual(comments.add("fourth", { at: [0, 0] }, ann), {
    ok: false,
    code: "too_many_comments",
    message: "this map already holds 3 comments, the most allowed",
  });
  // Reopening is allowed at the limit: it adds nothing.
  assert.ok(comments.resolve("c1", false).ok);
});

Deno.test("comment requests: hello's author key is checked, edit and delete parse", () => {
  const hello = { type: "hello", key: "k", name: "Ann", color: "#e11d48", comments: true };
  assert.ok(parseOne({ ...hello, author: "a".repeat(16) }).ok);
  for (const author of ["short", "x".repeat(129), "has spaces in it!!", 7]) {
    const item = parseOne({ ...hello, author });
    assert.ok(!item.ok && item.error.includes("author"), `${author}`);
  }
  assert.deepEqual(parseOne({ type: "comment", ref: "e", op: "edit", id: "c2", text: " Yes " }), {
    ok: true,
    message: { type: "comment", ref: "e", op: "edit", id: "c2", text: "Yes" },
  });
  assert.ok(parseOne({ type: "comment", ref: "d", op: "delete", id: "c2" }).ok);
});

Deno.test("MapComments: a browser edits its own comment; anyone's only with its key; editors delete any", () => {
  const annKey = authorIdOf("map1", "ann-browser-key-0001");
  const bobKey = authorIdOf("map1", "bob-browser-key-0001");
  assert.notEqual(annKey, bobKey);
  assert.match(annKey, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(authorIdOf("map1", "ann-browser-key-0001"), annKey);
  // Another map, another id: one browser's comments cannot be linked across maps.
  assert.notEqual(authorIdOf("map2", "ann-browser-key-0001"), annKey);
  const comments = new MapComments({ maxComments: 3 });
  assert.ok(comments.add("Is this the dam?", { at: [1, 2] }, { ...ann, author: annKey }).ok);
  assert.ok(comments.reply("c1", "Yes", { ...bob, author: bobKey }).ok);
  assert.ok(comments.reply("c1", "No key", bob).ok);
  assert.equal(comments.list()[0].author, annKey);
  comments.takeUnsaved();

  const asBob = { author: bobKey, editor: false, at: 5000 };
  const edited = comments.edit("c2", "Yes, until Friday", asBob);
  assert.ok(edited.ok);
  assert.deepEqual(edited.comment, {
    id: "c2",
    thread: "c1",
    text: "Yes, until Friday",
    name: "Bob",
    color: "#17bebb",
    created: 2000,
    author: bobKey,
    edited: 5000,
  });
  const forbidden = {
    ok: false,
    code: "forbidden",
    message: "only the browser that wrote a comment can edit it",
  };
  // Not Bob's; written without a key (nobody's); an editor may not put words in Ann's mouth.
  assert.deepEqual(comments.edit("c1", "x", asBob), forbidden);
  assert.deepEqual(comments.edit("c3", "x", { editor: false, at: 0 }), forbidden);
  assert.deepEqual(comments.edit("c1", "x", { author: bobKey, editor: true, at: 0 }), forbidden);
  assert.deepEqual(comments.edit("c9", "x", asBob), {
    ok: false,
    code: "unknown_comment",
    message: 'there is no comment "c9" on this map',
  });
  assert.deepEqual(comments.delete("c1", asBob), {
    ok: false,
    code: "forbidden",
    message: "only the browser that wrote a comment, or an editor, can delete it",
  });

  // Bob deletes his reply: a tombstone without the text, and out of the list.
  const gone = comments.delete("c2", asBob);
  assert.ok(gone.ok);
  assert.deepEqual(gone.comment, {
    id: "c2",
    thread: "c1",
    text: "",
    name: "Bob",
    color: "#17bebb",
    created: 2000,
    author: bobKey,
    deleted: true,
  });
  assert.deepEqual(comments.list().map((c) => c.id), ["c1", "c3"]);
  assert.equal(comments.size, 2);
  assert.equal(comments.edit("c2", "back", asBob).ok, false);
  // The freed place takes a new comment; ids are never reused.
  const fourth = comments.add("Another", { at: [0, 0] }, bob);
  assert.ok(fourth.ok && fourth.comment.id === "c4");

  // An editor deletes Ann's root: the thread goes with it, replies and all.
  const root = comments.delete("c1", { editor: true, at: 6000 });
  assert.ok(root.ok && root.comment.deleted === true && root.comment.text === "");
  assert.deepEqual(comments.list().map((c) => c.id), ["c4"]);
  assert.deepEqual(comments.reply("c1", "late", bob), {
    ok: false,
    code: "unknown_thread",
    message: 'there is no comment thread "c1" on this map',
  });
  assert.equal(comments.resolve("c1", true).ok, false);
  // Every changed row goes to the store, and none of them keeps the deleted words.
  const rows = comments.takeUnsaved().comments!;
  assert.deepEqual(rows.map((r) => r.id).sort(), ["c1", "c2", "c3", "c4"]);
  for (const r of rows.filter((r) => r.id !== "c4")) {
    assert.equal(JSON.parse(r.record).deleted, true, r.id);
    assert.equal(JSON.parse(r.record).text, "", r.id);
  }
  // Stored and loaded again: still gone, still counted out.
  const again = new MapComments({
    maxComments: 3,
    stored: { rows: [...rows].sort((x, y) => x.n - y.n), settings: null },
  });
  assert.deepEqual(again.list().map((c) => c.id), ["c4"]);
  assert.equal(again.size, 1);
  assert.ok(again.add("five", { at: [0, 0] }, ann).ok);
  const six = again.add("six", { at: [0, 0] }, ann);
  assert.ok(six.ok && six.comment.id === "c6", "ids go on after the deleted ones");
  assert.equal(again.add("seven", { at: [0, 0] }, ann).ok, false);
});

Deno.test("MapComments: an unchanged edit changes and stores nothing; add and delete without end stays within the limit", () => {
  const me = authorIdOf("map1", "ann-browser-key-0001");
  const comments = new MapComments({ maxComments: 2 });
  assert.ok(comments.add("Same", { at: [0, 0] }, { ...ann, author: me }).ok);
  comments.takeUnsaved();
  const at = comments.at;
  const same = comments.edit("c1", "Same", { author: me, editor: false, at: 9 });
  assert.ok(same.ok && same.comment.edited === undefined, "not marked edited");
  assert.equal(same.ok && same.unchanged, true);
  assert.equal(comments.hasUnsaved, false, "nothing to store");
  assert.equal(comments.at, at, "nothing for a catch-up");
  for (let i = 0; i < 1000; i++) {
    const made = comments.add(`note ${i}`, { at: [0, 0] }, { ...ann, author: me });
    assert.ok(made.ok, `add ${i}`);
    assert.ok(comments.delete(made.comment.id, { author: me, editor: false, at: 0 }).ok);
    assert.equal(comments.takeUnsaved().comments?.length, 1);
  }
  assert.equal(comments.size, 1);
  assert.deepEqual(comments.list().map((c) => c.id), ["c1"]);
  const next = comments.add("after", { at: [0, 0] }, ann);
  assert.ok(next.ok && next.comment.id === "c1002");
});

Deno.test("MapComments: what was stored comes back in order, ids go on after the last", () => {
  const first = new MapComments({ maxComments: 100 });
  first.add("a", { at: [1, 1] }, ann);
  first.reply("c1", "b", bob);
  first.setSettings({ viewersMayComment: true });
  const taken = first.takeUnsaved();
  const again = new MapComments({
    maxComments: 100,
    stored: { rows: taken.comments!, settings: taken.settings! },
  });
  assert.deepEqual(again.list(), first.list());
  assert.deepEqual(again.settings, { viewersMayComment: true });
  const next = again.add("c", { at: [2, 2] }, ann);
  assert.ok(next.ok && next.comment.id === "c3");
  assert.equal(
    again.setSettings({ viewersMayComment: true }),
    false,
    "unchanged: nothing to store",
  );
});

Deno.test("representativePoint: on the shape, also for a U-shaped polygon whose centroid is outside", () => {
  assert.deepEqual(representativePoint({ type: "Point", coordinates: [3, 4, 5] }), [3, 4]);
  assert.deepEqual(
    representativePoint({ type: "LineString", coordinates: [[0, 0], [2, 0], [2, 2]] }),
    [2, 0],
  );
  assert.deepEqual(
    representativePoint({
      type: "Polygon",
      coordinates: [[[0, 0], [4, 0], [4, 2], [0, 2], [0, 0]]],
    }),
    [2, 1],
  );
  // A U opening to the north: the centroid (x = 3) lies in the gap between the arms.
  const u = [[0, 0], [6, 0], [6, 6], [5, 6], [5, 1], [1, 1], [1, 6], [0, 6], [0, 0]];
  const p = representativePoint({ type: "Polygon", coordinates: [u] })!;
  assert.ok((p[0] > 0 && p[0] < 1) || (p[0] > 5 && p[0] < 6), `inside an arm: ${p}`);
  assert.equal(representativePoint(null), null);
});

Deno.test("commentsGeoJson: one point per thread with its replies, edited ones saying when; a gone feature has no geometry; deleted ones left out", () => {
  const comments = new MapComments({ maxComments: 100 });
  comments.add("place", { at: [10, 20] }, ann);
  comments.add("on the dam", { fid: "dam" }, ann);
  comments.reply("c2", "agreed", { ...bob, author: "bob-id" });
  comments.edit("c3", "agreed!", { author: "bob-id", editor: false, at: 3000 });
  comments.add("on a deleted one", { fid: "gone" }, bob);
  comments.add("deleted", { at: [0, 0] }, bob);
  comments.delete("c5", { editor: true, at: 0 });
  const dam: StoredFeature = {
    type: "Feature",
    id: "dam",
    geometry: { type: "LineString", coordinates: [[0, 0], [4, 0]] },
    properties: {},
  };
  const fc = commentsGeoJson(comments.list(), (fid) => fid === "dam" ? dam : undefined);
  const features = fc.features as {
    id: string;
    geometry: unknown;
    properties: Record<string, unknown>;
  }[];
  assert.deepEqual(features.map((f) => [f.id, f.geometry]), [
    ["c1", { type: "Point", coordinates: [10, 20] }],
    ["c2", { type: "Point", coordinates: [2, 0] }],
    ["c4", null],
  ]);
  assert.deepEqual(features[1].properties, {
    text: "on the dam",
    name: "Ann",
    color: "#e11d48",
    created: "1970-01-01T00:00:01.000Z",
    edited: null,
    resolved: false,
    fid: "dam",
    replies: [{
      id: "c3",
      text: "agreed!",
      name: "Bob",
      color: "#17bebb",
      created: "1970-01-01T00:00:02.000Z",
      edited: "1970-01-01T00:00:03.000Z",
    }],
  });
});

Deno.test("server comment frames pass the client's schema; older messages still do", () => {
  const comment = {
    id: "c1",
    thread: "c1",
    text: "x",
    name: "A",
    color: "#000000",
    created: 1,
    resolved: false,
    anchor: { fid: "f" },
  };
  for (
    const message of [
      { type: "comment", by: "p1", ref: "r1", comment },
      { type: "comment_refused", ref: "r1", code: "forbidden", message: "no" },
      { type: "settings", viewersMayComment: true },
      {
        type: "welcome",
        you: { peer: "p", name: "A", color: "#000000", role: "viewer" },
        peers: [],
        seq: 0,
        comments: [comment],
        settings: { viewersMayComment: false },
        ops: [],
      },
    ]
  ) {
    assert.ok(v.is(ServerMessageSchema, message), JSON.stringify(message));
  }
});

Deno.test("MapComments.changesSince: what changed after a client's commentsAt, in order; null when it cannot say", () => {
  const comments = new MapComments({ maxComments: 100, epoch: "E1" });
  assert.equal(comments.at, "E1.0");
  comments.add("one", { at: [0, 0] }, ann);
  comments.add("two", { at: [0, 0] }, ann);
  const seen = comments.at;
  assert.equal(seen, "E1.2");
  assert.deepEqual(comments.changesSince(seen), []);
  comments.reply("c1", "reply", bob);
  comments.resolve("c2", true);
  comments.delete("c1", { editor: true, at: 0 });
  comments.add("three", { at: [0, 0] }, ann);
  const changed = comments.changesSince(seen)!;
  // The root's and the reply's tombstones, the resolved c2, the new c4: each once, as it now is,
  // oldest first as in the full list.
  assert.deepEqual(changed.map((c) => [c.id, c.deleted ?? false]), [
    ["c1", true],
    ["c2", false],
    ["c3", true],
    ["c4", false],
  ]);
  assert.equal(changed[1].resolved, true);
  // Another copy (the map reloaded), a count from the future, junk: the client needs all.
  for (const at of ["E2.2", "E1.99", "E1.x", "nonsense", ""]) {
    assert.equal(comments.changesSince(at), null, at);
  }
  // Loaded again from the store: a new epoch, so old positions mean nothing.
  const reloaded = new MapComments({
    maxComments: 100,
    stored: { rows: comments.takeUnsaved().comments!, settings: null },
  });
  assert.notEqual(reloaded.at.split(".")[0], "E1");
  assert.equal(reloaded.changesSince(seen), null);
});

Deno.test("MapComments.changesSince: a page that applies the changes has the full list's order", () => {
  const comments = new MapComments({ maxComments: 100, epoch: "E" });
  comments.add("root", { at: [0, 0] }, ann);
  const seen = comments.at;
  const page = new Map(comments.list().map((c) => [c.id, c]));
  comments.reply("c1", "first", { ...bob, author: "b" });
  comments.reply("c1", "second", bob);
  comments.edit("c2", "first, edited", { author: "b", editor: false, at: 5 });
  comments.add("c4", { at: [0, 0] }, ann);
  comments.add("c5", { at: [0, 0] }, ann);
  comments.resolve("c4", true);
  for (const c of comments.changesSince(seen)!) page.set(c.id, c);
  assert.deepEqual([...page.values()], comments.list());
});

Deno.test("MapComments.changesSince: past the deletions it remembers, a full list", () => {
  const comments = new MapComments({ maxComments: 5000, epoch: "E" });
  const start = comments.at;
  for (let i = 0; i < 1001; i++) {
    const made = comments.add(`n${i}`, { at: [0, 0] }, ann);
    assert.ok(made.ok);
    comments.delete(made.comment.id, { editor: true, at: 0 });
  }
  assert.equal(comments.changesSince(start), null, "the first deletion is forgotten");
  assert.equal(comments.changesSince(comments.at)?.length, 0);
});
