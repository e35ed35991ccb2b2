/** A structure-aware generator of hostile client frames for the fuzz tests, driven by a seeded PRNG. */
import { prng } from "./_fixtures.ts";

/** A text frame, or the bytes of a binary one. */
export type FuzzFrame = string | Uint8Array<ArrayBuffer>;

/** What the generator needs to know about the relay under test. */
export interface FuzzTarget {
  editKey: string;
  viewKey: string;
  /** The relay's `--max-frame-bytes`: boundary frames are built around it. */
  maxFrameBytes: number;
}

type Json = unknown;

/**
 * Text spliced into the JSON as it is, after serialising: numbers JSON.stringify cannot write
 * (`1e999`, `-0`, 30-digit integers) and values nested too deep to build as objects here.
 */
const RAW = "\u0000RAW:";
const RAW_PATTERN = /"\\u0000RAW:((?:[^"\\]|\\.)*?)\\u0000"/g;

/** Sets a property by defining it, so a `__proto__` key is an own property like any other. */
function define(target: object, key: string | number, value: Json): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function raw(text: string): string {
  return `${RAW}${text}\u0000`;
}

const ODD_NUMBERS = [
  "-0",
  "1e308",
  "-1e308",
  "1e999",
  "-1E+400",
  "5e-324",
  "9007199254740993",
  "-9007199254740993",
  "123456789012345678901234567890",
  "0.1",
  "1.5e-10",
  "0e0",
];
const ODD_STRINGS = [
  "NaN",
  "Infinity",
  "-Infinity",
  "",
  " ",
  "null",
  "\u0000",
  "\ud800",
  "\udfff",
  "\ud83d\ude00",
  "\u202e\u05e9\u05dc\u05d5\u05dd",
  "\ufeff",
  "\u200b",
  "e\u0301",
  "\ud835\udd18",
  '"',
  "\\",
  "\n\r\t",
  "<script>",
  "%00",
  "__proto__",
];
const KEYS = ["__proto__", "constructor", "prototype", "0", "", "name", "toString", "type", "a.b"];
const TYPES = ["hello", "view", "cursor", "edit", "ping", "profile"];
/** Feature ids the fuzz connections share, so their ops meet each other's features. */
const FIDS = Array.from({ length: 16 }, (_, i) => `z${i}`);

/**
 * Generates frames: valid messages of every type, the same mutated (fields dropped, replaced,
 * retyped), batches, values nested past any stack, odd numbers and unicode, frames at the size
 * limit, non-JSON text and binary frames. The same seed gives the same frames.
 *
 * @example
 * ```ts
 * import { FrameFuzzer } from "./_fuzz.ts";
 * const fuzz = new FrameFuzzer(42, { editKey: "k", viewKey: "v", maxFrameBytes: 65536 });
 * const first = fuzz.hello();
 * ```
 */
export class FrameFuzzer {
  readonly seed: number;
  #rand: () => number;
  #target: FuzzTarget;
  #editIds = 0;

  constructor(seed: number, target: FuzzTarget) {
    this.seed = seed;
    this.#rand = prng(seed);
    this.#target = target;
  }

  /** An integer in 0..n-1. */
  int(n: number): number {
    return Math.floor(this.#rand() * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.#rand() < p;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** A first frame: mostly a valid hello, so the joined state gets fuzzed too. */
  hello(): FuzzFrame {
    if (this.chance(0.9)) return JSON.stringify(this.#hello(this.chance(0.8)));
    return this.frame();
  }

  /** Any frame. */
  frame(): FuzzFrame {
    const r = this.#rand();
    if (r < 0.3) return this.#text(this.message());
    if (r < 0.68) return this.#text(this.#mutate(this.message()));
    if (r < 0.78) return this.#text(this.#batch());
    if (r < 0.88) return this.#text(this.#deep());
    if (r < 0.9) return this.#boundary();
    if (r < 0.97) return this.#text(this.#odd());
    if (r < 0.99) return this.#notJson();
    return this.#binary();
  }

  /** A valid message of a random type (its values may still be refused, e.g. an unknown fid). */
  message(): Record<string, Json> {
    switch (this.pick(TYPES)) {
      case "hello":
        return this.#hello(true);
      case "view": {
        const south = this.int(180) - 90;
        return {
          type: "view",
          bbox: [this.int(360) - 180, south, this.int(360) - 180, south + this.int(90 - south)],
          zoom: this.int(31),
        };
      }
      case "cursor":
        return { type: "cursor", at: this.chance(0.2) ? null : this.#position() };
      case "edit":
        return {
          type: "edit",
          id: this.chance(0.8) ? `fz-${this.seed}-${++this.#editIds}` : this.int(1e9),
          ops: Array.from({ length: 1 + this.int(4) }, () => this.#op()),
        };
      case "ping":
        return this.chance(0.3)
          ? { type: "ping" }
          : { type: "ping", t: this.chance(0.5) ? this.int(1e12) : this.#string() };
      default:
        return { type: "profile", name: this.#string() || "n", color: this.#color() };
    }
  }

  #hello(valid: boolean): Record<string, Json> {
    const key = valid
      ? (this.chance(0.8) ? this.#target.editKey : this.#target.viewKey)
      : this.pick(["", "wrong", this.#target.editKey.slice(1), this.#string()]);
    const hello: Record<string, Json> = { type: "hello", key, name: "fuzz", color: this.#color() };
    if (this.chance(0.3)) hello.since = this.int(50);
    if (this.chance(0.3)) hello.client = `fz${this.int(5)}`;
    return hello;
  }

  #op(): Record<string, Json> {
    const fid = this.pick(FIDS);
    switch (this.int(4)) {
      case 0:
        return {
          op: "put",
          feature: {
            type: "Feature",
            id: fid,
            geometry: this.#geometry(0),
            properties: this.#object(3),
          },
        };
      case 1:
        return { op: "geom", fid, geometry: this.#geometry(0) };
      case 2:
        return this.chance(0.5)
          ? { op: "props", fid, set: this.#object(3) }
          : { op: "props", fid, set: this.#object(2), unset: [this.pick(KEYS), this.#string()] };
      default:
        return { op: "del", fid };
    }
  }

  #geometry(depth: number): Record<string, Json> {
    const line = () => Array.from({ length: 2 + this.int(4) }, () => this.#position());
    const ring = () => {
      const [lng, lat] = this.#position();
      return [[lng, lat], [lng + 1e-3, lat], [lng + 1e-3, lat + 1e-3], [lng, lat]];
    };
    switch (this.int(depth < 2 ? 7 : 6)) {
      case 0:
        return { type: "Point", coordinates: this.#position() };
      case 1:
        return { type: "MultiPoint", coordinates: line() };
      case 2:
        return { type: "LineString", coordinates: line() };
      case 3:
        return { type: "MultiLineString", coordinates: [line(), line()] };
      case 4:
        return { type: "Polygon", coordinates: [ring()] };
      case 5:
        return { type: "MultiPolygon", coordinates: [[ring()], [ring()]] };
      default:
        return {
          type: "GeometryCollection",
          geometries: Array.from({ length: 1 + this.int(3) }, () => this.#geometry(depth + 1)),
        };
    }
  }

  #position(): [number, number] {
    return [this.#rand() * 358 - 179, this.#rand() * 178 - 89];
  }

  #color(): string {
    return `#${this.int(0x1000000).toString(16).padStart(6, "0")}`;
  }

  #string(): string {
    let s = "";
    for (let n = this.int(4); n >= 0; n--) {
      s += this.chance(0.5) ? this.pick(ODD_STRINGS) : String.fromCharCode(32 + this.int(95));
    }
    return s;
  }

  /** Any JSON-ish value; `budget` bounds how deep it is built as objects. */
  #value(budget: number): Json {
    const r = this.#rand();
    if (r < 0.2) return this.#string();
    if (r < 0.35) return this.chance(0.5) ? this.int(1000) : raw(this.pick(ODD_NUMBERS));
    if (r < 0.45) return this.pick([true, false, null]);
    if (r < 0.55) return raw(this.#deepText(this.pick([2, 31, 33, 200, 5000])));
    if (budget <= 0) return this.#rand();
    if (r < 0.6) return Array.from({ length: this.int(3000) }, () => this.int(1000)); // wide
    if (r < 0.75) return Array.from({ length: this.int(6) }, () => this.#value(budget - 1));
    return this.#object(budget - 1);
  }

  #object(budget: number): Record<string, Json> {
    // Built without the `__proto__` setter, so that key stays an own property.
    const out: Record<string, Json> = {};
    for (let n = this.int(5); n > 0; n--) {
      const key = this.chance(0.4) ? this.pick(KEYS) : this.#string();
      define(out, key, this.#value(budget));
    }
    return out;
  }

  /** JSON text nested `depth` levels, arrays and objects mixed, a numeric key beside. */
  #deepText(depth: number): string {
    if (this.chance(0.5)) return "[".repeat(depth) + "]".repeat(depth);
    return `{"0":1,"d":${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}`;
  }

  /** A message with one value replaced, dropped, retyped or made deep, somewhere inside it. */
  #mutate(message: Record<string, Json>): Record<string, Json> {
    const slots: [Record<string, Json> | Json[], string | number][] = [];
    const stack: Json[] = [message];
    while (stack.length > 0) {
      const node = stack.pop();
      if (typeof node !== "object" || node === null) continue;
      for (const key of Object.keys(node)) {
        const container = node as Record<string, Json>;
        slots.push([container, Array.isArray(node) ? Number(key) : key]);
        stack.push(container[key]);
      }
    }
    for (let n = 1 + this.int(3); n > 0; n--) {
      const [container, key] = this.pick(slots);
      const target = container as Record<string | number, Json>;
      const r = this.#rand();
      if (r < 0.3) delete target[key];
      else if (r < 0.8) define(target, key, this.#value(3));
      else if (r < 0.9) define(target, key, [target[key]]);
      else define(target, this.pick(KEYS), this.#value(2));
    }
    if (this.chance(0.1)) message.type = this.pick([...TYPES, "welcome", "Edit", "", 1]);
    return message;
  }

  #batch(): Json[] {
    const items = Array.from(
      { length: this.int(12) },
      () => (this.chance(0.5) ? this.message() : this.#mutate(this.message())),
    );
    return this.chance(0.1) ? [items] : items;
  }

  /** Something nested far past any cap, where a value may go (or where none may). */
  #deep(): Json {
    const depth = this.pick([31, 32, 33, 100, 1000, 10_000, 20_000]);
    const deep = raw(this.#deepText(depth));
    const edit = this.message();
    switch (this.int(6)) {
      case 0:
        return {
          type: "edit",
          id: `deep-${depth}`,
          ops: [{
            op: "put",
            feature: {
              type: "Feature",
              id: this.pick(FIDS),
              geometry: this.#geometry(0),
              properties: { "0": 1, a: deep },
            },
          }],
        };
      case 1:
        return {
          type: "edit",
          id: `deep-${depth}`,
          ops: [{ op: "props", fid: this.pick(FIDS), set: { "1": 2, x: deep } }],
        };
      case 2:
        return {
          type: "edit",
          id: `deep-${depth}`,
          ops: [{
            op: "geom",
            fid: this.pick(FIDS),
            geometry: { type: "Point", coordinates: [0, 0], bbox: deep },
          }],
        };
      case 3:
        return { type: "ping", t: deep };
      case 4:
        return { ...edit, extra: deep };
      default:
        return raw(this.#deepText(depth));
    }
  }

  #odd(): Json {
    const message = this.message();
    if (message.type === "view") message.zoom = raw(this.pick(ODD_NUMBERS));
    if (message.type === "cursor") {
      message.at = [raw(this.pick(ODD_NUMBERS)), raw(this.pick(ODD_NUMBERS))];
    }
    if (message.type === "ping") message.t = raw(this.pick(ODD_NUMBERS));
    if (message.type === "edit") {
      message.id = this.chance(0.5) ? raw(this.pick(ODD_NUMBERS)) : this.#string();
    }
    if (message.type === "hello" || message.type === "profile") message.name = this.#string();
    return message;
  }

  /** A valid message padded to within a few bytes of the frame limit, either side. */
  #boundary(): string {
    const message = this.chance(0.5) ? { type: "ping", t: "" } : {
      type: "edit",
      id: `edge-${++this.#editIds}`,
      ops: [{ op: "props", fid: this.pick(FIDS), set: { pad: "" } }],
    };
    const base = new TextEncoder().encode(JSON.stringify(message)).length;
    const target = this.#target.maxFrameBytes + this.int(5) - 2;
    // Some two-byte characters, so the UTF-8 length and the string length differ.
    const wide = this.int(Math.max(0, Math.floor((target - base) / 4)));
    const pad = "\u00e9".repeat(wide) + "x".repeat(Math.max(0, target - base - wide * 2));
    return JSON.stringify(message).replace('""', `"${pad}"`);
  }

  #notJson(): string {
    const valid = JSON.stringify(this.message());
    return this.pick([
      "",
      " ",
      "{",
      "nul",
      "[1,2",
      '"unterminated',
      "{'single':1}",
      "NaN",
      valid.slice(0, this.int(valid.length)),
      valid + "}",
      "\ufeff" + valid,
      Array.from({ length: this.int(200) }, () => String.fromCharCode(this.int(0x2fff))).join(""),
    ]);
  }

  #binary(): Uint8Array<ArrayBuffer> {
    if (this.chance(0.5)) return new TextEncoder().encode(JSON.stringify(this.message()));
    return Uint8Array.from({ length: this.int(300) }, () => this.int(256));
  }

  /** JSON text of `value`, raw parts spliced in. */
  #text(value: Json): string {
    const text = JSON.stringify(value) ?? "null";
    return text.includes("RAW:")
      ? text.replace(RAW_PATTERN, (_, body: string) => JSON.parse(`"${body}"`))
      : text;
  }
}

/** The close codes the contract documents for a client that misbehaves (1011 is not one). */
export const DOCUMENTED_CLOSE_CODES: ReadonlySet<number> = new Set([1000, 1003, 1008, 1009, 1013]);

/** The seed CI uses, so that a red CI run always means the change broke something. */
const CI_SEED = 20261202;

/**
 * The seed to use: `DUPLEXMAP_FUZZ_SEED` to replay; on CI (`CI` set) a fixed one; else a fresh
 * one, so every developer's run and every `deno task fuzz` explores new frames.
 */
export function fuzzSeed(): number {
  const given = Deno.env.get("DUPLEXMAP_FUZZ_SEED");
  if (given) return Number(given) >>> 0;
  if (Deno.env.get("CI")) return CI_SEED;
  return crypto.getRandomValues(new Uint32Array(1))[0];
}
