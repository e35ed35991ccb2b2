/** Tests for the session's edit bookkeeping, over a fake transport and a fake clock. */
import assert from "assert";
import type { PendingEdit } from "./doc.ts";
import type { EditJournal } from "./session.ts";
import { setup } from "./_session_fake.ts";

const pointA = {
  type: "Feature" as const,
  id: "a",
  geometry: { type: "Point" as const, coordinates: [1, 2] },
  properties: {},
};

Deno.test("an edit the relay already had (`duplicate`, after a snapshot welcome) is done, not refused", async () => {
  const t = setup();
  t.session.start();
  t.welcome(0);
  const outcome = t.session.edit([{ op: "put", feature: pointA }]);
  // The link drops before the echo; so many edits happen meanwhile that the catch-up is too old
  // and the relay answers with a full snapshot that holds the edit.
  t.reconnect();
  const link = t.welcome(500, [pointA]);
  assert.deepEqual(
    link.sent.filter((m) => (m as { type: string }).type === "edit").map((m) =>
      (m as { id: string }).id
    ),
    ["c-1"],
    "the pending edit is sent again",
  );
  link.handlers.onMessage(JSON.stringify({
    type: "rejected",
    id: "c-1",
    code: "duplicate",
    message: "already applied",
  }));
  assert.deepEqual(await outcome, { ok: true, id: "c-1", seq: 500 });
  assert.deepEqual(t.notices, [], "no 'your change was undone' for a change that was kept");
  assert.equal(t.session.doc.pending.length, 0);
  assert.deepEqual(t.session.doc.features.get("a"), pointA);
  assert.equal(t.session.canUndo, true, "still undoable");
});

/** The `hello` a link sent. */
function helloOf(link: { sent: unknown[] }): Record<string, unknown> {
  return link.sent.find((m) => (m as { type: string }).type === "hello") as Record<string, unknown>;
}

Deno.test("a reconnect says hello with since and the epoch it counts in; a new epoch's snapshot is taken", async () => {
  const t = setup();
  t.session.start();
  const first = t.welcome(7, [pointA], "e1");
  assert.equal(helloOf(first).since, undefined, "the first hello asks for the whole map");
  const outcome = t.session.edit([{ op: "props", fid: "a", set: { n: 1 } }]);
  t.reconnect();
  assert.equal(helloOf(t.open()).since, 7);
  assert.equal(helloOf(t.open()).epoch, "e1");
  // The map was restored from a backup: another epoch, an older seq, the whole map.
  const pointB = { ...pointA, id: "b" };
  const link = t.welcome(3, [pointA, pointB], "e2");
  assert.deepEqual(t.session.doc.confirmed.get("b"), pointB);
  const resent = link.sent.filter((m) => (m as { type: string }).type === "edit");
  assert.deepEqual(resent.map((m) => (m as { id: string }).id), ["c-1"], "pending edits go again");
  link.handlers.onMessage(JSON.stringify({
    type: "edit",
    seq: 4,
    by: "p1",
    id: "c-1",
    ops: [{ op: "props", fid: "a", set: { n: 1 } }],
  }));
  assert.deepEqual(await outcome, { ok: true, id: "c-1", seq: 4 });
  t.reconnect();
  assert.equal(helloOf(t.open()).since, 4);
  assert.equal(helloOf(t.open()).epoch, "e2");
});

Deno.test("with a relay that sends no epoch, the reconnect's hello carries since alone", () => {
  const t = setup();
  t.session.start();
  t.welcome(5);
  t.reconnect();
  const hello = helloOf(t.open());
  assert.equal(hello.since, 5);
  assert.equal("epoch" in hello, false);
});

Deno.test("an edit over the relay's frame limit is refused at once, with a notice, and never sent", async () => {
  const t = setup({ maxFrameBytes: 1000 });
  t.session.start();
  const link = t.welcome(0);
  const big = { ...pointA, properties: { note: "x".repeat(2000) } };
  const outcome = await t.session.edit([{ op: "put", feature: big }]);
  assert.equal(outcome.ok, false);
  assert.equal(!outcome.ok && outcome.code, "too_large");
  assert.deepEqual(t.notices, [
    "This change is 3 KB; the relay takes at most 1 KB in one change. Nothing was changed.",
  ]);
  assert.equal(link.sent.filter((m) => (m as { type: string }).type === "edit").length, 0);
  assert.equal(t.session.doc.pending.length, 0);
  assert.equal(t.session.doc.features.size, 0);
  assert.equal(t.session.canUndo, false);
  // A small one still goes.
  t.session.edit([{ op: "put", feature: pointA }]);
  assert.equal(link.sent.filter((m) => (m as { type: string }).type === "edit").length, 1);
});

/** A journal that records what the session asks it to keep and to forget. */
function fakeJournal() {
  const kept = new Map<string, unknown>();
  const journal: EditJournal = {
    add: (edit) => void kept.set(String(edit.id), edit),
    remove: (id) => void kept.delete(String(id)),
  };
  return { journal, kept };
}

const editIds = (sent: unknown[]) =>
  sent.filter((m) => (m as { type: string }).type === "edit").map((m) => (m as { id: string }).id);

Deno.test("the journal keeps each unsent edit until the relay acknowledges, refuses or already has it", () => {
  const j = fakeJournal();
  const t = setup({ journal: j.journal });
  t.session.start();
  const link = t.welcome(0);
  t.session.edit([{ op: "put", feature: pointA }]);
  t.session.edit([{ op: "props", fid: "a", set: { n: 1 } }]);
  t.session.edit([{ op: "props", fid: "a", set: { n: 2 } }]);
  assert.deepEqual([...j.kept.keys()], ["c-1", "c-2", "c-3"]);
  link.handlers.onMessage(JSON.stringify({ type: "edit", seq: 1, by: "p1", id: "c-1", ops: [] }));
  link.handlers.onMessage(JSON.stringify({
    type: "rejected",
    id: "c-2",
    code: "invalid_edit",
    message: "no",
  }));
  link.handlers.onMessage(JSON.stringify({
    type: "rejected",
    id: "c-3",
    code: "duplicate",
    message: "already applied",
  }));
  assert.deepEqual([...j.kept.keys()], []);
});

Deno.test("edits restored from the last visit are applied and sent once after welcome, with their own ids", async () => {
  const j = fakeJournal();
  const t = setup({ journal: j.journal });
  t.session.start();
  const link = t.welcome(7, [pointA]);
  const outcomes = t.session.restore([
    { id: "old-1", ops: [{ op: "props", fid: "a", set: { note: "from last time" } }] },
    { id: "old-2", ops: [{ op: "props", fid: "gone", set: { x: 1 } }] },
  ]);
  assert.deepEqual(editIds(link.sent), ["old-1"], "only the edit that still applies goes out");
  assert.equal(t.session.doc.features.get("a")?.properties.note, "from last time");
  assert.equal(t.session.canUndo, false, "restored edits are not this visit's to undo");
  link.handlers.onMessage(JSON.stringify({ type: "edit", seq: 8, by: "p1", id: "old-1", ops: [] }));
  const [first, second] = await Promise.all(outcomes);
  assert.deepEqual(first, { ok: true, id: "old-1", seq: 8 });
  assert.equal(second.ok, false);
  assert.equal(t.session.doc.pending.length, 0);
  // A later reconnect sends nothing again.
  t.reconnect();
  assert.deepEqual(editIds(t.welcome(8, [pointA]).sent), []);
});

Deno.test("an edit's label travels in its frame, and again when it is re-sent after a reconnect", () => {
  const t = setup();
  t.session.start();
  t.welcome(0);
  void t.session.edit([{ op: "put", feature: pointA }], "Restored version 'Start'");
  const first = t.links.at(-1)!.sent.find((m) => (m as { type: string }).type === "edit");
  assert.deepEqual(first, {
    type: "edit",
    id: "c-1",
    ops: [{ op: "put", feature: pointA }],
    label: "Restored version 'Start'",
  });
  t.reconnect();
  const link = t.welcome(0);
  const again = link.sent.find((m) => (m as { type: string }).type === "edit");
  assert.equal((again as { label?: string }).label, "Restored version 'Start'");
  void t.session.edit([{ op: "del", fid: "a" }]);
  const plain = link.sent.filter((m) => (m as { type: string }).type === "edit").at(-1);
  assert.equal(Object.hasOwn(plain as object, "label"), false, "no label key without a label");
});

Deno.test("an edit's label is kept in the journal and sent again when a later visit restores it", () => {
  const j = fakeJournal();
  const t = setup({ journal: j.journal });
  t.session.start();
  t.welcome(7, [pointA]);
  void t.session.edit([{ op: "props", fid: "a", set: { n: 1 } }], "Restored version 'Start'");
  assert.equal((j.kept.get("c-1") as { label?: string }).label, "Restored version 'Start'");
  // The tab closes before the ack; the next visit restores what the journal kept.
  const next = setup({ journal: fakeJournal().journal });
  next.session.start();
  const link = next.welcome(7, [pointA]);
  void next.session.restore([j.kept.get("c-1") as PendingEdit]);
  const sent = link.sent.find((m) => (m as { type: string }).type === "edit");
  assert.equal((sent as { label?: string }).label, "Restored version 'Start'");
  assert.equal(next.session.doc.pending[0].label, "Restored version 'Start'");
});
