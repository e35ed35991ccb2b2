/** Shapes across the 180th meridian, drawn as one shape on a flat map: stored positions to shown ones. */
import type { Geometry, Position } from "../../relay/geometry.ts";

/** `[west, south, east, north]` of a shown shape; west..east may reach past ±180. */
export type Box = [number, number, number, number];

/** A geometry as drawn: longitudes moved by multiples of 360 so that it is one shape. */
export interface Shown {
  geometry: Geometry;
  /** Its box, or null when it has no positions. */
  box: Box | null;
}

/**
 * Stored positions stay within -180..180; an edge whose ends are more than 180° apart in longitude
 * crosses the antimeridian (the short way round), which is how Natural Earth and the web client
 * store such shapes. Moving each later position by 360° after such a jump keeps the line local.
 * Returns `line` itself when it has no jump; `offset` is where the line ended (0 unless it went
 * round a pole).
 */
export function unwrapLine(line: Position[]): { line: Position[]; offset: number } {
  let offset = 0;
  let out: Position[] | null = null;
  for (let i = 1; i < line.length; i++) {
    const d = line[i][0] - line[i - 1][0];
    if (d > 180) offset -= 360;
    else if (d < -180) offset += 360;
    if (offset !== 0 && out === null) out = line.slice(0, i);
    if (out) out.push(offset === 0 ? line[i] : moved(line[i], offset));
  }
  return { line: out ?? line, offset };
}

/**
 * The basemap's form of {@link unwrapLine} for one ring: a ring around a pole (Antarctica), which
 * does not close after unwrapping, is returned as it is.
 */
export function unwrapRing(ring: number[][]): number[][] {
  const { line, offset } = unwrapLine(ring);
  return offset === 0 ? line : ring;
}

/**
 * Where a stored geometry is drawn: each line and ring unwrapped ({@link unwrapLine}); a ring
 * around a pole closed along that pole (so Antarctica fills to the map's edge, with no band along
 * its closing edge); holes beside their outer ring; the parts of a multi-geometry (Fiji's islands
 * on both sides of 180, Chukotka, the Aleutians) gathered where the widest empty span of
 * longitude lets them sit together; the whole moved by 360° steps so its middle lies in
 * -180..180. A geometry that needs none of this is returned as it is (the same object).
 *
 * @example
 * ```ts
 * import { shownGeometry } from "./antimeridian.ts";
 * const ring = [[170, 0], [-170, 0], [-170, 10], [170, 10], [170, 0]];
 * shownGeometry({ type: "Polygon", coordinates: [ring] }).geometry;
 * // { type: "Polygon", coordinates: [[[170, 0], [190, 0], [190, 10], [170, 10], [170, 0]]] }
 * ```
 */
export function shownGeometry(g: Geometry): Shown {
  const shown = arranged(g);
  if (!shown.box) return shown;
  const shift = centring(shown.box);
  return shift === 0
    ? shown
    : { geometry: shiftGeometry(shown.geometry, shift), box: moveBox(shown.box, shift) };
}

/** `g` with every longitude plus `dx` (a multiple of 360); `g` itself when `dx` is 0. */
export function shiftGeometry(g: Geometry, dx: number): Geometry {
  if (dx === 0) return g;
  const f = (p: Position) => moved(p, dx);
  switch (g.type) {
    case "Point":
      return { type: g.type, coordinates: f(g.coordinates) };
    case "MultiPoint":
    case "LineString":
      return { type: g.type, coordinates: g.coordinates.map(f) };
    case "MultiLineString":
    case "Polygon":
      return { type: g.type, coordinates: g.coordinates.map((r) => r.map(f)) };
    case "MultiPolygon":
      return { type: g.type, coordinates: g.coordinates.map((p) => p.map((r) => r.map(f))) };
    case "GeometryCollection":
      return { type: g.type, geometries: g.geometries.map((c) => shiftGeometry(c, dx)) };
  }
}

/**
 * Which copy of the world a shape with box `box` is drawn on, as a multiple of 360 to add: 0 while
 * the box meets the view `[west, east]`, else the copy nearest the view's middle if that one meets
 * it (a point at -179.9 seen from a view around 175 is drawn at 180.1), else 0.
 */
export function copyOffset(box: Box, view: [number, number]): number {
  const [west, , east] = box;
  const [vw, ve] = view;
  if (east >= vw && west <= ve) return 0;
  const k = Math.round(((vw + ve) / 2 - (west + east) / 2) / 360);
  return k !== 0 && east + 360 * k >= vw && west + 360 * k <= ve ? 360 * k : 0;
}

/**
 * The smallest box holding all `boxes`, each free to move by 360° steps (so Fiji and a point at
 * -179.9 make a small box around 180, not the whole world); null when there are none.
 */
export function coveringBox(boxes: readonly Box[]): Box | null {
  if (boxes.length === 0) return null;
  const shifts = gather(boxes);
  let [west, south, east, north] = [Infinity, Infinity, -Infinity, -Infinity];
  boxes.forEach((b, i) => {
    west = Math.min(west, b[0] + shifts[i]);
    east = Math.max(east, b[2] + shifts[i]);
    south = Math.min(south, b[1]);
    north = Math.max(north, b[3]);
  });
  const box: Box = [west, south, east, north];
  return moveBox(box, centring(box));
}

/** The shift that puts a box's middle in -180..180. */
function centring(box: Box): number {
  const mid = (box[0] + box[2]) / 2;
  return mid > 180 || mid < -180 ? -360 * Math.round(mid / 360) : 0;
}

function moveBox(b: Box, dx: number): Box {
  return dx === 0 ? b : [b[0] + dx, b[1], b[2] + dx, b[3]];
}

function moved(p: Position, dx: number): Position {
  return p.length > 2 ? [p[0] + dx, p[1], ...p.slice(2)] : [p[0] + dx, p[1]];
}

/**
 * Shifts (multiples of 360) that put every box beside the others: each box is first centred, then
 * the circle of longitudes is cut at the widest span no box covers and every box is placed east of
 * the cut. A box as wide as the world (a ring around a pole) leaves them all centred.
 */
function gather(boxes: readonly Box[]): number[] {
  const own = boxes.map(centring);
  if (boxes.some((b) => b[2] - b[0] >= 360)) return own;
  const order = boxes.map((_, i) => i).sort((a, b) =>
    boxes[a][0] + own[a] - (boxes[b][0] + own[b])
  );
  const w = (i: number) => boxes[i][0] + own[i];
  const e = (i: number) => boxes[i][2] + own[i];
  let reach = -Infinity;
  for (const i of order) reach = Math.max(reach, e(i));
  // The span from the easternmost reach round to the first west edge: cutting there moves nothing.
  let widest = w(order[0]) + 360 - reach;
  let start = w(order[0]);
  reach = e(order[0]);
  for (const i of order.slice(1)) {
    if (w(i) - reach > widest) {
      widest = w(i) - reach;
      start = w(i);
    }
    reach = Math.max(reach, e(i));
  }
  return own.map((s, i) => s + (w(i) < start ? 360 : 0));
}

function boxOf(positions: Iterable<Position>): Box | null {
  let [west, south, east, north] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const p of positions) {
    west = Math.min(west, p[0]);
    east = Math.max(east, p[0]);
    south = Math.min(south, p[1]);
    north = Math.max(north, p[1]);
  }
  return west === Infinity ? null : [west, south, east, north];
}

/** A line unwrapped, and its box. */
function shownLine(line: Position[]): { line: Position[]; box: Box | null } {
  const unwrapped = unwrapLine(line).line;
  return { line: unwrapped, box: boxOf(unwrapped) };
}

/**
 * A ring unwrapped; a ring that went round a pole is closed along it: down to the pole at its last
 * longitude, across to its first, and back up (three positions added at the end).
 */
function shownRing(ring: Position[]): Position[] {
  const { line, offset } = unwrapLine(ring);
  if (offset === 0 || line.length === 0) return line;
  const first = line[0];
  const last = line[line.length - 1];
  const pole = line.reduce((sum, p) => sum + p[1], 0) < 0 ? -90 : 90;
  return [...line, [last[0], pole], [first[0], pole], first];
}

function shownPolygon(rings: Position[][]): { rings: Position[][]; box: Box | null } {
  if (rings.length === 0) return { rings, box: null };
  const outer = shownRing(rings[0]);
  const box = boxOf(outer);
  let changed = outer !== rings[0];
  const out = [outer];
  for (const hole of rings.slice(1)) {
    let shown = shownRing(hole);
    const hb = boxOf(shown);
    if (box && hb) {
      // A hole stays inside its outer ring, whichever side of 180 each one started on.
      const dx = 360 * Math.round(((box[0] + box[2]) - (hb[0] + hb[2])) / 720);
      if (dx !== 0) shown = shown.map((p) => moved(p, dx));
    }
    changed ||= shown !== hole;
    out.push(shown);
  }
  return { rings: changed ? out : rings, box };
}

/** Parts placed together by {@link gather}; returns the parts themselves when none moved. */
function together<T>(parts: T[], boxes: (Box | null)[], shift: (part: T, dx: number) => T): {
  parts: T[];
  box: Box | null;
} {
  const present = boxes.flatMap((b, i) => b ? [{ b, i }] : []);
  if (present.length === 0) return { parts, box: null };
  const shifts = gather(present.map((x) => x.b));
  const dx = new Array<number>(parts.length).fill(0);
  present.forEach(({ i }, j) => dx[i] = shifts[j]);
  const moved = dx.some((d) => d !== 0) ? parts.map((p, i) => shift(p, dx[i])) : parts;
  let [west, south, east, north] = [Infinity, Infinity, -Infinity, -Infinity];
  present.forEach(({ b, i }) => {
    west = Math.min(west, b[0] + dx[i]);
    east = Math.max(east, b[2] + dx[i]);
    south = Math.min(south, b[1]);
    north = Math.max(north, b[3]);
  });
  return { parts: moved, box: [west, south, east, north] };
}

/** Everything {@link shownGeometry} does but the final centring. */
function arranged(g: Geometry): Shown {
  switch (g.type) {
    case "Point": {
      const [x, y] = g.coordinates;
      return { geometry: g, box: [x, y, x, y] };
    }
    case "LineString": {
      const { line, box } = shownLine(g.coordinates);
      return { geometry: line === g.coordinates ? g : { type: g.type, coordinates: line }, box };
    }
    case "Polygon": {
      const { rings, box } = shownPolygon(g.coordinates);
      return { geometry: rings === g.coordinates ? g : { type: g.type, coordinates: rings }, box };
    }
    case "MultiPoint": {
      const boxes = g.coordinates.map((p): Box => [p[0], p[1], p[0], p[1]]);
      const { parts, box } = together(g.coordinates, boxes, moved);
      return { geometry: parts === g.coordinates ? g : { type: g.type, coordinates: parts }, box };
    }
    case "MultiLineString": {
      const lines = g.coordinates.map(shownLine);
      const { parts, box } = together(
        lines.map((l) => l.line),
        lines.map((l) => l.box),
        (line, dx) => line.map((p) => moved(p, dx)),
      );
      return {
        geometry: parts.every((l, i) => l === g.coordinates[i])
          ? g
          : { type: g.type, coordinates: parts },
        box,
      };
    }
    case "MultiPolygon": {
      const polygons = g.coordinates.map(shownPolygon);
      const { parts, box } = together(
        polygons.map((p) => p.rings),
        polygons.map((p) => p.box),
        (rings, dx) => rings.map((r) => r.map((p) => moved(p, dx))),
      );
      return {
        geometry: parts.every((p, i) => p === g.coordinates[i])
          ? g
          : { type: g.type, coordinates: parts },
        box,
      };
    }
    case "GeometryCollection": {
      const children = g.geometries.map(arranged);
      const { parts, box } = together(
        children.map((c) => c.geometry),
        children.map((c) => c.box),
        shiftGeometry,
      );
      return {
        geometry: parts.every((c, i) => c === g.geometries[i])
          ? g
          : { type: g.type, geometries: parts },
        box,
      };
    }
  }
}
