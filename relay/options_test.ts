/** Unit tests of command-line and environment option parsing. */
import assert from "assert";
import { DEFAULT_LIMITS } from "./limits.ts";
import { helpText, parseOptions, UsageError } from "./options.ts";
import type { RelayOptions } from "./options.ts";

function run(args: string[], env: Record<string, string | undefined> = {}): RelayOptions {
  const cmd = parseOptions(args, env);
  assert.equal(cmd.kind, "run");
  return (cmd as Extract<typeof cmd, { kind: "run" }>).options;
}

function usageError(args: string[], env: Record<string, string | undefined> = {}): UsageError {
  try {
    parseOptions(args, env);
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${err}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(args)} to be refused`);
}

/** Every limit flag, by its key. */
const LIMIT_FLAGS: Record<keyof typeof DEFAULT_LIMITS, string> = {
  maxFrameBytes: "max-frame-bytes",
  helloTimeoutMs: "hello-timeout-ms",
  maxPending: "max-pending",
  maxPendingPerAddr: "max-pending-per-addr",
  rate: "rate",
  rateBurst: "rate-burst",
  maxPeersPerMap: "max-peers-per-map",
  maxMaps: "max-maps",
  maxFeatures: "max-features",
  maxVertices: "max-vertices",
  maxPropsBytes: "max-props-bytes",
  maxBufferedBytes: "max-buffered-bytes",
  idleTimeout: "idle-timeout",
  evictAfterMs: "evict-after-ms",
  recentEdits: "recent-edits",
  recentBytes: "recent-bytes",
  snapshotEvery: "snapshot-every",
  maxImportBytes: "max-import-bytes",
  createRate: "create-rate",
  createBurst: "create-burst",
  maxMapsPerAddr: "max-maps-per-addr",
  bodyTimeoutMs: "body-timeout-ms",
  maxComments: "max-comments",
  commentRate: "comment-rate",
  historyDays: "history-days",
  presenceTickMs: "presence-tick-ms",
};

Deno.test("parseOptions: no flags and no environment give the documented defaults", () => {
  // A relay started without --relay-id gets a random one (logged at start).
  const { relayId, ...defaults } = run([]);
  assert.match(relayId, /^relay-[0-9a-f]{8}$/);
  assert.notEqual(run([]).relayId, relayId);
  assert.deepEqual(defaults, {
    host: "127.0.0.1",
    port: 8080,
    dataDir: "./data",
    store: null,
    leaseMs: 4000,
    origins: [],
    trustProxy: [],
    tiles: null,
    tilesAttribution: null,
    geocoder: null,
    tileSources: [],
    basemaps: [],
    acceptDataLoss: false,
    publicUrl: null,
    testHooks: false,
    limits: { ...DEFAULT_LIMITS },
  });
  assert.equal(DEFAULT_LIMITS.maxFrameBytes, 4 * 1024 * 1024);
  assert.equal(DEFAULT_LIMITS.maxVertices, 100_000);
  assert.equal(DEFAULT_LIMITS.maxImportBytes, 32 * 1024 * 1024);
  assert.equal(DEFAULT_LIMITS.helloTimeoutMs, 10_000);
  assert.equal(DEFAULT_LIMITS.maxBufferedBytes, 8 * 1024 * 1024);
});

Deno.test("parseOptions reads every flag", () => {
  const limitArgs = Object.entries(LIMIT_FLAGS).flatMap((
    [, flag],
    i,
  ) => [`--${flag}`, `${2000 + i}`]);
  const options = run([
    "--host",
    "0.0.0.0",
    "--port",
    "0",
    "--data",
    "/var/lib/dm",
    "--origin",
    "https://a.example.com",
    "--origin",
    "http://localhost:3000/",
    "--trust-proxy",
    "127.0.0.1",
    "--trust-proxy",
    "::1",
    "--tiles",
    "https://tile.example.com/{z}/{x}/{y}.png",
    "--tiles-attribution",
    "© Example",
    ...limitArgs,
  ]);
  assert.equal(options.host, "0.0.0.0");
  assert.equal(options.port, 0);
  assert.equal(options.dataDir, "/var/lib/dm");
  assert.deepEqual(options.origins, ["https://a.example.com", "http://localhost:3000"]);
  assert.deepEqual(options.trustProxy, ["127.0.0.1", "::1"]);
  assert.equal(options.tiles, "https://tile.example.com/{z}/{x}/{y}.png");
  assert.equal(options.tilesAttribution, "© Example");
  for (const [i, key] of Object.keys(LIMIT_FLAGS).entries()) {
    assert.equal(options.limits[key as keyof typeof LIMIT_FLAGS], 2000 + i, key);
  }
});

Deno.test("parseOptions: --public-url (or DUPLEXMAP_PUBLIC_URL) must be an http(s) origin", () => {
  assert.equal(
    run(["--public-url", "https://maps.example.com/"]).publicUrl,
    "https://maps.example.com",
  );
  assert.equal(
    run([], { DUPLEXMAP_PUBLIC_URL: "http://10.0.0.5:8080" }).publicUrl,
    "http://10.0.0.5:8080",
  );
  for (const bad of ["maps.example.com", "https://maps.example.com/app", "ftp://x.example"]) {
    assert.throws(() => run(["--public-url", bad]), UsageError, bad);
  }
});

Deno.test("parseOptions: --geocoder (or DUPLEXMAP_GEOCODER) must be an http(s) URL", () => {
  assert.equal(
    run(["--geocoder", "https://nominatim.example.org"]).geocoder,
    "https://nominatim.example.org",
  );
  assert.equal(
    run([], { DUPLEXMAP_GEOCODER: "http://127.0.0.1:8088/nominatim" }).geocoder,
    "http://127.0.0.1:8088/nominatim",
  );
  for (const bad of ["nominatim.example.org", "ftp://x.example", ""]) {
    assert.throws(() => run(["--geocoder", bad]), UsageError, JSON.stringify(bad));
  }
});

Deno.test("parseOptions: --memory means no data directory, even with --data", () => {
  assert.equal(run(["--memory"]).dataDir, null);
  assert.equal(run(["--memory", "--data", "/tmp/x"]).dataDir, null);
});

Deno.test("parseOptions falls back to DUPLEXMAP_* environment variables", () => {
  const env: Record<string, string> = {
    DUPLEXMAP_HOST: "10.0.0.1",
    DUPLEXMAP_PORT: "9000",
    DUPLEXMAP_DATA: "/srv/data",
    DUPLEXMAP_ORIGIN: "https://a.example.com, https://b.example.com",
    DUPLEXMAP_TRUST_PROXY: "127.0.0.1,10.0.0.2",
    DUPLEXMAP_TILES: "http://t/{z}/{x}/{y}",
    DUPLEXMAP_TILES_ATTRIBUTION: "tiles by t",
  };
  for (const [key, flag] of Object.entries(LIMIT_FLAGS)) {
    env[`DUPLEXMAP_${flag.toUpperCase().replaceAll("-", "_")}`] = String(
      DEFAULT_LIMITS[key as keyof typeof LIMIT_FLAGS] + 1,
    );
  }
  const options = run([], env);
  assert.equal(options.host, "10.0.0.1");
  assert.equal(options.port, 9000);
  assert.equal(options.dataDir, "/srv/data");
  assert.deepEqual(options.origins, ["https://a.example.com", "https://b.example.com"]);
  assert.deepEqual(options.trustProxy, ["127.0.0.1", "10.0.0.2"]);
  assert.equal(options.tiles, "http://t/{z}/{x}/{y}");
  assert.equal(options.tilesAttribution, "tiles by t");
  for (const key of Object.keys(LIMIT_FLAGS) as (keyof typeof LIMIT_FLAGS)[]) {
    assert.equal(options.limits[key], DEFAULT_LIMITS[key] + 1, key);
  }
  assert.equal(run([], { DUPLEXMAP_MEMORY: "1" }).dataDir, null);
  assert.equal(run([], { DUPLEXMAP_MEMORY: "true" }).dataDir, null);
  assert.equal(run([], { DUPLEXMAP_MEMORY: "0" }).dataDir, "./data");
});

Deno.test("parseOptions: flags win over the environment", () => {
  const options = run(
    ["--port", "7000", "--rate", "5", "--origin", "https://flag.example.com", "--host", "::1"],
    {
      DUPLEXMAP_PORT: "9000",
      DUPLEXMAP_RATE: "50",
      DUPLEXMAP_ORIGIN: "https://env.example.com",
      DUPLEXMAP_HOST: "10.0.0.1",
    },
  );
  assert.equal(options.port, 7000);
  assert.equal(options.limits.rate, 5);
  assert.deepEqual(options.origins, ["https://flag.example.com"]);
  assert.equal(options.host, "::1");
});

Deno.test("parseOptions: a bad number names the flag and the value received", () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["--port", "99999"], {}, /--port .*received "99999"/],
    [["--port=-1"], {}, /--port .*received "-1"/],
    [["--port", "80x"], {}, /--port .*received "80x"/],
    [["--rate", "1.5"], {}, /--rate .*received "1\.5"/],
    [["--rate", "0"], {}, /--rate must be a whole number from 1 .*received "0"/],
    [["--max-frame-bytes", "10"], {}, /--max-frame-bytes .*from 256 .*received "10"/],
    [["--hello-timeout-ms", ""], {}, /--hello-timeout-ms .*received ""/],
    [
      [],
      { DUPLEXMAP_MAX_BUFFERED_BYTES: "lots" },
      /DUPLEXMAP_MAX_BUFFERED_BYTES \(--max-buffered-bytes\) .*received "lots"/,
    ],
  ];
  for (const [args, env, expected] of cases) {
    assert.match(usageError(args, env).message, expected, JSON.stringify(args));
  }
});

Deno.test("parseOptions: bad origins, tile templates and unknown flags are usage errors", () => {
  assert.match(
    usageError(["--origin", "example.com"]).message,
    /--origin .*received "example\.com"/,
  );
  assert.match(
    usageError(["--origin", "https://example.com/path"]).message,
    /--origin .*received "https:\/\/example\.com\/path"/,
  );
  assert.match(
    usageError(["--tiles", "https://t.example.com/tile.png"]).message,
    /--tiles .*\{z\}, \{x\} and \{y\}.*received "https:\/\/t\.example\.com\/tile\.png"/,
  );
  assert.match(usageError(["--colour", "red"]).message, /colour/);
  assert.match(usageError(["stray"]).message, /stray/);
  assert.ok(usageError(["--port"]).message.length > 0);
});

Deno.test("parseOptions: --help and -h give the help text, --version asks for the version", () => {
  assert.deepEqual(parseOptions(["--help"], {}), { kind: "help", text: helpText() });
  assert.deepEqual(parseOptions(["-h", "--port", "nonsense"], {}), {
    kind: "help",
    text: helpText(),
  });
  assert.deepEqual(parseOptions(["--version"], {}), { kind: "version" });
});

Deno.test("helpText lists every option with its default and environment variable", () => {
  const text = helpText();
  const lines = text.split("\n");
  const line = (flag: string) => {
    const found = lines.find((l) =>
      l.trimStart().startsWith(`--${flag} `) || l.trim() === `--${flag}`
    );
    assert.ok(found, `--help should list --${flag}`);
    return found;
  };
  const plain: [string, string][] = [
    ["host", "127.0.0.1"],
    ["port", "8080"],
    ["data", "./data"],
    ["memory", "off"],
    ["origin", "the page's own host"],
    ["trust-proxy", "none"],
    ["tiles", "none"],
    ["tiles-attribution", "none"],
  ];
  for (const [flag, def] of plain) {
    const l = line(flag);
    assert.ok(l.includes(`(default: ${def})`), l);
    assert.ok(l.includes(`[DUPLEXMAP_${flag.toUpperCase().replaceAll("-", "_")}]`), l);
  }
  for (const [key, flag] of Object.entries(LIMIT_FLAGS)) {
    const l = line(flag);
    assert.ok(l.includes(`(default: ${DEFAULT_LIMITS[key as keyof typeof LIMIT_FLAGS]})`), l);
    assert.ok(l.includes(`[DUPLEXMAP_${flag.toUpperCase().replaceAll("-", "_")}]`), l);
  }
  assert.ok(lines.some((l) => l.includes("--help")));
  assert.ok(lines.some((l) => l.includes("--version")));
});

Deno.test("every default in --help is accepted back by parseOptions", () => {
  const args = Object.entries(LIMIT_FLAGS).flatMap(([key, flag]) => [
    `--${flag}`,
    String(DEFAULT_LIMITS[key as keyof typeof LIMIT_FLAGS]),
  ]);
  assert.deepEqual(run(args).limits, { ...DEFAULT_LIMITS });
});

Deno.test("parseOptions: a leading -- (as deno task passes it along) is ignored", () => {
  const cmd = parseOptions(["--", "--port", "9000"], {});
  assert.equal(cmd.kind, "run");
  assert.equal(cmd.kind === "run" && cmd.options.port, 9000);
});

Deno.test("parseOptions: --accept-data-loss and DUPLEXMAP_ACCEPT_DATA_LOSS", () => {
  assert.equal(run(["--accept-data-loss"]).acceptDataLoss, true);
  assert.equal(run([], { DUPLEXMAP_ACCEPT_DATA_LOSS: "1" }).acceptDataLoss, true);
  assert.equal(run([], { DUPLEXMAP_ACCEPT_DATA_LOSS: "0" }).acceptDataLoss, false);
  assert.match(helpText(), /--accept-data-loss .*\[DUPLEXMAP_ACCEPT_DATA_LOSS\]/);
});

Deno.test("parseOptions: --test-hooks and DUPLEXMAP_TEST_HOOKS", () => {
  assert.equal(run(["--test-hooks"]).testHooks, true);
  assert.equal(run([], { DUPLEXMAP_TEST_HOOKS: "1" }).testHooks, true);
  assert.equal(run([], { DUPLEXMAP_TEST_HOOKS: "0" }).testHooks, false);
  assert.match(helpText(), /--test-hooks .*\[DUPLEXMAP_TEST_HOOKS\]/);
});

Deno.test("parseOptions: the backup subcommand takes --data (or DUPLEXMAP_DATA) and a required --to", () => {
  assert.deepEqual(parseOptions(["backup", "--data", "/var/lib/dm", "--to", "/b/x.sqlite"], {}), {
    kind: "backup",
    options: { dataDir: "/var/lib/dm", to: "/b/x.sqlite" },
  });
  assert.deepEqual(parseOptions(["--", "backup", "--to", "x.sqlite"], { DUPLEXMAP_DATA: "/d" }), {
    kind: "backup",
    options: { dataDir: "/d", to: "x.sqlite" },
  });
  assert.throws(() => parseOptions(["backup"], {}), /--to FILE is required/);
  assert.throws(() => parseOptions(["backup", "--to", "x", "--port", "1"], {}), UsageError);
  assert.match(helpText(), /duplexmap backup/);
});

Deno.test("parseOptions: --basemap NAME=FILE is repeatable, DUPLEXMAP_BASEMAPS holds several separated by ;", () => {
  const flags = run(["--basemap", "streets=/srv/zurich.pmtiles", "--basemap", "old=./a=b.mbtiles"]);
  assert.deepEqual(flags.basemaps, [
    { name: "streets", path: "/srv/zurich.pmtiles" },
    { name: "old", path: "./a=b.mbtiles" },
  ]);
  const env = run([], { DUPLEXMAP_BASEMAPS: "a=/x.pmtiles; b-2=/y.mbtiles;" });
  assert.deepEqual(env.basemaps, [{ name: "a", path: "/x.pmtiles" }, {
    name: "b-2",
    path: "/y.mbtiles",
  }]);
  assert.deepEqual(run(["--basemap", "c=/z"], { DUPLEXMAP_BASEMAPS: "a=/x" }).basemaps, [
    { name: "c", path: "/z" },
  ]);
  for (const bad of ["/srv/zurich.pmtiles", "Streets=/x", "a b=/x", "x=", "=/x", "_a=/x"]) {
    assert.match(usageError(["--basemap", bad]).message, /--basemap must be NAME=FILE/, bad);
  }
  assert.match(
    usageError([], { DUPLEXMAP_BASEMAPS: "nope" }).message,
    /DUPLEXMAP_BASEMAPS \(--basemap\) must be NAME=FILE/,
  );
  assert.match(usageError(["--basemap", "builtin=/x"]).message, /"builtin" is reserved/);
  assert.match(
    usageError(["--basemap", "a=/x", "--basemap", "a=/y"]).message,
    /"a" is given twice/,
  );
});

Deno.test("parseOptions: --tiles NAME=URL is repeatable and the old single --tiles URL still works", () => {
  const old = run([
    "--tiles",
    "https://t.example.com/{z}/{x}/{y}.png",
    "--tiles-attribution",
    "© T",
  ]);
  assert.equal(old.tiles, "https://t.example.com/{z}/{x}/{y}.png");
  assert.deepEqual(old.tileSources, [{
    id: "tiles",
    name: "t.example.com",
    url: "https://t.example.com/{z}/{x}/{y}.png",
    attribution: "© T",
  }]);
  const named = run([
    "--tiles",
    "osm=https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "--tiles",
    "topo=https://topo.example.com/{z}/{x}/{y}.jpg",
    "--tiles",
    "https://t.example.com/{z}/{x}/{y}.png",
  ]);
  assert.deepEqual(named.tileSources.map((t) => [t.id, t.name]), [
    ["osm", "osm"],
    ["topo", "topo"],
    ["tiles", "t.example.com"],
  ]);
  assert.equal(named.tiles, "https://t.example.com/{z}/{x}/{y}.png");
  assert.equal(run(["--tiles", "osm=https://o/{z}/{x}/{y}.png"]).tiles, null);
  const env = run([], {
    DUPLEXMAP_TILES: " osm=https://o.example/{z}/{x}/{y}.png\n  a=http://a.example/{z}/{x}/{y} ",
  });
  assert.deepEqual(env.tileSources.map((t) => t.id), ["osm", "a"]);
  assert.match(
    usageError(["--tiles", "https://a/{z}/{x}/{y}", "--tiles", "https://b/{z}/{x}/{y}"]).message,
    /give NAME=URL to each/,
  );
  assert.match(
    usageError(["--tiles", "osm=https://o/tile.png"]).message,
    /--tiles must be a URL template.*received "osm=https:\/\/o\/tile\.png"/,
  );
  assert.match(
    usageError(["--tiles", "x=https://o/{z}/{x}/{y}", "--basemap", "x=/f"]).message,
    /"x" is given twice/,
  );
});

Deno.test("parseOptions: --store takes a PostgreSQL URL from the flag, DUPLEXMAP_STORE or DATABASE_URL", () => {
  const url = "postgres://dm@127.0.0.1:5432/duplexmap";
  assert.equal(run(["--store", url]).store, url);
  assert.equal(run([], { DUPLEXMAP_STORE: url }).store, url);
  assert.equal(run([], { DATABASE_URL: "postgresql://db/x" }).store, "postgresql://db/x");
  // The flag wins over both variables, DUPLEXMAP_STORE over DATABASE_URL.
  assert.equal(run(["--store", url], { DUPLEXMAP_STORE: "postgres://a/b" }).store, url);
  assert.equal(run([], { DUPLEXMAP_STORE: url, DATABASE_URL: "postgres://c/d" }).store, url);
  assert.equal(run([]).store, null);
});

Deno.test("parseOptions: a --store that is not a PostgreSQL URL, or with --memory, is a usage error", () => {
  assert.throws(() => parseOptions(["--store", "./data"], {}), (err: Error) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /^--store must be a PostgreSQL URL/);
    return true;
  });
  assert.throws(
    () => parseOptions([], { DATABASE_URL: "mysql://x/y" }),
    /DATABASE_URL \(--store\) must be a PostgreSQL URL/,
  );
  assert.throws(
    () => parseOptions(["--memory", "--store", "postgres://h/db"], {}),
    /--memory and --store exclude each other/,
  );
  assert.match(helpText(), /--store URL .*\[DUPLEXMAP_STORE, DATABASE_URL\]/);
});

Deno.test("parseOptions: --relay-id and --lease-ms, from flags or DUPLEXMAP_RELAY_ID / DUPLEXMAP_LEASE_MS", () => {
  const options = run(["--relay-id", "r1", "--lease-ms", "1500"]);
  assert.equal(options.relayId, "r1");
  assert.equal(options.leaseMs, 1500);
  const env = run([], { DUPLEXMAP_RELAY_ID: "relay.b-2", DUPLEXMAP_LEASE_MS: "9000" });
  assert.equal(env.relayId, "relay.b-2");
  assert.equal(env.leaseMs, 9000);
  assert.match(usageError(["--relay-id", "a b"]).message, /--relay-id must be 1 to 64 .*"a b"/);
  assert.match(usageError(["--lease-ms", "10"]).message, /--lease-ms must be a whole number/);
  assert.match(helpText(), /--relay-id ID .*\[DUPLEXMAP_RELAY_ID\]/);
  assert.match(helpText(), /--lease-ms N .*\(default: 4000\).*\[DUPLEXMAP_LEASE_MS\]/);
});
