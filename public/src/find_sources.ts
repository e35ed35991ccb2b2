/** The search box's remote sources (`/api/places`, `/api/geocode`): debounced, aborted when outrun, stale answers dropped. */
import type { Place } from "../../relay/places.ts";
import type { Timers } from "../../relay/timers.ts";

export type { Place };

/** Options for {@link PlaceSource}. */
export interface PlaceSourceOptions {
  /** The endpoint, e.g. `/api/places`; `?q=` is added. */
  url: string;
  /** Typing pause before asking, in ms. */
  delayMs: number;
  /** Sent as `&limit=` when given. */
  limit?: number;
  /** Queries shorter than this (after trimming) are not sent. @default 1 */
  minLength?: number;
  /**
   * Called with the places for the query that is still current; after an error, with none and
   * what went wrong (the `detail` of the relay's problem document, e.g. a 429's or a 504's).
   */
  onPlaces(query: string, places: Place[], problem?: string): void;
  /** Timers (tests pass fakes). */
  timers: Pick<Timers, "setTimeout" | "clearTimeout">;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * Asks an endpoint for places as a person types: only after a pause, one request at a time
 * (a newer query aborts the older request), and an answer is delivered only while its query is
 * still the current one, so a slow answer never replaces a newer one. Failures give no places.
 *
 * @example
 * ```ts
 * const places = new PlaceSource({
 *   url: "/api/places", delayMs: 150, timers: systemTimers(),
 *   onPlaces: (q, found) => console.log(q, found),
 * });
 * places.query("Zür");
 * ```
 */
export class PlaceSource {
  #options: PlaceSourceOptions;
  #fetch: typeof fetch;
  #current = "";
  #timer: number | undefined;
  #request: AbortController | null = null;

  constructor(options: PlaceSourceOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** The query is now `text`: ask after the pause (or answer "none" at once when too short). */
  query(text: string): void {
    const q = text.trim();
    if (q === this.#current) return;
    this.#current = q;
    this.#options.timers.clearTimeout(this.#timer);
    this.#request?.abort();
    this.#request = null;
    if (q.length < (this.#options.minLength ?? 1)) {
      this.#options.onPlaces(q, []);
      return;
    }
    this.#timer = this.#options.timers.setTimeout(() => void this.#ask(q), this.#options.delayMs);
  }

  /** Stops whatever is pending; nothing is delivered afterwards. */
  close(): void {
    this.#options.timers.clearTimeout(this.#timer);
    this.#request?.abort();
    this.#current = "\u0000closed";
  }

  async #ask(q: string): Promise<void> {
    const request = new AbortController();
    this.#request = request;
    let places: Place[] = [];
    let problem: string | undefined;
    try {
      const limit = this.#options.limit ? `&limit=${this.#options.limit}` : "";
      const res = await this.#fetch(`${this.#options.url}?q=${encodeURIComponent(q)}${limit}`, {
        signal: request.signal,
      });
      const body: unknown = await res.json().catch(() => null);
      if (res.ok && body !== null && typeof body === "object" && "places" in body) {
        places = Array.isArray(body.places) ? body.places.filter(isPlace) : [];
      } else if (!res.ok) {
        const detail = body !== null && typeof body === "object" && "detail" in body
          ? String(body.detail)
          : `the server answered ${res.status}`;
        problem = detail;
      }
    } catch {
      // Aborted or offline: no places from this source.
      problem = "the server could not be reached";
    }
    if (q !== this.#current || request.signal.aborted) return;
    this.#request = null;
    this.#options.onPlaces(q, places, problem);
  }
}

function isPlace(p: unknown): p is Place {
  if (p === null || typeof p !== "object") return false;
  const r = p as Record<string, unknown>;
  return typeof r.name === "string" && typeof r.lat === "number" && typeof r.lon === "number" &&
    Math.abs(r.lat) <= 90 && Math.abs(r.lon) <= 180;
}

/**
 * The zoom that shows a place of this population: a city whole, a village with its streets.
 *
 * @example
 * ```ts
 * zoomForPopulation(8_000_000); // 10
 * ```
 */
export function zoomForPopulation(population: number): number {
  if (population >= 5_000_000) return 10;
  if (population >= 1_000_000) return 11;
  if (population >= 100_000) return 12;
  if (population >= 10_000) return 13;
  return 14;
}

/**
 * Where a place is, for its second line: its region and its country, a country code named in
 * the reader's language (`CH` -> "Switzerland").
 *
 * @example
 * ```ts
 * placeDetail({ name: "Hyde", country: "GB", admin1: "ENG", lat: 53.45, lon: -2.08, population: 34000 }, "en");
 * // "ENG, United Kingdom"
 * ```
 */
export function placeDetail(place: Place, language: string): string {
  return [place.admin1, countryName(place.country, language)].filter(Boolean).join(", ");
}

function countryName(country: string, language: string): string {
  if (!/^[A-Z]{2}$/.test(country)) return country;
  try {
    return new Intl.DisplayNames([language], { type: "region" }).of(country) ?? country;
  } catch {
    return country;
  }
}
