/** Command-line and environment options of the relay, parsed with `node:util` and checked. */
import { parseArgs } from "node:util";
import {
  BasemapOptionError,
  type BasemapSpec,
  parseBasemapOptions,
  type TileSource,
} from "./basemaps/options.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import type { Limits } from "./limits.ts";

/** Everything `main.ts` needs to start the relay. */
export interface RelayOptions {
  /** Address to listen on. */
  host: string;
  /** Port to listen on. */
  port: number;
  /** Directory of the SQLite file; `null` with `--memory`. */
  dataDir: string | null;
  /** The PostgreSQL database (`postgres://…`) used instead of SQLite; `null`: SQLite. */
  store: string | null;
  /**
   * This relay's id in the `maps` rows it owns (issue 13); only used with `store`.
   * @default a random id, logged at start
   */
  relayId: string;
  /** How long a map's lease lasts without renewal, ms (renewed every min(1000, lease/3)). @default 4000 */
  leaseMs: number;
  /** Allowed browser origins; empty means "the page's own host". */
  origins: string[];
  /** Direct peers whose `X-Forwarded-For` is believed. */
  trustProxy: string[];
  /** The unnamed `--tiles URL` (the old single form), or `null`. */
  tiles: string | null;
  /** Attribution shown with the tiles. */
  tilesAttribution: string | null;
  /** Base URL of a Nominatim-compatible geocoder for online search; `null`: none. */
  geocoder: string | null;
  /** Every `--tiles` source, named or not, in the order given. */
  tileSources: TileSource[];
  /** Every `--basemap NAME=FILE`, in the order given. */
  basemaps: BasemapSpec[];
  /**
   * Start even when the write-ahead log lost acknowledged commits or `quick_check` finds damage
   * (logged); damaged maps are then refused one by one. @default false
   */
  acceptDataLoss: boolean;
  /** Origin that share links (`editUrl`, `viewUrl`) are built from; `null`: see `--public-url`. */
  publicUrl: string | null;
  /** Serve the map page with its test hook, `window.duplex`, for the browser tests. @default false */
  testHooks: boolean;
  /** The limits the relay enforces. */
  limits: Limits;
}

/** What `duplexmap backup` needs: the live database's directory and where the copy goes. */
export interface BackupOptions {
  /** Directory of the live database. */
  dataDir: string;
  /** The backup file; it must not exist yet. */
  to: string;
}

interface LimitSpec {
  key: keyof Limits;
  flag: string;
  min: number;
  help: string;
}

const LIMIT_SPECS: LimitSpec[] = [
  { key: "maxFrameBytes", flag: "max-frame-bytes", min: 256, help: "largest inbound frame" },
  { key: "helloTimeoutMs", flag: "hello-timeout-ms", min: 1, help: "time allowed for hello" },
  { key: "maxPending", flag: "max-pending", min: 1, help: "sockets before hello, in all" },
  {
    key: "maxPendingPerAddr",
    flag: "max-pending-per-addr",
    min: 1,
    help: "sockets before hello, per address",
  },
  { key: "rate", flag: "rate", min: 1, help: "messages/s per connection" },
  { key: "rateBurst", flag: "rate-burst", min: 1, help: "token bucket burst" },
  { key: "maxPeersPerMap", flag: "max-peers-per-map", min: 1, help: "peers on one map" },
  { key: "maxMaps", flag: "max-maps", min: 1, help: "maps in memory" },
  { key: "maxFeatures", flag: "max-features", min: 1, help: "features per map" },
  { key: "maxVertices", flag: "max-vertices", min: 1, help: "positions per feature" },
  { key: "maxPropsBytes", flag: "max-props-bytes", min: 2, help: "properties JSON per feature" },
  {
    key: "maxBufferedBytes",
    flag: "max-buffered-bytes",
    min: 1024,
    help: "unsent bytes per peer before 1013",
  },
  { key: "idleTimeout", flag: "idle-timeout", min: 1, help: "seconds without pong = dead" },
  { key: "evictAfterMs", flag: "evict-after-ms", min: 0, help: "idle map stays in memory" },
  { key: "recentEdits", flag: "recent-edits", min: 1, help: "edits kept for catch-up" },
  { key: "recentBytes", flag: "recent-bytes", min: 1024, help: "size of those edits at most" },
  { key: "snapshotEvery", flag: "snapshot-every", min: 1, help: "edits between snapshots" },
  { key: "maxImportBytes", flag: "max-import-bytes", min: 1024, help: "largest import body" },
  { key: "createRate", flag: "create-rate", min: 1, help: "maps created per minute per address" },
  { key: "createBurst", flag: "create-burst", min: 1, help: "maps created at once per address" },
  {
    key: "maxMapsPerAddr",
    flag: "max-maps-per-addr",
    min: 1,
    help: "maps one address has peers on at once",
  },
  { key: "bodyTimeoutMs", flag: "body-timeout-ms", min: 1, help: "time to send a request body" },
  { key: "maxComments", flag: "max-comments", min: 0, help: "comments and replies per map" },
  {
    key: "commentRate",
    flag: "comment-rate",
    min: 1,
    help: "comment requests per minute per connection",
  },
  { key: "historyDays", flag: "history-days", min: 0, help: "days of edit history kept (0: all)" },
  {
    key: "presenceTickMs",
    flag: "presence-tick-ms",
    min: 0,
    help: "cursors/views batched per map this long (0: every turn)",
  },
];

/** Options whose environment variable, holding a list, is named in the plural. */
const ENV_LISTS: Record<string, string> = {
  DUPLEXMAP_BASEMAP: "DUPLEXMAP_BASEMAPS",
  DUPLEXMAP_STORE: "DUPLEXMAP_STORE, DATABASE_URL",
};

/** A map's lease length by default (`--lease-ms`), ms. */
export const DEFAULT_LEASE_MS = 4000;

/** A relay id for a relay started without `--relay-id`: unique enough among a few relays. */
function randomRelayId(): string {
  return "relay-" + crypto.randomUUID().slice(0, 8);
}

/** A user's mistake on the command line: print the message, exit 2. */
export class UsageError extends Error {
  /** Names the error in logs. */
  override name = "UsageError";
}

/** What `parseOptions` decided: run, back up, or print help/version. */
export type ParsedCommand =
  | { kind: "run"; options: RelayOptions }
  | { kind: "backup"; options: BackupOptions }
  | { kind: "help"; text: string }
  | { kind: "version" };

function envName(flag: string): string {
  return "DUPLEXMAP_" + flag.toUpperCase().replaceAll("-", "_");
}

/**
 * Parses flags, with `DUPLEXMAP_*` environment variables as fallbacks (flags win).
 *
 * @example
 * ```ts
 * import { parseOptions } from "./options.ts";
 * const cmd = parseOptions(["--port", "9000", "--memory"], {});
 * ```
 */
export function parseOptions(
  args: string[],
  env: Record<string, string | undefined>,
): ParsedCommand {
  const limitOptions = Object.fromEntries(
    LIMIT_SPECS.map((s) => [s.flag, { type: "string" as const }]),
  );
  // `deno task start -- --port 9000` passes the `--` along; it separates nothing here.
  if (args[0] === "--") args = args.slice(1);
  if (args[0] === "backup") return parseBackup(args.slice(1), env);
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        data: { type: "string" },
        memory: { type: "boolean" },
        store: { type: "string" },
        "relay-id": { type: "string" },
        "lease-ms": { type: "string" },
        "accept-data-loss": { type: "boolean" },
        origin: { type: "string", multiple: true },
        "trust-proxy": { type: "string", multiple: true },
        tiles: { type: "string", multiple: true },
        basemap: { type: "string", multiple: true },
        "tiles-attribution": { type: "string" },
        "public-url": { type: "string" },
        geocoder: { type: "string" },
        "test-hooks": { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
        ...limitOptions,
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) return { kind: "help", text: helpText() };
  if (values.version) return { kind: "version" };
  const str = (flag: string): string | undefined => {
    const v = (values as Record<string, unknown>)[flag];
    return typeof v === "string" ? v : env[envName(flag)];
  };
  const source = (flag: string): string =>
    typeof (values as Record<string, unknown>)[flag] === "string"
      ? `--${flag}`
      : `${envName(flag)} (--${flag})`;
  const list = (flag: string): string[] => {
    const v = (values as Record<string, unknown>)[flag];
    if (Array.isArray(v)) return v.map(String);
    const e = env[envName(flag)];
    return e ? e.split(",").map((s) => s.trim()).filter(Boolean) : [];
  };
  const int = (flag: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const raw = str(flag);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new UsageError(
        `${source(flag)} must be a whole number from ${min} to ${max}: received ${
          JSON.stringify(raw)
        }`,
      );
    }
    return n;
  };
  const memory = values.memory ?? ["1", "true"].includes(env.DUPLEXMAP_MEMORY ?? "");
  const limits = { ...DEFAULT_LIMITS };
  for (const spec of LIMIT_SPECS) {
    limits[spec.key] = int(spec.flag, DEFAULT_LIMITS[spec.key], spec.min);
  }
  const origins = list("origin");
  for (const origin of origins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin.replace(/\/$/, "")) {
      throw new UsageError(
        `--origin must be an origin like https://maps.example.com: received ${
          JSON.stringify(origin)
        }`,
      );
    }
  }
  const tilesAttribution = str("tiles-attribution") ?? null;
  let tileSources: TileSource[];
  let basemaps: BasemapSpec[];
  try {
    ({ tileSources, basemaps } = parseBasemapOptions(values, env, tilesAttribution));
  } catch (err) {
    if (err instanceof BasemapOptionError) throw new UsageError(err.message);
    throw err;
  }
  // The old single `--tiles URL` is still `tiles` in /api/config, for clients that read it.
  const tiles = tileSources.find((t) => t.id === "tiles")?.url ?? null;
  const publicUrl = str("public-url") ?? null;
  if (
    publicUrl !== null &&
    (!URL.canParse(publicUrl) || !/^https?:$/.test(new URL(publicUrl).protocol) ||
      new URL(publicUrl).origin !== publicUrl.replace(/\/$/, ""))
  ) {
    throw new UsageError(
      `--public-url must be an origin like https://maps.example.com: received ${
        JSON.stringify(publicUrl)
      }`,
    );
  }
  const store = str("store") ?? env.DATABASE_URL ?? null;
  if (store !== null && !/^postgres(ql)?:\/\/./i.test(store)) {
    const from = values.store !== undefined
      ? "--store"
      : env.DUPLEXMAP_STORE !== undefined
      ? "DUPLEXMAP_STORE (--store)"
      : "DATABASE_URL (--store)";
    throw new UsageError(
      `${from} must be a PostgreSQL URL like postgres://user@host:5432/duplexmap ` +
        "(leave it out for SQLite in --data)",
    );
  }
  if (store !== null && memory) {
    throw new UsageError("--memory and --store exclude each other: choose one place for the maps");
  }
  const relayId = str("relay-id") ?? randomRelayId();
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(relayId)) {
    throw new UsageError(
      `${source("relay-id")} must be 1 to 64 letters, digits, '.', '_' or '-': received ${
        JSON.stringify(relayId)
      }`,
    );
  }
  const leaseMs = int("lease-ms", DEFAULT_LEASE_MS, 300, 600_000);
  const geocoder = str("geocoder") ?? null;
  if (
    geocoder !== null &&
    (!URL.canParse(geocoder) || !/^https?:$/.test(new URL(geocoder).protocol))
  ) {
    throw new UsageError(
      `--geocoder must be the http(s) base URL of a Nominatim-compatible service: received ${
        JSON.stringify(geocoder)
      }`,
    );
  }
  return {
    kind: "run",
    options: {
      host: str("host") ?? "127.0.0.1",
      port: int("port", 8080, 0, 65535),
      dataDir: memory ? null : (str("data") ?? "./data"),
      store,
      relayId,
      leaseMs,
      origins: origins.map((o) => new URL(o).origin),
      trustProxy: list("trust-proxy"),
      tiles,
      tilesAttribution,
      geocoder,
      tileSources,
      basemaps,
      acceptDataLoss: values["accept-data-loss"] ??
        ["1", "true"].includes(env.DUPLEXMAP_ACCEPT_DATA_LOSS ?? ""),
      publicUrl: publicUrl === null ? null : new URL(publicUrl).origin,
      testHooks: values["test-hooks"] ?? ["1", "true"].includes(env.DUPLEXMAP_TEST_HOOKS ?? ""),
      limits,
    },
  };
}

function parseBackup(args: string[], env: Record<string, string | undefined>): ParsedCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        data: { type: "string" },
        to: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new UsageError(`backup: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (values.help) return { kind: "help", text: helpText() };
  if (!values.to) {
    throw new UsageError("backup: --to FILE is required (a file that does not exist)");
  }
  return {
    kind: "backup",
    options: { dataDir: values.data ?? env.DUPLEXMAP_DATA ?? "./data", to: values.to },
  };
}

/** The `--help` text: every option with its default and environment variable. */
export function helpText(): string {
  const rows: [string, string, string][] = [
    ["--host ADDR", "interface to listen on", "127.0.0.1"],
    ["--port N", "port to listen on (0: any free port)", "8080"],
    ["--data DIR", "directory of the SQLite database", "./data"],
    ["--memory", "keep everything in memory, nothing on disk", "off"],
    ["--store URL", "PostgreSQL database postgres://… instead of SQLite", "SQLite in --data"],
    ["--relay-id ID", "this relay's id in map leases (with --store)", "random, logged"],
    ["--lease-ms N", "map lease length in ms (with --store)", String(DEFAULT_LEASE_MS)],
    ["--origin URL", "allowed browser origin (repeatable)", "the page's own host"],
    ["--trust-proxy ADDR", "proxy whose X-Forwarded-For is believed (repeatable)", "none"],
    [
      "--basemap NAME=FILE",
      "PMTiles or MBTiles file to serve (repeatable; env: ;-separated)",
      "none",
    ],
    [
      "--tiles [NAME=]URL",
      "online raster tiles {z}/{x}/{y} (repeatable; env: space-separated)",
      "none",
    ],
    ["--tiles-attribution TEXT", "attribution shown with --tiles", "none"],
    ["--accept-data-loss", "start although storage lost commits or is damaged", "off"],
    ["--public-url URL", "origin of share links", "first --origin, else this server"],
    ["--geocoder URL", "Nominatim-compatible base URL for online search", "none (offline)"],
    ["--test-hooks", "serve the map page with window.duplex, for the browser tests", "off"],
    ...LIMIT_SPECS.map((s): [string, string, string] => [
      `--${s.flag} N`,
      s.help,
      String(DEFAULT_LIMITS[s.key]),
    ]),
    ["--help, -h", "print this help", ""],
    ["--version", "print the version", ""],
  ];
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  const lines = rows.map(([flag, help, def]) => {
    const name = envName(flag.slice(2).split(" ")[0]);
    const envVar = flag.startsWith("--help") || flag.startsWith("--version")
      ? ""
      : `  [${ENV_LISTS[name] ?? name}]`;
    return `  ${flag.padEnd(width)}${help}${def ? ` (default: ${def})` : ""}${envVar}`;
  });
  return [
    "Duplex Map relay: live collaborative map editing over WebSocket.",
    "",
    "Usage: duplexmap [options]",
    "       duplexmap backup [--data DIR] --to FILE   (online copy of the database to a new file)",
    "",
    "Options (each also read from the environment variable in brackets; flags win):",
    ...lines,
  ].join("\n");
}
