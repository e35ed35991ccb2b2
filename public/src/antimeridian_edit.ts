/** Shapes drawn or edited on the map, back to stored positions within -180..180 (the protocol's range). */
import type { Geometry, Position } from "../../relay/geometry.ts";
import { shiftGeometry, shownGeometry } from "./antimeridian.ts";

/** Numbers written for moved positions keep 7 decimals (about 1 cm), like other drawn shapes. */
function round(n: number): number {
  return Math.round(n * 1e7) / 1e7;
}

/** A longitude in -180..180: unchanged when it already is, else moved by 360° steps. */
export function wrapLng(lng: number): number {
  if (lng >= -180 && lng <= 180) return lng;
  return round((((lng + 180) % 360) + 360) % 360 - 180);
}

function wrapped(p: Position): Position {
  const lng = wrapLng(p[0]);
  const lat = Math.max(-90, Math.min(90, p[1]));
  if (lng === p[0] && lat === p[1]) return p;
  return p.length > 2 ? [lng, lat, ...p.slice(2)] : [lng, lat];
}

const mercatorY = (lat: number) => Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360));
const latitudeOf = (y: number) => (Math.atan(Math.exp(y)) * 360) / Math.PI - 90;

/**
 * Positions added on every edge of `line` that spans 180° of longitude or more, where the map drew
 * it (straight in Web Mercator), so that once wrapped no edge reads as crossing the antimeridian
 * when it did not, or the other way round.
 */
function densified(line: Position[], keep: (i: number) => boolean = () => false): Position[] {
  let out: Position[] | null = null;
  for (let i = 1; i < line.length; i++) {
    const [a, b] = [line[i - 1], line[i]];
    const span = b[0] - a[0];
    if (Math.abs(span) >= 180 && !(keep(i - 1) && keep(i))) {
      out ??= line.slice(0, i);
      const steps = Math.ceil(Math.abs(span) / 90);
      const [ya, yb] = [mercatorY(a[1]), mercatorY(b[1])];
      for (let s = 1; s < steps; s++) {
        const t = s / steps;
        out.push([a[0] + span * t, latitudeOf(ya + (yb - ya) * t)]);
      }
    }
    out?.push(b);
  }
  return out ?? line;
}

type Rings = (line: Position[]) => Position[];

function mapLines(g: Geometry, f: Rings, point: (p: Position) => Position): Geometry {
  switch (g.type) {
    case "Point":
      return { type: g.type, coordinates: point(g.coordinates) };
    case "MultiPoint":
      return { type: g.type, coordinates: g.coordinates.map(point) };
    case "LineString":
      return { type: g.type, coordinates: f(g.coordinates) };
    case "MultiLineString":
    case "Polygon":
      return { type: g.type, coordinates: g.coordinates.map(f) };
    case "MultiPolygon":
      return { type: g.type, coordinates: g.coordinates.map((p) => p.map(f)) };
    case "GeometryCollection":
      return { type: g.type, geometries: g.geometries.map((c) => mapLines(c, f, point)) };
  }
}

/**
 * A shape as Leaflet gives it (on whatever copy of the world it was drawn, e.g. longitude 190 or
 * -200) in the stored form: every longitude moved into -180..180 on its own, so a shape drawn
 * across the antimeridian is kept whole, its crossing edges jumping from +180 to -180 as Natural
 * Earth's do (rather than cut at 180 or refused). An edge 180° long or longer gets positions
 * added first, so it keeps the way round it was drawn. Latitudes are clamped to -90..90. A shape
 * already in range is returned as it is.
 *
 * @example
 * ```ts
 * import { storedGeometry } from "./antimeridian_edit.ts";
 * storedGeometry({ type: "LineString", coordinates: [[170, 0], [190, 5]] });
 * // { type: "LineString", coordinates: [[170, 0], [-170, 5]] }
 * ```
 */
export function storedGeometry(g: Geometry): Geometry {
  let inRange = true;
  let long = false;
  const check = (line: Position[]) => {
    for (let i = 0; i < line.length; i++) {
      const [x, y] = line[i];
      if (x < -180 || x > 180 || y < -90 || y > 90) inRange = false;
      if (i > 0 && Math.abs(x - line[i - 1][0]) >= 180) long = true;
    }
    return line;
  };
  mapLines(g, check, (p) => check([p])[0]);
  if (inRange && !long) return g;
  return mapLines(g, (line) => densified(line).map(wrapped), wrapped);
}

/**
 * A shape Geoman edited, back in its stored form: `edited` is what the layer showed after the
 * edit, `stored` the geometry it showed before, drawn with {@link shownGeometry} moved by
 * `offset`. Every position the edit left where it was comes back exactly as it was stored (its
 * sign at ±180, all its decimals), positions added to close a ring round a pole are left out
 * again, and positions the edit moved or added get 6 decimals and are wrapped like
 * {@link storedGeometry}'s.
 */
export function restoredGeometry(edited: Geometry, stored: Geometry, offset: number): Geometry {
  const before = new Map<string, (Position | null)[]>();
  pairUp(shiftGeometry(shownGeometry(stored).geometry, offset), stored, (shown, kept) => {
    const key = keyOf(shown);
    const queue = before.get(key);
    if (queue) queue.push(kept);
    else before.set(key, [kept]);
  });
  const take = (p: Position): Position | null | undefined => {
    const queue = before.get(keyOf(p));
    return queue && queue.length > 0 ? queue.shift() : undefined;
  };
  const line = (shown: Position[]): Position[] => {
    const found = shown.map(take);
    const kept = densified(shown, (i) => found[i] !== undefined);
    const out: Position[] = [];
    let j = 0;
    for (const p of kept) {
      const was = p === shown[j] ? found[j++] : undefined;
      if (was === null) continue;
      out.push(was ?? fresh(p));
    }
    return out;
  };
  const ring = (shown: Position[]): Position[] => {
    const out = line(shown);
    const [first, last] = [out[0], out[out.length - 1]];
    if (first && (first[0] !== last[0] || first[1] !== last[1])) out.push(first);
    return out;
  };
  const point = (p: Position) => take(p) ?? fresh(p);
  switch (edited.type) {
    case "Polygon":
      return { type: edited.type, coordinates: edited.coordinates.map(ring) };
    case "MultiPolygon":
      return { type: edited.type, coordinates: edited.coordinates.map((p) => p.map(ring)) };
    default:
      return mapLines(edited, line, point);
  }
}

/**
 * Matches a position the edit left alone: Geoman recomputes some (a rectangle's far corner) with
 * float noise in the 15th digit, so positions within a nanodegree count as the same.
 */
function keyOf(p: Position): string {
  return `${Math.round(p[0] * 1e9)},${Math.round(p[1] * 1e9)}`;
}

/** A position the edit moved or added: 6 decimals (about 10 cm, as Leaflet writes), in range. */
function fresh(p: Position): Position {
  const [lng, lat] = [Math.round(p[0] * 1e6) / 1e6, Math.round(p[1] * 1e6) / 1e6];
  return wrapped(p.length > 2 ? [lng, lat, ...p.slice(2)] : [lng, lat]);
}

/**
 * Calls `visit` with each shown position and the stored one it came from (null for a position
 * added to close a ring round a pole); `shown` has the structure of `stored`.
 */
function pairUp(
  shown: Geometry,
  stored: Geometry,
  visit: (shown: Position, stored: Position | null) => void,
): void {
  const lines = (a: Position[], b: Position[]) => a.forEach((p, i) => visit(p, b[i] ?? null));
  if (shown.type === "Point" && stored.type === "Point") {
    visit(shown.coordinates, stored.coordinates);
  } else if (
    (shown.type === "MultiPoint" || shown.type === "LineString") &&
    stored.type === shown.type
  ) lines(shown.coordinates, stored.coordinates);
  else if (
    (shown.type === "MultiLineString" || shown.type === "Polygon") && stored.type === shown.type
  ) shown.coordinates.forEach((l, i) => lines(l, stored.coordinates[i]));
  else if (shown.type === "MultiPolygon" && stored.type === "MultiPolygon") {
    shown.coordinates.forEach((p, i) => p.forEach((l, j) => lines(l, stored.coordinates[i][j])));
  } else if (shown.type === "GeometryCollection" && stored.type === "GeometryCollection") {
    shown.geometries.forEach((c, i) => pairUp(c, stored.geometries[i], visit));
  }
}
