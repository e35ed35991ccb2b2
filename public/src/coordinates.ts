/** Reads a position a person typed (decimal or degrees-minutes-seconds, either order) into lat/lon. */

/** One way to read what was typed. */
export interface CoordinateReading {
  /** Latitude in degrees, -90..90. */
  lat: number;
  /** Longitude in degrees, -180..180. */
  lon: number;
  /**
   * What decided the order: hemisphere `letters`, the `lat-lon` convention, the `lon-lat` order
   * (GeoJSON `[lon, lat]`, WKT `POINT(lon lat)`, or a first number beyond 90).
   */
  order: "letters" | "lat-lon" | "lon-lat";
}

/** One typed number with its hemisphere letter, if it had one. */
interface Component {
  value: number;
  axis: "lat" | "lon" | null;
}

// Only these characters can be part of a position; anything else is a name, not coordinates.
const ALLOWED = /^[\d\s.,;+\-°'"NSEW]+$/;
const NUMBER = String.raw`\d+(?:\.\d+)?`;
const COMPONENT = new RegExp(
  String.raw`^([NSEW])?\s*([+-])?\s*(${NUMBER})\s*°?` +
    String.raw`(?:\s*(${NUMBER})\s*'?(?:\s*(${NUMBER})\s*"?)?)?\s*([NSEW])?$`,
);

/**
 * The readings of `text` as a position, most likely first; empty when it is not one.
 *
 * With hemisphere letters (`47.37N 8.54E`, `S`/`W` negative) the letters decide the order. A
 * GeoJSON pair `[8.54, 47.37]` or WKT `POINT(8.54 47.37)` is lon, lat. Otherwise the first
 * number is the latitude (the convention of Google Maps and most gazetteers) unless it is beyond
 * ±90, which only a longitude can be. When both orders are valid and differ, both readings are
 * returned (lat, lon first): people paste GeoJSON-ordered pairs, and a silent wrong guess would
 * fly them to another continent, while a second row in the list costs nothing.
 *
 * @example
 * ```ts
 * parseCoordinates(`47°22'12"N 8°32'24"E`); // [{ lat: 47.37, lon: 8.54, order: "letters" }]
 * parseCoordinates("47.37, 8.54"); // lat, lon first, then the lon, lat reading
 * parseCoordinates("Zürich"); // []
 * ```
 */
export function parseCoordinates(text: string): CoordinateReading[] {
  let s = normalize(text);
  let lonFirst = false;
  const wrapped = /^\[(.*)\]$/.exec(s) ?? /^POINT\s*\((.*)\)$/.exec(s);
  if (wrapped) {
    s = wrapped[1].trim();
    lonFirst = true;
  }
  if (s === "" || !ALLOWED.test(s)) return [];
  const parts = split(s);
  if (!parts) return [];
  const a = component(parts[0]);
  const b = component(parts[1]);
  if (!a || !b) return [];
  if (a.axis !== null || b.axis !== null) {
    if (lonFirst) return [];
    const aAxis = a.axis ?? (b.axis === "lat" ? "lon" : "lat");
    const bAxis = b.axis ?? (aAxis === "lat" ? "lon" : "lat");
    if (aAxis === bAxis) return [];
    const [lat, lon] = aAxis === "lat" ? [a.value, b.value] : [b.value, a.value];
    return valid(lat, lon) ? [{ lat, lon, order: "letters" }] : [];
  }
  const readings: CoordinateReading[] = [];
  if (!lonFirst && valid(a.value, b.value)) {
    readings.push({ lat: a.value, lon: b.value, order: "lat-lon" });
  }
  if (valid(b.value, a.value) && (a.value !== b.value || readings.length === 0)) {
    readings.push({ lat: b.value, lon: a.value, order: "lon-lat" });
  }
  return readings;
}

/** Typographic marks to ASCII, upper case, trimmed. */
function normalize(text: string): string {
  return text.trim().toUpperCase()
    .replace(/[º˚]/g, "°")
    .replace(/[″“”]|''|′′/g, '"')
    .replace(/[′‘’`´]/g, "'")
    .replace(/[−–]/g, "-")
    .replace(/\s+/g, " ");
}

/** The two halves of a position, or null when they cannot be told apart. */
function split(s: string): [string, string] | null {
  const separators = s.match(/[,;]/g) ?? [];
  if (separators.length === 1) {
    const at = s.search(/[,;]/);
    return [s.slice(0, at), s.slice(at + 1)];
  }
  if (separators.length > 1) return null;
  const letters = [...s.matchAll(/[NSEW]/g)].map((m) => m.index);
  if (letters.length === 2) {
    // A letter before the first number starts each half (`N47 E8`); otherwise it ends one.
    const at = /^[NSEW]/.test(s) ? letters[1] : letters[0] + 1;
    return [s.slice(0, at), s.slice(at)];
  }
  if (letters.length > 2) return null;
  const degrees = [...s.matchAll(new RegExp(String.raw`[+-]?\s*${NUMBER}\s*°`, "g"))];
  if (degrees.length === 2) return [s.slice(0, degrees[1].index), s.slice(degrees[1].index)];
  if (degrees.length > 2) return null;
  // No separator, letter or degree sign between them: split the numbers in half (degrees,
  // degrees minutes, or degrees minutes seconds each).
  const numbers = [...s.matchAll(new RegExp(String.raw`[+-]?${NUMBER}`, "g"))];
  const n = numbers.length;
  if (n !== 2 && n !== 4 && n !== 6) return null;
  let at = numbers[n / 2].index;
  // A lone letter right before the second half's first number (`47.37 E8.54`) is its prefix.
  const l = letters.length === 1 ? letters[0] : -1;
  if (l > 0 && s[l - 1] === " " && /^[NSEW][+-]?\d/.test(s.slice(l))) {
    if (s.slice(l + 1, at).trim() === "") at = l;
  }
  return [s.slice(0, at), s.slice(at)];
}

/** One half: degrees, optional minutes and seconds, an optional sign or hemisphere letter. */
function component(part: string): Component | null {
  const m = COMPONENT.exec(part.trim());
  if (!m) return null;
  const [, pre, sign, deg, min, sec, post] = m;
  if (pre && post) return null;
  const letter = pre ?? post ?? null;
  // "-47 S" says the hemisphere twice, possibly two different ways: refuse to guess.
  if (letter && sign) return null;
  // Only the last part given may have a fraction: 47.5° 30' means nothing.
  if (min !== undefined && deg.includes(".")) return null;
  if (sec !== undefined && min?.includes(".")) return null;
  const minutes = min === undefined ? 0 : Number(min);
  const seconds = sec === undefined ? 0 : Number(sec);
  if (minutes >= 60 || seconds >= 60) return null;
  const magnitude = Number(deg) + minutes / 60 + seconds / 3600;
  const negative = sign === "-" || letter === "S" || letter === "W";
  return {
    value: negative ? -magnitude : magnitude,
    axis: letter === null ? null : letter === "N" || letter === "S" ? "lat" : "lon",
  };
}

function valid(lat: number, lon: number): boolean {
  return Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
}

/**
 * A position as people read it, e.g. `47.37000° N, 8.54000° E` (5 decimals: about a metre).
 *
 * @example
 * ```ts
 * formatLatLon(-33.8688, 151.2093); // "33.86880° S, 151.20930° E"
 * ```
 */
export function formatLatLon(lat: number, lon: number): string {
  const part = (v: number, pos: string, neg: string) =>
    `${Math.abs(v).toFixed(5)}° ${v < 0 ? neg : pos}`;
  return `${part(lat, "N", "S")}, ${part(lon, "E", "W")}`;
}
