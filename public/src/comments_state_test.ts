/** Unit tests of the page's comment copy: welcome, live frames, refusals, who may comment, relative times. */
import assert from "assert";
import { CommentsState, relativeTime } from "./comments_state.ts";

const you = { peer: "p1", name: "Bob", color: "#2563eb" };
const root = {
  id: "c1",
  thread: "c1",
  text: "Closed?",
  name: "Ann",
  color: "#e11d48",
  created: 0,
  resolved: false,
  anchor: { at: [1, 2] as [number, number] },
};
const reply = { id: "c2", thread: "c1", text: "Yes", name: "Bob", color: "#2563eb", created: 5 };

Deno.test("CommentsState: a welcome without comments (an older relay) leaves comments off", () => {
  const state = new CommentsState();
  assert.equal(
    state.receive({ type: "welcome", you: { ...you, role: "editor" }, peers: [], seq: 0 }),
    null,
  );
  assert.equal(state.known, false);
  assert.equal(state.mayComment, false);
});

Deno.test("CommentsState: threads from welcome and live frames; answers by ref; viewers by the setting", () => {
  const state = new CommentsState();
  const welcomed = state.receive({
    type: "welcome",
    you: { ...you, role: "viewer" },
    peers: [],
    seq: 0,
    comments: [root],
    settings: { viewersMayComment: false },
  });
  assert.deepEqual(welcomed, { threads: new Set(["c1"]), settings: true });
  assert.equal(state.mayComment, false, "a viewer, and the owner has not allowed it");
  assert.deepEqual(state.receive({ type: "settings", viewersMayComment: true }), {
    threads: new Set(),
    settings: true,
  });
  assert.equal(state.mayComment, true);
  const answered = state.receive({ type: "comment", by: "p1", ref: "r1", comment: reply });
  assert.deepEqual(answered?.answered, { ref: "r1", ok: true, comment: reply });
  assert.deepEqual(answered?.threads, new Set(["c1"]));
  state.receive({ type: "comment", by: "p2", comment: { ...root, resolved: true } });
  assert.deepEqual(state.thread("c1"), { root: { ...root, resolved: true }, replies: [reply] });
  assert.equal(state.thread("c2"), undefined, "a reply is not a thread");
  assert.deepEqual(
    state.receive({ type: "comment_refused", ref: "r2", code: "forbidden", message: "no" })
      ?.answered,
    { ref: "r2", ok: false, message: "no" },
  );
});

Deno.test("CommentsState: this browser edits its own comments, editors delete any; a deleted root takes its thread", () => {
  const mine = { ...reply, author: "bob-id" };
  const welcome = (role: "editor" | "viewer", author?: string) => ({
    type: "welcome" as const,
    you: { ...you, role, ...(author ? { author } : {}) },
    peers: [],
    seq: 0,
    comments: [{ ...root, author: "ann-id" }, mine, {
      id: "c3",
      thread: "c1",
      text: "",
      name: "Cat",
      color: "#000000",
      created: 6,
      deleted: true as const,
    }],
    settings: { viewersMayComment: true },
  });
  const viewer = new CommentsState();
  viewer.receive(welcome("viewer", "bob-id"));
  assert.deepEqual(
    viewer.thread("c1")?.replies,
    [mine],
    "a deleted reply in a welcome is left out",
  );
  assert.equal(viewer.mayEdit(mine), true);
  assert.equal(viewer.mayDelete(mine), true);
  assert.equal(viewer.mayEdit(viewer.thread("c1")!.root), false, "Ann's");
  assert.equal(viewer.mayDelete(viewer.thread("c1")!.root), false, "Ann's, and not an editor");
  // The owner stops viewers from commenting: their own comments are then out of reach too.
  viewer.receive({ type: "settings", viewersMayComment: false });
  assert.equal(viewer.mayEdit(mine), false);

  const editor = new CommentsState();
  editor.receive(welcome("editor"));
  assert.equal(editor.mayEdit(mine), false, "no author id: nothing is this browser's");
  assert.equal(editor.mayDelete(mine), true, "an editor may delete any comment");

  const gone = editor.receive({
    type: "comment",
    by: "p2",
    comment: { ...reply, text: "", deleted: true },
  });
  assert.deepEqual(gone?.threads, new Set(["c1"]));
  assert.deepEqual(editor.thread("c1")?.replies, []);
  editor.receive({ type: "comment", by: "p1", comment: { ...root, text: "", deleted: true } });
  assert.equal(editor.thread("c1"), undefined);
  assert.deepEqual(editor.roots(), []);
  assert.equal(editor.threadOf("c2"), undefined);
});

Deno.test("relativeTime: as people say it", () => {
  const min = 60_000;
  assert.equal(relativeTime(0, 10_000), "just now");
  assert.equal(relativeTime(0, 5 * min), "5 min ago");
  assert.equal(relativeTime(0, 3 * 60 * min), "3 h ago");
  assert.equal(relativeTime(0, 26 * 60 * min), "yesterday");
  assert.equal(relativeTime(0, 4 * 24 * 60 * min), "4 days ago");
  assert.equal(relativeTime(0, 30 * 24 * 60 * min), "1970-01-01");
  assert.equal(relativeTime(10_000, 0), "just now", "a clock a little behind the relay's");
});

Deno.test("CommentsState: a catch-up welcome applies only the changes, and remembers where it stands", () => {
  const state = new CommentsState();
  state.receive({
    type: "welcome",
    you: { ...you, role: "editor" },
    peers: [],
    seq: 0,
    comments: [root, reply],
    commentsAt: "E.2",
    settings: { viewersMayComment: false },
  });
  assert.equal(state.at, "E.2");
  state.receive({
    type: "comment",
    by: "p2",
    comment: { ...root, text: "Open?" },
    commentsAt: "E.3",
  });
  assert.equal(state.at, "E.3");
  // Back after a drop: the relay sends what changed since E.3.
  const caught = state.receive({
    type: "welcome",
    you: { ...you, role: "editor" },
    peers: [],
    seq: 0,
    commentsChanged: [{ ...reply, text: "", deleted: true }, {
      id: "c3",
      thread: "c3",
      text: "New",
      name: "Cat",
      color: "#000000",
      created: 9,
      resolved: false,
      anchor: { at: [0, 0] },
    }],
    commentsAt: "E.5",
    settings: { viewersMayComment: false },
  });
  assert.deepEqual(caught?.threads, new Set(["c1", "c3"]));
  assert.equal(state.at, "E.5");
  assert.deepEqual(state.thread("c1"), { root: { ...root, text: "Open?" }, replies: [] });
  assert.deepEqual(state.roots().map((c) => c.id), ["c1", "c3"]);
});
