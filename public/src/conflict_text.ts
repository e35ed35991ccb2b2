/** Conflicts in words: "Bob moved 'Dam' after your change", "2 of your offline changes replaced newer changes by Bob: ...". */
import type { Overwrite } from "./change_marks.ts";
import type { OverwriteReport } from "./resend_watch.ts";

/** A feature in words: `'Dam'`, or "an unnamed point" when it has no name. */
export function featureWords(o: Pick<Overwrite, "title" | "shape">): string {
  return o.title === null ? `an unnamed ${o.shape}` : `'${o.title}'`;
}

/** "a", "a and b", "a, b and c". */
export function joinAnd(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function keyWords(keys: readonly string[]): string {
  if (keys.length === 1) return `the ${keys[0]}`;
  if (keys.length <= 3) return joinAnd(keys);
  return `${keys.slice(0, 2).join(", ")} and ${keys.length - 2} more properties`;
}

function phrase(o: Overwrite): string {
  const f = featureWords(o);
  switch (o.kind) {
    case "geom":
      return `moved ${f}`;
    case "props":
      return `changed ${keyWords(o.keys ?? [])} of ${f}`;
    case "replace":
      return `replaced ${f}`;
    case "del":
      return `deleted ${f}`;
  }
}

/** Overwrites grouped by author, in the order they first appear. */
function byAuthor(overwrites: readonly Overwrite[]): Map<string, Overwrite[]> {
  const groups = new Map<string, Overwrite[]>();
  for (const o of overwrites) groups.set(o.name, [...groups.get(o.name) ?? [], o]);
  return groups;
}

/**
 * What an undo (or redo) would overwrite, as one sentence.
 *
 * @example
 * ```ts
 * import { conflictText } from "./conflict_text.ts";
 * conflictText([{ fid: "f1", title: "Dam", shape: "area", kind: "geom", name: "Bob", seq: 9 }], "undo");
 * // "Bob moved 'Dam' after your change."
 * ```
 */
export function conflictText(overwrites: readonly Overwrite[], what: "undo" | "redo"): string {
  const groups = [...byAuthor(overwrites)].map(([name, list]) =>
    `${name} ${joinAnd(list.map(phrase))}`
  );
  return `${groups.join("; ")} after your ${what === "undo" ? "change" : "undo"}.`;
}

/** One line of an overwrite report: a feature and what of it was replaced ("'Dam' name"). */
export interface ReportItem {
  fid: string;
  text: string;
}

/** The report's lines, one per feature, in the order they first appear. */
export function reportItems(overwrites: readonly Overwrite[]): ReportItem[] {
  const parts = new Map<string, { o: Overwrite; what: Set<string> }>();
  for (const o of overwrites) {
    const entry = parts.get(o.fid) ?? { o, what: new Set<string>() };
    parts.set(o.fid, entry);
    if (o.kind === "geom") entry.what.add("geometry");
    else if (o.kind === "props") { for (const key of o.keys ?? []) entry.what.add(key); }
    else entry.what.add(o.kind === "del" ? "(deleted)" : "(replaced)");
  }
  return [...parts.values()].map(({ o, what }) => {
    const words = joinAnd([...what]);
    return {
      fid: o.fid,
      text: o.title === null ? `unnamed ${o.shape}: ${words}` : `'${o.title}' ${words}`,
    };
  });
}

/**
 * The headline of an overwrite report.
 *
 * @example
 * ```ts
 * import { reportHeadline } from "./conflict_text.ts";
 * reportHeadline({ edits: 2, overwrites: [{ fid: "f1", title: "Dam", shape: "area", kind: "geom", name: "Bob", seq: 9 }] });
 * // "2 of your offline changes replaced newer changes by Bob:"
 * ```
 */
export function reportHeadline(report: OverwriteReport): string {
  const names = joinAnd([...byAuthor(report.overwrites).keys()]);
  return report.edits === 1
    ? `1 of your offline changes replaced a newer change by ${names}:`
    : `${report.edits} of your offline changes replaced newer changes by ${names}:`;
}

/** The whole report as one line of text. */
export function reportText(report: OverwriteReport): string {
  return `${reportHeadline(report)} ${
    reportItems(report.overwrites).map((i) => i.text).join(", ")
  }`;
}
