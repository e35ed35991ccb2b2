/** The offline gazetteer: GeoNames places searched by name prefix or picked by bounding box. */

/** One place, as `GET /api/places` and `GET /api/geocode` answer it (docs/PROTOCOL.md). */
export interface Place {
  name: string;
  /** ISO 3166-1 alpha-2 code. */
  country: string;
  /** The first-level division's code where it is a letter code (US "NY", CH "ZH"). */
  admin1?: string;
  lat: number;
  lon: number;
  /** Unknown (0) for online results: Nominatim does not say. */
  population: number;
  /** West, south, east, north, when the online geocoder gives an extent. */
  bbox?: [number, number, number, number];
}

/** A box in degrees; `west > east` means it crosses the antimeridian. */
export interface BBox {
  west: number;
  south: number;
  east: number;
  north: number;
}

/** What {@link parsePlaces} builds. */
export interface PlaceIndex {
  /** How many places it holds. */
  readonly size: number;
  /**
   * Places with a name (or ASCII or alternate name) starting with `query`, ignoring case and
   * accents: exact matches first, then by population.
   */
  search(query: string, limit: number): Place[];
  /** The `limit` most populous places inside `box`. */
  within(box: BBox, limit: number): Place[];
}

// Letters NFD does not split into a base letter and a mark.
const FOLDS: Record<string, string> = {
  "ł": "l",
  "ø": "o",
  "đ": "d",
  "ħ": "h",
  "ı": "i",
  "æ": "ae",
  "œ": "oe",
  "ß": "ss",
  "þ": "th",
};

/**
 * The form names and queries are compared in: NFD with the marks taken off, lower case, a few
 * letters that have no decomposition folded, runs of spaces made one, leading spaces dropped (a
 * trailing space stays: "new " should not match "newark").
 *
 * @example
 * ```ts
 * normalizeName("  São   Paulo"); // "sao paulo"
 * ```
 */
export function normalizeName(text: string): string {
  // Most names are plain ASCII: skip the Unicode passes for them (the index folds ~280k names).
  if (PLAIN.test(text)) {
    const lower = text.toLowerCase();
    return ODD_SPACES.test(lower) ? lower.replace(SPACES, " ").trimStart() : lower;
  }
  return text.normalize("NFD").replace(/\p{M}+/gu, "").toLowerCase()
    .replace(/[łøđħıæœßþ]/g, (c) => FOLDS[c])
    .replace(SPACES, " ").trimStart();
}

const PLAIN = /^[\x20-\x7e]*$/;
const SPACES = /\s+/g;
const ODD_SPACES = /^\s|\s\s|[^\S ]/;

/**
 * Builds the index from the gazetteer text scripts/build_places.ts writes: a `#` header, then
 * `name \t ascii \t alternates \t country \t admin1 \t lat \t lon \t population` per line, most
 * populous first. Place numbers are line order, so a smaller number means a bigger place.
 */
export function parsePlaces(text: string): PlaceIndex {
  const names: string[] = [];
  const countries: string[] = [];
  const regions: string[] = [];
  const coords: number[] = [];
  const populations: number[] = [];
  const keys: string[] = [];
  const owners: number[] = [];
  const alternate: boolean[] = [];
  const addKey = (key: string, id: number, alt: boolean) => {
    keys.push(key);
    owners.push(id);
    alternate.push(alt);
  };
  // Read field by field with indexOf: splitting 200k lines into arrays made ~100 MB of garbage.
  for (let start = 0; start < text.length;) {
    const end = text.indexOf("\n", start) < 0 ? text.length : text.indexOf("\n", start);
    if (end > start && text[start] !== "#") {
      const fields: string[] = [];
      for (let at = start; at <= end;) {
        const tab = text.indexOf("\t", at);
        const stop = tab < 0 || tab > end ? end : tab;
        fields.push(text.slice(at, stop));
        at = stop + 1;
      }
      const [name, ascii, alternates, country, admin1, lat, lon, population] = fields;
      const id = names.length;
      names.push(name);
      countries.push(country);
      regions.push(admin1);
      coords.push(Number(lat), Number(lon));
      populations.push(Number(population));
      const key = normalizeName(name);
      addKey(key, id, false);
      const asciiKey = ascii ? normalizeName(ascii) : key;
      if (asciiKey !== key) addKey(asciiKey, id, false);
      if (alternates) {
        const seen = [key, asciiKey];
        for (const alt of alternates.split(",")) {
          const altKey = normalizeName(alt);
          if (seen.includes(altKey)) continue;
          seen.push(altKey);
          addKey(altKey, id, true);
        }
      }
    }
    start = end + 1;
  }
  // Sorted by key, then by place number: within one key the biggest place comes first.
  const order = Array.from(keys.keys()).sort((a, b) =>
    keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : owners[a] - owners[b]
  );
  const sortedKeys = Array.from(order, (i) => keys[i]);
  const sortedOwners = Int32Array.from(order, (i) => owners[i]);
  const sortedAlternate = Uint8Array.from(order, (i) => alternate[i] ? 1 : 0);
  const position = Float64Array.from(coords);
  const people = Float64Array.from(populations);

  const grid = new Grid(position);
  /** Answers to one- and two-letter queries by limit, kept once computed (the data never changes). */
  const shortAnswers = new Map<string, number[]>();

  const place = (id: number): Place => {
    const p: Place = {
      name: names[id],
      country: countries[id],
      lat: position[2 * id],
      lon: position[2 * id + 1],
      population: people[id],
    };
    if (regions[id]) p.admin1 = regions[id];
    return p;
  };

  return {
    size: names.length,
    search(query, limit) {
      const q = normalizeName(query);
      if (q === "") return [];
      // One or two letters match tens of thousands of names, and every search starts there.
      const cacheKey = q.length <= 2 ? `${limit} ${q}` : "";
      const cached = cacheKey ? shortAnswers.get(cacheKey) : undefined;
      if (cached) return cached.map(place);
      const exact = new Ranking(limit);
      const prefix = new Ranking(limit);
      for (let i = lowerBound(sortedKeys, q); i < sortedKeys.length; i++) {
        const key = sortedKeys[i];
        if (!key.startsWith(q)) break;
        const id = sortedOwners[i];
        // A place found only through an alternate name ranks as if a tenth of its size, so a
        // transliteration of a big city does not push out the places actually called that.
        const score = sortedAlternate[i] ? people[id] / 10 : people[id];
        (key.length === q.length ? exact : prefix).offer(id, score);
      }
      const first = exact.ids();
      const rest = prefix.ids().filter((id) => !first.includes(id));
      const ids = [...first, ...rest].slice(0, limit);
      if (cacheKey && shortAnswers.size < MAX_SHORT_ANSWERS) shortAnswers.set(cacheKey, ids);
      return ids.map(place);
    },
    within(box, limit) {
      const inside = (id: number) => {
        const lat = position[2 * id];
        const lon = position[2 * id + 1];
        if (lat < box.south || lat > box.north) return false;
        return box.west > box.east
          ? lon >= box.west || lon <= box.east
          : lon >= box.west && lon <= box.east;
      };
      const cells = grid.cells(box);
      let ids: number[] = [];
      if (cells) {
        for (const cell of cells) {
          for (let i = grid.start[cell]; i < grid.start[cell + 1]; i++) {
            if (inside(grid.ids[i])) ids.push(grid.ids[i]);
          }
        }
        ids = ids.sort((a, b) => a - b).slice(0, limit);
      } else {
        // A big box: the most populous places come first in place order, so this stops early.
        for (let id = 0; id < names.length && ids.length < limit; id++) {
          if (inside(id)) ids.push(id);
        }
      }
      return ids.map(place);
    },
  };
}

/**
 * Places by 1-degree cell, each cell's list in place order. A small box reads only its cells
 * instead of scanning every place (a city view over 200k places took ~0.5 ms that way).
 */
class Grid {
  /** Where each cell's ids begin in {@link ids}; cell `c` holds `ids[start[c]..start[c + 1])`. */
  readonly start = new Int32Array(GRID_CELLS + 1);
  readonly ids: Int32Array;

  constructor(position: Float64Array) {
    const count = position.length / 2;
    const cellOf = new Int32Array(count);
    for (let id = 0; id < count; id++) {
      cellOf[id] = cellIndex(latCell(position[2 * id]), lonCell(position[2 * id + 1]));
      this.start[cellOf[id] + 1]++;
    }
    for (let c = 0; c < GRID_CELLS; c++) this.start[c + 1] += this.start[c];
    const fill = this.start.slice(0, GRID_CELLS);
    this.ids = new Int32Array(count);
    for (let id = 0; id < count; id++) this.ids[fill[cellOf[id]]++] = id;
  }

  /** The cells a box covers, or null when there are so many that a scan is quicker. */
  cells({ west, south, east, north }: BBox): number[] | null {
    const lats = latCell(north) - latCell(south) + 1;
    const lons = west > east
      ? [[lonCell(west), 359], [0, lonCell(east)]]
      : [[lonCell(west), lonCell(east)]];
    const width = lons.reduce((n, [from, to]) => n + to - from + 1, 0);
    if (lats * width > MAX_GRID_CELLS) return null;
    const out: number[] = [];
    for (let lat = latCell(south); lat <= latCell(north); lat++) {
      for (const [from, to] of lons) {
        for (let lon = from; lon <= to; lon++) out.push(cellIndex(lat, lon));
      }
    }
    return out;
  }
}

// Enough for every one- and two-letter query at a few limits; past it, answers are computed.
const MAX_SHORT_ANSWERS = 20_000;
const GRID_CELLS = 180 * 360;
// Past this many cells (about a country), the box holds enough big places for a scan to end soon.
const MAX_GRID_CELLS = 400;
const latCell = (lat: number) => Math.min(179, Math.max(0, Math.floor(lat + 90)));
const lonCell = (lon: number) => Math.min(359, Math.max(0, Math.floor(lon + 180)));
const cellIndex = (lat: number, lon: number) => lat * 360 + lon;

/** The first index whose key is not below `q`. */
function lowerBound(sorted: readonly string[], q: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < q) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The best `limit` places by score, each once (its best score), best first. */
class Ranking {
  #ids: number[] = [];
  #scores: number[] = [];
  #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  offer(id: number, score: number): void {
    const ids = this.#ids;
    const scores = this.#scores;
    // Checked first: most offers lose to a full list (an entry's own score is never below it).
    if (ids.length >= this.#limit && score <= scores[scores.length - 1]) return;
    const at = ids.indexOf(id);
    if (at >= 0) {
      if (scores[at] >= score) return;
      ids.splice(at, 1);
      scores.splice(at, 1);
    }
    // Ties keep place order (the dump's most populous first), as later offers go after.
    let i = scores.length;
    while (i > 0 && scores[i - 1] < score) i--;
    ids.splice(i, 0, id);
    scores.splice(i, 0, score);
    if (ids.length > this.#limit) {
      ids.pop();
      scores.pop();
    }
  }

  ids(): number[] {
    return this.#ids;
  }
}
