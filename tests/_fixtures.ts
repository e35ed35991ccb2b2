/** Shared fixtures for the relay end-to-end tests: sample geometries, features, and a replica. */
import type { EditMsg, WireFeature, WireOp } from "./_ws.ts";

/** A GeoJSON Point. */
export function point(lng: number, lat: number): WireFeature["geometry"] {
  return { type: "Point", coordinates: [lng, lat] };
}

/** A GeoJSON LineString through the given positions. */
export function line(...positions: [number, number][]): WireFeature["geometry"] {
  return { type: "LineString", coordinates: positions };
}

/** A closed square Polygon centred on (lng, lat) with half-side `d`. */
export function square(lng: number, lat: number, d = 0.01): WireFeature["geometry"] {
  return {
    type: "Polygon",
    coordinates: [[
      [lng - d, lat - d],
      [lng + d, lat - d],
      [lng + d, lat + d],
      [lng - d, lat + d],
      [lng - d, lat - d],
    ]],
  };
}

/** A Feature with a string id. */
export function feature(
  id: string,
  geometry: WireFeature["geometry"],
  properties: Record<string, unknown> = {},
): WireFeature {
  return { type: "Feature", id, geometry, properties };
}

/** A `put` op. */
export function put(f: WireFeature): WireOp {
  return { op: "put", feature: f };
}

/** Geometries the contract says are invalid. */
export const INVALID_GEOMETRIES = {
  /** A polygon ring whose last position is not its first. */
  unclosedRing: {
    type: "Polygon",
    coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]],
  },
  /** A ring of three positions (closed, but fewer than four). */
  shortRing: { type: "Polygon", coordinates: [[[0, 0], [1, 0], [0, 0]]] },
  /** Latitude 91. */
  lat91: { type: "Point", coordinates: [10, 91] },
  /** Longitude -181. */
  lngMinus181: { type: "Point", coordinates: [-181, 0] },
  /** Not a GeoJSON geometry type. */
  unknownType: { type: "Circle", coordinates: [0, 0] },
} as const;

/**
 * An edit frame whose geometry holds `1e999`: valid JSON text that parses to Infinity, so the
 * relay must refuse it as a non-finite number (JSON.stringify could never produce it).
 */
export function editWithInfinity(editId: string, fid: string): string {
  return `{"type":"edit","id":"${editId}","ops":[{"op":"put","feature":{"type":"Feature","id":"${fid}",` +
    `"geometry":{"type":"Point","coordinates":[1e999,0]},"properties":{}}}]}`;
}

/** A deterministic pseudo-random source (mulberry32), so failures replay. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JSON with object keys sorted at every level: equal values give byte-identical text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}

/** A feature reduced to what the contract defines: id, geometry, properties (an object). */
export interface PlainFeature {
  type: "Feature";
  id: string;
  geometry: WireFeature["geometry"];
  properties: Record<string, unknown>;
}

function plain(f: WireFeature): PlainFeature {
  return {
    type: "Feature",
    id: f.id,
    geometry: structuredClone(f.geometry),
    properties: structuredClone(f.properties ?? {}),
  };
}

/**
 * The canonical text of a set of features: sorted by id, keys sorted, `properties` always an
 * object. Two copies of a map are the same exactly when their canonical texts are equal.
 */
export function canonicalFeatures(features: Iterable<WireFeature>): string {
  return canonicalJson([...features].map(plain).sort((a, b) => (a.id < b.id ? -1 : 1)));
}

/**
 * A client-side copy of a map that applies `edit` frames in `seq` order, as the contract tells
 * every client to; it refuses a frame out of order, or one that could not apply.
 */
export class Replica {
  readonly features = new Map<string, PlainFeature>();
  seq: number;

  constructor(snapshot: WireFeature[] = [], seq = 0) {
    for (const f of snapshot) this.features.set(f.id, plain(f));
    this.seq = seq;
  }

  /** Applies one accepted edit; throws when it is out of order or names a missing feature. */
  apply(edit: EditMsg): void {
    if (!(edit.seq > this.seq)) {
      throw new Error(`edit seq ${edit.seq} arrived after seq ${this.seq}`);
    }
    for (const op of edit.ops) {
      switch (op.op) {
        case "put":
          this.features.set(op.feature.id, plain(op.feature));
          break;
        case "geom":
          this.#existing(op.fid, edit).geometry = structuredClone(op.geometry);
          break;
        case "props": {
          const f = this.#existing(op.fid, edit);
          // A spread defines keys (Object.assign would set `__proto__` as the prototype).
          f.properties = { ...f.properties, ...structuredClone(op.set) };
          for (const key of op.unset ?? []) delete f.properties[key];
          break;
        }
        case "del":
          this.#existing(op.fid, edit);
          this.features.delete(op.fid);
          break;
      }
    }
    this.seq = edit.seq;
  }

  /** The canonical text of this copy (see {@link canonicalFeatures}). */
  canonical(): string {
    return canonicalFeatures(this.features.values());
  }

  #existing(fid: string, edit: EditMsg): PlainFeature {
    const f = this.features.get(fid);
    if (!f) throw new Error(`accepted edit seq ${edit.seq} names a missing feature ${fid}`);
    return f;
  }
}

/** Reads `GET /api/maps/<id>/features?key=` and answers the parsed FeatureCollection. */
export async function getFeatures(
  baseUrl: string,
  id: string,
  key: string,
): Promise<{ type: string; features: WireFeature[] }> {
  const res = await fetch(`${baseUrl}/api/maps/${id}/features?key=${encodeURIComponent(key)}`);
  if (res.status !== 200) {
    throw new Error(`GET features answered ${res.status}: ${await res.text()}`);
  }
  return await res.json();
}
