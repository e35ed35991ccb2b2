/** JSON text for data of any depth: the native serializer, then a flat one for very deep values. */

/**
 * `JSON.stringify(value, null, indent)`, except that a value nested too deeply for the engine's
 * recursive pretty-printer (V8 gives up near 10 000 levels) is written compactly instead of
 * throwing, by V8's compact path or, should that give up too, by {@link stringifyFlat}. A map may
 * hold such values: the relay stores what arrived, and imported files can carry them.
 *
 * @example
 * ```ts
 * import { stringifyAnyDepth } from "./json_text.ts";
 * stringifyAnyDepth({ a: [1, 2] }, 1); // '{\n "a": [\n  1,\n  2\n ]\n}'
 * ```
 */
export function stringifyAnyDepth(value: unknown, indent = 0): string {
  try {
    return JSON.stringify(value, null, indent);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  return stringifyFlat(value);
}

type Frame = { items: [string | null, unknown][]; index: number; close: string };

/**
 * Compact JSON text with an explicit stack instead of recursion, so depth is bounded only by
 * memory. It treats values as JSON data (what `JSON.parse` makes): objects, arrays, strings,
 * numbers, booleans and null; like `JSON.stringify`, it writes non-finite numbers as `null`,
 * leaves out `undefined` and functions in objects and writes them as `null` in arrays.
 */
export function stringifyFlat(value: unknown): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  // Writes one value; a container pushes a frame whose items are written by the loop below.
  const write = (v: unknown, key: string | null, first: boolean): void => {
    if (!first) out.push(",");
    if (key !== null) out.push(JSON.stringify(key), ":");
    if (Array.isArray(v)) {
      out.push("[");
      stack.push({ items: v.map((item) => [null, item]), index: 0, close: "]" });
    } else if (typeof v === "object" && v !== null) {
      out.push("{");
      const entries = Object.entries(v).filter(([, x]) => !skipped(x));
      stack.push({ items: entries, index: 0, close: "}" });
    } else {
      out.push(primitive(v));
    }
  };
  write(value, null, true);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    if (frame.index >= frame.items.length) {
      stack.pop();
      out.push(frame.close);
      continue;
    }
    const [key, item] = frame.items[frame.index++];
    write(item, key, frame.index === 1);
  }
  return out.join("");
}

function skipped(v: unknown): boolean {
  return v === undefined || typeof v === "function" || typeof v === "symbol";
}

function primitive(v: unknown): string {
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "null";
  if (typeof v === "string" || typeof v === "boolean") return JSON.stringify(v);
  if (typeof v === "bigint") throw new TypeError("a BigInt cannot be written as JSON");
  return "null";
}
