/** Tests for visible conflicts: undo/redo over someone else's newer change, offline edits over newer changes. */
import assert from "assert";
import type { EditOp, StoredFeature } from "../../relay/protocol.ts";
import { setup } from "./_session_fake.ts";
import { conflictText, reportText } from "./conflict_text.ts";
import type { OverwriteReport } from "./resend_watch.ts";
import type { StepConflict } from "./session.ts";
import type { StepChoice } from "./undo_plan.ts";

const dam: StoredFeature = {
  type: "Feature",
  id: "dam",
  geometry: { type: "Point", coordinates: [1, 2] },
  properties: { name: "Dam", fill: "red" },
};
const road: StoredFeature = {
  type: "Feature",
  id: "road",
  geometry: { type: "LineString", coordinates: [[0, 0], [1, 1]] },
  properties: { name: "Road" },
};

/** A session welcomed with the dam and the road, that answers every conflict with `choice`. */
function start(choice: StepChoice = "skip") {
  const conflicts: StepConflict[] = [];
  const reports: OverwriteReport[] = [];
  const t = setup({
    onConflict: (c) => {
      conflicts.push(c);
      return Promise.resolve(choice);
    },
    onOverwrote: (r) => void reports.push(r),
  });
  t.session.start();
  const link = t.welcome(1, [dam, road]);
  let seq = 1;
  /** The relay accepts my edit `id` (with the ops I sent). */
  const ack = (id: string) => {
    const sent = t.links.at(-1)!.sent.findLast((m) => (m as { id?: string }).id === id);
    assert.ok(sent, `edit ${id} was sent`);
    t.receive({ type: "edit", seq: ++seq, by: "p1", id, ops: (sent as { ops: EditOp[] }).ops });
  };
  /** Bob's edit, accepted after everything so far. */
  const bob = (ops: EditOp[]) => {
    t.receive({
      type: "edit",
      seq: ++seq,
      by: "p2",
      id: seq,
      name: "Bob",
      color: "#00f",
      at: 1,
      ops,
    });
  };
  const sentEdits = () =>
    t.links.flatMap((l) => l.sent).filter((m) => (m as { type: string }).type === "edit") as {
      id: string;
      ops: EditOp[];
    }[];
  const feature = (fid: string) => t.session.doc.features.get(fid);
  return { ...t, link, conflicts, reports, ack, bob, sentEdits, feature };
}

Deno.test("undo after another person changed the same property asks first; Skip keeps their change", async () => {
  const t = start("skip");
  t.session.edit([{ op: "props", fid: "dam", set: { fill: "blue" } }]);
  t.ack("c-1");
  t.bob([{ op: "props", fid: "dam", set: { fill: "green" } }]);
  await t.session.undo();
  assert.equal(t.conflicts.length, 1);
  const [c] = t.conflicts;
  assert.equal(c.what, "undo");
  assert.equal(c.rest, false, "nothing of the undo is left once Bob's part is skipped");
  assert.deepEqual(c.overwrites.map((o) => [o.fid, o.kind, o.keys, o.name, o.title]), [
    ["dam", "props", ["fill"], "Bob", "Dam"],
  ]);
  assert.equal(
    conflictText(c.overwrites, "undo"),
    "Bob changed the fill of 'Dam' after your change.",
  );
  assert.deepEqual(t.sentEdits().map((e) => e.id), ["c-1"], "nothing was sent for the undo");
  assert.equal(t.feature("dam")?.properties?.fill, "green", "Bob's change stays");
  assert.equal(t.session.canUndo, false, "the undo entry is spent");
});

Deno.test("undo anyway over another person's newer change restores my starting value", async () => {
  const t = start("anyway");
  t.session.edit([{ op: "props", fid: "dam", set: { fill: "blue" } }]);
  t.ack("c-1");
  t.bob([{ op: "props", fid: "dam", set: { fill: "green" } }]);
  await t.session.undo();
  assert.equal(t.conflicts.length, 1);
  assert.deepEqual(t.sentEdits().at(-1), {
    type: "edit",
    id: "c-2",
    ops: [{ op: "props", fid: "dam", set: { fill: "red" } }],
  });
  assert.equal(t.feature("dam")?.properties?.fill, "red");
  assert.equal(t.session.canRedo, true);
});

Deno.test("undo after another person changed a different property is no conflict", async () => {
  const t = start();
  t.session.edit([{ op: "props", fid: "dam", set: { fill: "blue" } }]);
  t.ack("c-1");
  t.bob([{ op: "props", fid: "dam", set: { name: "Weir" } }]);
  t.bob([{
    op: "geom",
    fid: "road",
    geometry: { type: "LineString", coordinates: [[0, 0], [2, 2]] },
  }]);
  await t.session.undo();
  assert.deepEqual(t.conflicts, []);
  assert.deepEqual(t.sentEdits().at(-1)?.ops, [{ op: "props", fid: "dam", set: { fill: "red" } }]);
  assert.deepEqual(t.feature("dam")?.properties, { name: "Weir", fill: "red" });
});

Deno.test("my own later change to the same property is no conflict for undo or redo", async () => {
  const t = start();
  t.session.edit([{ op: "props", fid: "dam", set: { fill: "blue" } }]);
  t.ack("c-1");
  t.session.edit([{ op: "props", fid: "dam", set: { fill: "yellow" } }]);
  t.ack("c-2");
  await t.session.undo();
  t.ack("c-3");
  assert.equal(t.feature("dam")?.properties?.fill, "blue");
  await t.session.undo();
  t.ack("c-4");
  assert.equal(t.feature("dam")?.properties?.fill, "red");
  await t.session.redo();
  assert.equal(t.feature("dam")?.properties?.fill, "blue");
  assert.deepEqual(t.conflicts, []);
});

Deno.test("undo after another person deleted the feature asks; Undo anyway brings it back as I had it", async () => {
  const t = start("anyway");
  t.session.edit([{ op: "geom", fid: "dam", geometry: { type: "Point", coordinates: [5, 5] } }]);
  t.ack("c-1");
  t.bob([{ op: "props", fid: "dam", set: { note: "checked" } }]);
  t.bob([{ op: "del", fid: "dam" }]);
  await t.session.undo();
  assert.deepEqual(t.conflicts[0].overwrites.map((o) => [o.kind, o.name, o.title]), [
    ["del", "Bob", "Dam"],
  ]);
  assert.equal(
    conflictText(t.conflicts[0].overwrites, "undo"),
    "Bob deleted 'Dam' after your change.",
  );
  assert.deepEqual(t.sentEdits().at(-1)?.ops, [{
    op: "put",
    feature: { ...dam, properties: { name: "Dam", fill: "red", note: "checked" } },
  }]);
  assert.deepEqual(t.feature("dam")?.geometry, dam.geometry);
});

Deno.test("undo after another person moved the feature: Skip still undoes the parts nobody else changed", async () => {
  const t = start("skip");
  t.session.edit([
    { op: "geom", fid: "dam", geometry: { type: "Point", coordinates: [5, 5] } },
    { op: "props", fid: "dam", set: { name: "Big dam" } },
  ]);
  t.ack("c-1");
  t.bob([{ op: "geom", fid: "dam", geometry: { type: "Point", coordinates: [7, 7] } }]);
  await t.session.undo();
  const [c] = t.conflicts;
  assert.equal(c.rest, true);
  assert.equal(conflictText(c.overwrites, "undo"), "Bob moved 'Big dam' after your change.");
  assert.deepEqual(t.sentEdits().at(-1)?.ops, [{ op: "props", fid: "dam", set: { name: "Dam" } }]);
  assert.deepEqual(t.feature("dam")?.geometry, { type: "Point", coordinates: [7, 7] });
  assert.equal(t.feature("dam")?.properties?.name, "Dam");
});

Deno.test("a change by another ordered between my edit and its ack: undo restores theirs, no question", async () => {
  const t = start();
  t.session.edit([{ op: "props", fid: "dam", set: { fill: "blue" } }]);
  t.bob([{ op: "props", fid: "dam", set: { fill: "green" } }]);
  t.ack("c-1");
  await t.session.undo();
  assert.deepEqual(t.conflicts, []);
  assert.deepEqual(t.sentEdits().at(-1)?.ops, [{
    op: "props",
    fid: "dam",
    set: { fill: "green" },
  }]);
});

Deno.test("offline edits re-sent over newer changes in the catch-up are reported once, after the acks", () => {
  const t = start();
  t.session.edit([{ op: "props", fid: "dam", set: { name: "Weir" } }]);
  t.session.edit([{
    op: "geom",
    fid: "road",
    geometry: { type: "LineString", coordinates: [[0, 0], [3, 3]] },
  }]);
  t.session.edit([{ op: "props", fid: "road", set: { lanes: 2 } }]);
  t.reconnect();
  t.catchUp(3, [
    {
      type: "edit",
      seq: 2,
      by: "p2",
      id: 1,
      name: "Bob",
      ops: [{ op: "props", fid: "dam", set: { name: "Old dam" } }],
    },
    {
      type: "edit",
      seq: 3,
      by: "p2",
      id: 2,
      name: "Bob",
      ops: [{
        op: "geom",
        fid: "road",
        geometry: { type: "LineString", coordinates: [[0, 0], [0, 9]] },
      }],
    },
  ]);
  assert.deepEqual(t.sentEdits().slice(-3).map((e) => e.id), ["c-1", "c-2", "c-3"]);
  for (const [id, seq] of [["c-1", 4], ["c-2", 5]] as const) {
    t.receive({
      type: "edit",
      seq,
      by: "p1b",
      id,
      ops: t.sentEdits().find((e) => e.id === id)!.ops,
    });
  }
  assert.deepEqual(t.reports, [], "told once every re-sent edit is settled");
  t.receive({
    type: "edit",
    seq: 6,
    by: "p1b",
    id: "c-3",
    ops: [{ op: "props", fid: "road", set: { lanes: 2 } }],
  });
  assert.equal(t.reports.length, 1);
  assert.equal(t.reports[0].edits, 2);
  assert.equal(
    reportText(t.reports[0]),
    "2 of your offline changes replaced newer changes by Bob: 'Weir' name, 'Road' geometry",
  );
});

Deno.test("offline edits over newer changes seen in a full snapshot are reported; one the relay already had is not", () => {
  const t = start();
  t.session.edit([{ op: "props", fid: "dam", set: { fill: "blue" } }]);
  t.session.edit([{ op: "props", fid: "road", set: { name: "High street" } }]);
  t.reconnect();
  // Too long away: the whole map. Bob changed the dam's fill; the road's new name is my c-2,
  // which the relay had applied before the link dropped.
  const meta = { by: "Bob", color: "#00f", at: 1 };
  t.welcome(500, [
    { ...dam, properties: { ...dam.properties, fill: "green" }, meta },
    { ...road, properties: { name: "High street" }, meta: { ...meta, by: "Ada" } },
  ]);
  t.receive({ type: "rejected", id: "c-2", code: "duplicate", message: "already applied" });
  assert.deepEqual(t.reports, []);
  t.receive({
    type: "edit",
    seq: 501,
    by: "p1b",
    id: "c-1",
    ops: [{ op: "props", fid: "dam", set: { fill: "blue" } }],
  });
  assert.equal(
    reportText(t.reports[0]),
    "1 of your offline changes replaced a newer change by Bob: 'Dam' fill",
  );
});

Deno.test("offline edits over unrelated remote changes report nothing", () => {
  const t = start();
  t.session.edit([{ op: "props", fid: "dam", set: { fill: "blue" } }]);
  t.reconnect();
  t.catchUp(2, [
    {
      type: "edit",
      seq: 2,
      by: "p2",
      id: 1,
      name: "Bob",
      ops: [{ op: "props", fid: "dam", set: { name: "Weir" } }],
    },
  ]);
  t.receive({
    type: "edit",
    seq: 3,
    by: "p1b",
    id: "c-1",
    ops: [{ op: "props", fid: "dam", set: { fill: "blue" } }],
  });
  assert.equal(t.session.doc.pending.length, 0);
  assert.deepEqual(t.reports, []);
});

Deno.test("redo after another person changed what my undo restored asks too", async () => {
  const t = start("skip");
  t.session.edit([{ op: "props", fid: "dam", set: { fill: "blue" } }]);
  t.ack("c-1");
  await t.session.undo();
  t.ack("c-2");
  t.bob([{ op: "props", fid: "dam", set: { fill: "green" } }]);
  await t.session.redo();
  assert.equal(t.conflicts[0]?.what, "redo");
  assert.equal(
    conflictText(t.conflicts[0].overwrites, "redo"),
    "Bob changed the fill of 'Dam' after your undo.",
  );
  assert.equal(t.feature("dam")?.properties.fill, "green");
  assert.deepEqual(t.sentEdits().map((e) => e.id), ["c-1", "c-2"]);
});

Deno.test("while the person chooses, another undo waits its turn and the buttons are off", async () => {
  let answer: (choice: StepChoice) => void = () => {};
  const t = setup({ onConflict: () => new Promise((resolve) => answer = resolve) });
  t.session.start();
  t.welcome(1, [dam]);
  t.session.edit([{ op: "props", fid: "dam", set: { name: "Weir" } }]);
  t.receive({
    type: "edit",
    seq: 2,
    by: "p1",
    id: "c-1",
    ops: [{ op: "props", fid: "dam", set: { name: "Weir" } }],
  });
  t.session.edit([{ op: "props", fid: "dam", set: { fill: "blue" } }]);
  t.receive({
    type: "edit",
    seq: 3,
    by: "p1",
    id: "c-2",
    ops: [{ op: "props", fid: "dam", set: { fill: "blue" } }],
  });
  t.receive({
    type: "edit",
    seq: 4,
    by: "p2",
    id: 1,
    name: "Bob",
    ops: [{ op: "props", fid: "dam", set: { fill: "green" } }],
  });
  const first = t.session.undo();
  assert.equal(t.session.canUndo, false);
  await t.session.undo();
  answer("anyway");
  await first;
  assert.equal(t.session.canUndo, true, "the earlier edit is still there to undo");
  assert.deepEqual(t.session.doc.features.get("dam")?.properties, { name: "Weir", fill: "red" });
});
