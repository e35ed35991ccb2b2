/** Unit tests of Range / If-Range / If-None-Match handling for whole basemap archives. */
import assert from "assert";
import { noneMatch, rangeOf } from "./range.ts";

const V = { etag: '"abc-1"', lastModified: new Date("2026-12-01T10:00:00Z") };

Deno.test("rangeOf: single ranges, open and suffix ranges, clamped to the file", () => {
  assert.deepEqual(rangeOf({}, 1000, V), { kind: "full" });
  assert.deepEqual(rangeOf({ range: "bytes=0-99" }, 1000, V), {
    kind: "partial",
    start: 0,
    end: 99,
  });
  assert.deepEqual(rangeOf({ range: "bytes=900-" }, 1000, V), {
    kind: "partial",
    start: 900,
    end: 999,
  });
  assert.deepEqual(rangeOf({ range: "bytes=990-5000" }, 1000, V), {
    kind: "partial",
    start: 990,
    end: 999,
  });
  assert.deepEqual(rangeOf({ range: "bytes=-10" }, 1000, V), {
    kind: "partial",
    start: 990,
    end: 999,
  });
  assert.deepEqual(rangeOf({ range: "bytes=-5000" }, 1000, V), {
    kind: "partial",
    start: 0,
    end: 999,
  });
});

Deno.test("rangeOf: unsatisfiable and multiple ranges are refused; invalid ones are ignored", () => {
  assert.equal(rangeOf({ range: "bytes=1000-" }, 1000, V).kind, "unsatisfiable");
  assert.equal(rangeOf({ range: "bytes=-0" }, 1000, V).kind, "unsatisfiable");
  assert.equal(rangeOf({ range: "bytes=0-1, 4-5" }, 1000, V).kind, "unsatisfiable");
  for (const range of ["bytes=abc", "items=0-1", "bytes=5-1", "bytes=", "0-1"]) {
    assert.deepEqual(rangeOf({ range }, 1000, V), { kind: "full" }, range);
  }
});

Deno.test("rangeOf: If-Range serves the range only for the current strong tag or date", () => {
  const r = "bytes=0-9";
  assert.equal(rangeOf({ range: r, ifRange: '"abc-1"' }, 1000, V).kind, "partial");
  assert.equal(rangeOf({ range: r, ifRange: '"other"' }, 1000, V).kind, "full");
  assert.equal(rangeOf({ range: r, ifRange: 'W/"abc-1"' }, 1000, V).kind, "full");
  assert.equal(
    rangeOf({ range: r, ifRange: V.lastModified.toUTCString() }, 1000, V).kind,
    "partial",
  );
  assert.equal(rangeOf({ range: r, ifRange: new Date(0).toUTCString() }, 1000, V).kind, "full");
});

Deno.test("noneMatch: lists, weak forms and *", () => {
  assert.equal(noneMatch(undefined, V.etag), false);
  assert.equal(noneMatch('"x", "abc-1"', V.etag), true);
  assert.equal(noneMatch('W/"abc-1"', V.etag), true);
  assert.equal(noneMatch("*", V.etag), true);
  assert.equal(noneMatch('"abc"', V.etag), false);
});
