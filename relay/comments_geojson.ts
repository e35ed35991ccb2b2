/** Comments as a GeoJSON layer of their own (one point per thread), and a feature's representative point. */
import type { Geometry, Position } from "./geometry.ts";
import type { Comment, StoredFeature } from "./protocol.ts";

/**
 * A point that stands for a geometry, where a comment on it is pinned: a point itself, the first of
 * a MultiPoint, the middle (by length) of a line or of the longest part, for a polygon the centroid
 * of its outer ring (of the largest part) when that lies inside it, else the middle of the widest
 * span across the ring at the centroid's latitude (so a U-shaped polygon gets a point on it).
 * Planar, in degrees: it only has to land on the shape. `null` for no geometry.
 *
 * @example
 * ```ts
 * import { representativePoint } from "./comments_geojson.ts";
 * representativePoint({ type: "LineString", coordinates: [[0, 0], [2, 0]] }); // [1, 0]
 * ```
 */
export function representativePoint(geometry: Geometry | null): [number, number] | null {
  if (!geometry) return null;
  switch (geometry.type) {
    case "Point":
      return lngLat(geometry.coordinates);
    case "MultiPoint":
      return geometry.coordinates.length > 0 ? lngLat(geometry.coordinates[0]) : null;
    case "LineString":
      return lineMiddle(geometry.coordinates);
    case "MultiLineString":
      return lineMiddle(largest(geometry.coordinates, lineLength));
    case "Polygon":
      return polygonPoint(geometry.coordinates[0] ?? []);
    case "MultiPolygon":
      return polygonPoint(largest(geometry.coordinates.map((p) => p[0] ?? []), ringArea));
    case "GeometryCollection":
      for (const child of geometry.geometries) {
        const point = representativePoint(child);
        if (point) return point;
      }
      return null;
  }
}

/**
 * The map's comments as a FeatureCollection: one Point feature per thread (its root), at its place
 * or its feature's representative point (`geometry: null` when the feature is gone), with the
 * thread's replies, oldest first, in `properties.replies`. Never mixed with the map's features.
 */
export function commentsGeoJson(
  comments: readonly Comment[],
  feature: (fid: string) => StoredFeature | undefined,
): { type: "FeatureCollection"; features: unknown[] } {
  const replies = new Map<string, Comment[]>();
  for (const c of comments) {
    if (c.thread === c.id) continue;
    const list = replies.get(c.thread) ?? [];
    list.push(c);
    replies.set(c.thread, list);
  }
  const features = comments.filter((c) => c.thread === c.id).map((root) => {
    const anchor = root.anchor;
    const at = !anchor
      ? null
      : "at" in anchor
      ? anchor.at
      : representativePoint(feature(anchor.fid)?.geometry ?? null);
    return {
      type: "Feature",
      id: root.id,
      geometry: at ? { type: "Point", coordinates: at } : null,
      properties: {
        text: root.text,
        name: root.name,
        color: root.color,
        created: new Date(root.created).toISOString(),
        edited: root.edited === undefined ? null : new Date(root.edited).toISOString(),
        resolved: root.resolved ?? false,
        fid: anchor && "fid" in anchor ? anchor.fid : null,
        replies: (replies.get(root.id) ?? []).map((r) => ({
          id: r.id,
          text: r.text,
          name: r.name,
          color: r.color,
          created: new Date(r.created).toISOString(),
          ...(r.edited === undefined ? {} : { edited: new Date(r.edited).toISOString() }),
        })),
      },
    };
  });
  return { type: "FeatureCollection", features };
}

function lngLat(p: Position): [number, number] {
  return [p[0], p[1]];
}

function largest<T>(parts: T[], size: (part: T) => number): T {
  let best = parts[0];
  let bestSize = -1;
  for (const part of parts) {
    const s = size(part);
    if (s > bestSize) [best, bestSize] = [part, s];
  }
  return best ?? ([] as unknown as T);
}

function lineLength(line: Position[]): number {
  let length = 0;
  for (let i = 1; i < line.length; i++) {
    length += Math.hypot(line[i][0] - line[i - 1][0], line[i][1] - line[i - 1][1]);
  }
  return length;
}

function lineMiddle(line: Position[]): [number, number] | null {
  if (line.length === 0) return null;
  let rest = lineLength(line) / 2;
  for (let i = 1; i < line.length; i++) {
    const [a, b] = [line[i - 1], line[i]];
    const step = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (step >= rest && step > 0) {
      const t = rest / step;
      return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
    }
    rest -= step;
  }
  return lngLat(line[0]);
}

function ringArea(ring: Position[]): number {
  let twice = 0;
  for (let i = 1; i < ring.length; i++) {
    twice += ring[i - 1][0] * ring[i][1] - ring[i][0] * ring[i - 1][1];
  }
  return Math.abs(twice / 2);
}

function polygonPoint(ring: Position[]): [number, number] | null {
  if (ring.length === 0) return null;
  let twice = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 1; i < ring.length; i++) {
    const [a, b] = [ring[i - 1], ring[i]];
    const cross = a[0] * b[1] - b[0] * a[1];
    twice += cross;
    cx += (a[0] + b[0]) * cross;
    cy += (a[1] + b[1]) * cross;
  }
  if (twice === 0) return lngLat(ring[0]);
  const centroid: [number, number] = [cx / (3 * twice), cy / (3 * twice)];
  if (inside(ring, centroid)) return centroid;
  // The centroid of a concave ring can fall outside it: take the widest span at its latitude.
  const xs: number[] = [];
  for (let i = 1; i < ring.length; i++) {
    const [a, b] = [ring[i - 1], ring[i]];
    if ((a[1] > centroid[1]) !== (b[1] > centroid[1])) {
      xs.push(a[0] + (centroid[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
    }
  }
  xs.sort((a, b) => a - b);
  let best: [number, number] = lngLat(ring[0]);
  let width = -1;
  for (let i = 0; i + 1 < xs.length; i += 2) {
    if (xs[i + 1] - xs[i] > width) {
      width = xs[i + 1] - xs[i];
      best = [(xs[i] + xs[i + 1]) / 2, centroid[1]];
    }
  }
  return best;
}

function inside(ring: Position[], [x, y]: [number, number]): boolean {
  let inRing = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [a, b] = [ring[i], ring[j]];
    if ((a[1] > y) !== (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0]) {
      inRing = !inRing;
    }
  }
  return inRing;
}
