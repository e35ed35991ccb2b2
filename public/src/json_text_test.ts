/** Tests for JSON text of deeply nested values. */
import assert from "assert";
import { stringifyAnyDepth, stringifyFlat } from "./json_text.ts";

/** `{ a: { a: ... 1 } }`, `depth` levels deep, built without recursion. */
function deep(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? { a: v } : [v];
  return v;
}

/** How deep a parsed value is, measured without recursion. */
function depthOf(value: unknown): number {
  let n = 0;
  let v = value;
  while (typeof v === "object" && v !== null) {
    v = Array.isArray(v) ? v[0] : (v as { a: unknown }).a;
    n++;
  }
  return n;
}

Deno.test("a value nested 100 000 levels deep is written (the pretty-printer alone throws)", () => {
  const value = deep(100_000);
  assert.throws(() => JSON.stringify(value, null, 1), RangeError);
  const text = stringifyAnyDepth(value, 1);
  assert.equal(depthOf(JSON.parse(text)), 100_000);
});

Deno.test("ordinary values keep the native, indented text", () => {
  const value = { type: "FeatureCollection", features: [{ id: "a", n: 1.5, ok: true }] };
  assert.equal(stringifyAnyDepth(value, 1), JSON.stringify(value, null, 1));
});

Deno.test("the flat writer matches JSON.stringify on JSON data, including its edge cases", () => {
  const values: unknown[] = [
    null,
    0,
    -1.25e-7,
    'quote " and \\ and \n and \u2028',
    [],
    {},
    [1, [2, [3, {}]], { b: [] }],
    { a: undefined, b: () => 1, c: NaN, d: [undefined, Infinity], "é": "ü" },
  ];
  for (const value of values) assert.equal(stringifyFlat(value), JSON.stringify(value));
  assert.equal(depthOf(JSON.parse(stringifyFlat(deep(200_000)))), 200_000);
});
