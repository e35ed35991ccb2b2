/** Tests for the words of conflicts and of the offline overwrite report. */
import assert from "assert";
import type { Overwrite } from "./change_marks.ts";
import { conflictText, reportItems, reportText } from "./conflict_text.ts";

const o = (over: Partial<Overwrite>): Overwrite => ({
  fid: "f1",
  title: "Dam",
  shape: "area",
  kind: "geom",
  name: "Bob",
  seq: 9,
  ...over,
});

Deno.test("a conflict names each author with what they did, unnamed features by their shape", () => {
  assert.equal(
    conflictText([
      o({}),
      o({ kind: "props", keys: ["name", "fill"] }),
      o({ fid: "f2", title: null, shape: "point", kind: "del", name: "Carol" }),
    ], "undo"),
    "Bob moved 'Dam' and changed name and fill of 'Dam'; Carol deleted an unnamed point after your change.",
  );
  assert.equal(
    conflictText([o({ kind: "props", keys: ["a", "b", "c", "d", "e"] })], "redo"),
    "Bob changed a, b and 3 more properties of 'Dam' after your undo.",
  );
});

Deno.test("the offline report has one line per feature and names every author", () => {
  const report = {
    edits: 3,
    overwrites: [
      o({ kind: "props", keys: ["name"] }),
      o({ fid: "f2", title: "Road", shape: "line", name: "Carol" }),
      o({ kind: "props", keys: ["fill"] }),
      o({ fid: "f3", title: null, shape: "point", kind: "replace" }),
    ],
  };
  assert.deepEqual(reportItems(report.overwrites).map((i) => i.fid), ["f1", "f2", "f3"]);
  assert.equal(
    reportText(report),
    "3 of your offline changes replaced newer changes by Bob and Carol: 'Dam' name and fill, " +
      "'Road' geometry, unnamed point: (replaced)",
  );
});
