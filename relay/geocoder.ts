/** The optional online geocoder (`--geocoder URL`): a Nominatim-compatible search behind a cache and rate limits. */
import type { Place } from "./places.ts";
import type { Logger } from "./log.ts";
import { TokenBucket } from "./token_bucket.ts";

export type { Place };

/** What a search came to: places, or an HTTP status and a sentence saying why not. */
export type GeocodeResult =
  | { ok: true; places: Place[] }
  | { ok: false; status: 429 | 502 | 504; detail: string; retryAfter?: number };

/** Options for {@link Geocoder}. */
export interface GeocoderOptions {
  /** Base URL of a Nominatim-compatible service; `/search` is appended. */
  url: string;
  /** Sent as `User-Agent`, as Nominatim's usage policy asks: it names the application. */
  userAgent: string;
  /** Time allowed for one upstream answer, in ms. @default 5000 */
  timeoutMs?: number;
  /** Searches remembered. @default 500 */
  cacheSize?: number;
  /** How long a remembered answer is used, in ms. @default 3600000 */
  cacheMs?: number;
  /** Upstream requests per second, for the whole relay (Nominatim's policy: 1). @default 1 */
  upstreamRate?: number;
  /** Searches per second per client address (cached ones too). @default 2 */
  perAddressRate?: number;
  /** Searches one address may make at once. @default 5 */
  perAddressBurst?: number;
  /** Clock in ms. @default performance.now */
  now?: () => number;
  /** Waits `ms`; tests pass a fake. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Where failed upstream requests are logged (`geocoder_failed`), so an operator sees a block. */
  logger?: Logger;
}

// A search waits this long at most for its upstream turn before it is refused with 429.
const MAX_QUEUE_MS = 2000;
// Addresses whose buckets are remembered; the oldest are forgotten first.
const MAX_ADDRESSES = 4096;

/**
 * Answers searches from a Nominatim-compatible service: identical searches share one upstream
 * request and are remembered (LRU), upstream requests are spaced to `upstreamRate` a second for
 * the whole relay (a search waits up to 2 s for its turn, else 429), and each address is limited.
 *
 * @example
 * ```ts
 * import { Geocoder } from "./geocoder.ts";
 * const geocoder = new Geocoder({ url: "https://nominatim.example.org", userAgent: "DuplexMap/1" });
 * const result = await geocoder.search("Zürich", "127.0.0.1");
 * ```
 */
export class Geocoder {
  #url: string;
  #userAgent: string;
  #timeoutMs: number;
  #cacheSize: number;
  #cacheMs: number;
  #spacingMs: number;
  #perAddressRate: number;
  #perAddressBurst: number;
  #now: () => number;
  #sleep: (ms: number) => Promise<void>;
  #fetch: typeof fetch;
  #logger: Logger | undefined;
  #cache = new Map<string, { at: number; result: Promise<GeocodeResult> }>();
  #addresses = new Map<string, TokenBucket>();
  #nextSlot = -Infinity;

  constructor(options: GeocoderOptions) {
    if (!URL.canParse(options.url) || !/^https?:$/.test(new URL(options.url).protocol)) {
      throw new TypeError(
        `Cannot create Geocoder as 'url' must be an http(s) URL: received ${options.url}`,
      );
    }
    this.#url = options.url.replace(/\/+$/, "");
    this.#userAgent = options.userAgent;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#cacheSize = options.cacheSize ?? 500;
    this.#cacheMs = options.cacheMs ?? 3_600_000;
    this.#spacingMs = 1000 / (options.upstreamRate ?? 1);
    this.#perAddressRate = options.perAddressRate ?? 2;
    this.#perAddressBurst = options.perAddressBurst ?? 5;
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#logger = options.logger;
  }

  /** Searches for `query` on behalf of `address`, in the language `language` if given. */
  search(query: string, address: string, language = ""): Promise<GeocodeResult> {
    if (!this.#bucket(address).take()) {
      return Promise.resolve({
        ok: false,
        status: 429,
        detail: "too many searches from this address; wait a second",
        retryAfter: 1,
      });
    }
    const key = `${language}\n${query.trim().toLowerCase().replace(/\s+/g, " ")}`;
    const now = this.#now();
    const hit = this.#cache.get(key);
    if (hit && now - hit.at < this.#cacheMs) {
      // Re-inserting makes it the most recently used.
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return hit.result;
    }
    const slot = Math.max(now, this.#nextSlot);
    if (slot - now > MAX_QUEUE_MS) {
      return Promise.resolve({
        ok: false,
        status: 429,
        detail: "the online geocoder is busy (one request a second); try again shortly",
        retryAfter: Math.ceil((slot - now - MAX_QUEUE_MS) / 1000) || 1,
      });
    }
    this.#nextSlot = slot + this.#spacingMs;
    const result = this.#sleep(slot - now).then(() => this.#upstream(query, language));
    void result.then((r) => {
      // Never the query: what people search for is theirs.
      if (!r.ok) this.#logger?.log("geocoder_failed", { status: r.status, detail: r.detail });
    });
    this.#remember(key, { at: now, result });
    // Failures are not remembered: the next search asks again.
    void result.then((r) => {
      if (!r.ok && this.#cache.get(key)?.result === result) this.#cache.delete(key);
    });
    return result;
  }

  #remember(key: string, entry: { at: number; result: Promise<GeocodeResult> }): void {
    this.#cache.delete(key);
    this.#cache.set(key, entry);
    while (this.#cache.size > this.#cacheSize) {
      this.#cache.delete(this.#cache.keys().next().value as string);
    }
  }

  #bucket(address: string): TokenBucket {
    let bucket = this.#addresses.get(address);
    if (bucket) return bucket;
    bucket = new TokenBucket({
      rate: this.#perAddressRate,
      burst: this.#perAddressBurst,
      now: this.#now,
    });
    this.#addresses.set(address, bucket);
    if (this.#addresses.size > MAX_ADDRESSES) {
      this.#addresses.delete(this.#addresses.keys().next().value as string);
    }
    return bucket;
  }

  async #upstream(query: string, language: string): Promise<GeocodeResult> {
    const url = new URL(`${this.#url}/search`);
    url.search = new URLSearchParams({
      format: "jsonv2",
      limit: "10",
      addressdetails: "1",
      q: query,
    }).toString();
    const headers: Record<string, string> = { "user-agent": this.#userAgent };
    if (language) headers["accept-language"] = language;
    try {
      const res = await this.#fetch(url, {
        headers,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      if (!res.ok) {
        await res.body?.cancel();
        return { ok: false, status: 502, detail: `the online geocoder answered ${res.status}` };
      }
      const body: unknown = await res.json();
      if (!Array.isArray(body)) {
        return { ok: false, status: 502, detail: "the online geocoder's answer is not a list" };
      }
      return { ok: true, places: body.flatMap((r) => toPlace(r) ?? []) };
    } catch (err) {
      if (err instanceof DOMException && err.name === "TimeoutError") {
        return {
          ok: false,
          status: 504,
          detail: `the online geocoder did not answer within ${this.#timeoutMs / 1000} s`,
        };
      }
      return { ok: false, status: 502, detail: "the online geocoder could not be reached" };
    }
  }
}

/** One Nominatim `jsonv2` result as a Place, or null when it lacks a position. */
export function toPlace(raw: unknown): Place | null {
  if (raw === null || typeof raw !== "object") return null;
  const r = raw as Record<string, unknown>;
  const num = (v: unknown) =>
    typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  const lat = num(r.lat);
  const lon = num(r.lon);
  if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) return null;
  const display = typeof r.display_name === "string" ? r.display_name : "";
  const parts = display.split(",").map((s) => s.trim()).filter(Boolean);
  const address = (r.address !== null && typeof r.address === "object" ? r.address : {}) as Record<
    string,
    unknown
  >;
  const text = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v : undefined);
  const place: Place = {
    name: text(r.name) ?? parts[0] ?? `${lat}, ${lon}`,
    country: text(address.country) ?? (parts.length > 1 ? parts[parts.length - 1] : ""),
    lat,
    lon,
    population: 0,
  };
  const admin1 = text(address.state) ?? text(address.province) ?? text(address.region);
  if (admin1) place.admin1 = admin1;
  // Nominatim's boundingbox is [south, north, west, east], as strings.
  const bb = Array.isArray(r.boundingbox) ? r.boundingbox.map(Number) : [];
  if (bb.length === 4 && bb.every(Number.isFinite)) place.bbox = [bb[2], bb[0], bb[3], bb[1]];
  return place;
}
