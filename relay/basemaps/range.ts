/** HTTP Range (RFC 9110 section 14) for one file: which bytes a request asks for, if any. */

/** What to answer a request for a file of `size` bytes. */
export type RangeAnswer =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable"; reason: string };

/**
 * Reads `Range` (and `If-Range`, against the file's strong `etag` and `lastModified`). A header
 * that is not a valid `bytes=` range is ignored (the whole file), as the RFC asks; one range is
 * served; a range past the end, or several ranges, is refused with 416 (no multipart answers:
 * PMTiles readers ask for one range at a time).
 */
export function rangeOf(
  headers: { range?: string; ifRange?: string },
  size: number,
  validators: { etag: string; lastModified: Date | null },
): RangeAnswer {
  const { range, ifRange } = headers;
  if (range === undefined) return { kind: "full" };
  if (ifRange !== undefined && !ifRangeMatches(ifRange.trim(), validators)) return { kind: "full" };
  const m = /^bytes=(.+)$/i.exec(range.trim());
  if (!m) return { kind: "full" };
  const specs = m[1].split(",").map((s) => s.trim());
  if (specs.some((s) => !/^(\d+-\d*|-\d+)$/.test(s))) return { kind: "full" };
  if (specs.length > 1) return { kind: "unsatisfiable", reason: "one range per request" };
  const [first, last] = specs[0].split("-");
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) {
      return { kind: "unsatisfiable", reason: "an empty suffix range" };
    }
    return { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== "" && Number(last) < start) return { kind: "full" }; // invalid: ignored
  if (start >= size) {
    return { kind: "unsatisfiable", reason: `the range starts at or past the end (${size} bytes)` };
  }
  return { kind: "partial", start, end };
}

function ifRangeMatches(
  value: string,
  { etag, lastModified }: { etag: string; lastModified: Date | null },
): boolean {
  // Strong comparison: a weak tag never matches.
  if (value.startsWith('"') || value.startsWith("W/")) return value === etag;
  return lastModified !== null && value === lastModified.toUTCString();
}

/** True when `If-None-Match` names this strong ETag (weak comparison, as the RFC says for it). */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}
