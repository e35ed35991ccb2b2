/** Entry point: read options, open the store, make the hub and the app, serve, shut down cleanly. */
import denoJson from "./deno.json" with { type: "json" };
import { createApp } from "./relay/app.ts";
import { BasemapError, openBasemaps } from "./relay/basemaps/registry.ts";
import { PlacesThread } from "./relay/places_thread.ts";
import { backupDatabase, BackupError } from "./relay/backup.ts";
import { Geocoder } from "./relay/geocoder.ts";
import { Hub } from "./relay/hub.ts";
import { InlineJournal, WorkerJournal } from "./relay/journal.ts";
import { WorkerHistoryReader } from "./relay/history_reader.ts";
import { jsonLogger } from "./relay/log.ts";
import { parseOptions, UsageError } from "./relay/options.ts";
import type { ParsedCommand } from "./relay/options.ts";
import { openStore, StartupError } from "./relay/startup.ts";
import type { MapStore } from "./relay/map_store.ts";
import type { PgStore } from "./relay/pg_store.ts";
import { StoreJournal } from "./relay/store_journal.ts";
import { LeaseMetrics, Metrics } from "./relay/metrics.ts";
import { Ownership } from "./relay/ownership.ts";
import { parseHandoff } from "./relay/pg_lease.ts";
import { systemTimers } from "./relay/timers.ts";

/** Exit code when the database cannot be used (docs/DEPLOY.md section 7). */
const STORAGE_REFUSED_EXIT = 3;
const SHUTDOWN_GRACE_MS = 4000;

function parseOrExit(): ParsedCommand {
  try {
    return parseOptions(Deno.args, Deno.env.toObject());
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`duplexmap: ${err.message} (see --help)`);
    Deno.exit(2);
  }
}

const command = parseOrExit();
if (command.kind === "help") {
  console.log(command.text);
  Deno.exit(0);
}
if (command.kind === "version") {
  console.log(`duplexmap ${denoJson.version}`);
  Deno.exit(0);
}
if (command.kind === "backup") {
  try {
    const r = await backupDatabase(command.options);
    console.log(
      `duplexmap: backed up ${r.maps} maps (${r.edits} journal rows) from ${r.from} to ${r.to} ` +
        `(${r.bytes} bytes, checked)`,
    );
    Deno.exit(0);
  } catch (err) {
    if (!(err instanceof BackupError)) throw err;
    console.error(`duplexmap: ${err.message}`);
    Deno.exit(1);
  }
}
const options = command.options;
const encoder = new TextEncoder();
const logger = jsonLogger((line) => Deno.stdout.writeSync(encoder.encode(line + "\n")));

// A basemap file that cannot be served is a mistake on the command line: say so before anything.
const basemaps = await openBasemaps(options.basemaps).catch((err) => {
  if (!(err instanceof BasemapError)) throw err;
  console.error(`duplexmap: ${err.message} (see --help)`);
  Deno.exit(2);
});
for (const info of basemaps.list([]).slice(1)) {
  logger.log("basemap_opened", {
    name: info.id,
    kind: info.kind,
    tiles: info.tiles,
    minzoom: info.minzoom,
    maxzoom: info.maxzoom,
  });
}

async function openOrExit(): Promise<
  { pg: PgStore } | ReturnType<typeof openStore>
> {
  try {
    if (options.store !== null) {
      // Loaded only for PostgreSQL: a SQLite relay never loads the database client.
      const { openPgStore } = await import("./relay/pg_startup.ts");
      return {
        pg: await openPgStore({ url: options.store, logger, idleInTransactionMs: options.leaseMs }),
      };
    }
    return openStore({ dataDir: options.dataDir, acceptDataLoss: options.acceptDataLoss, logger });
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    console.error(`duplexmap: ${err.message}`);
    // Its own code, so a supervisor can tell "storage needs a person" from a crash worth a restart.
    Deno.exit(STORAGE_REFUSED_EXIT);
  }
}
// Opening the store first checks it and creates the schema the journal's connection then uses.
const opened = await openOrExit();
const store: MapStore = "pg" in opened ? opened.pg : opened.store;

// Last resort, once the store is open (a refused start still exits with its one line). Every
// entry point of the hub contains its own failures (one connection or one map fails); should a
// bug still slip past them, an uncaught exception or rejection would end the process and drop
// every peer of every map. Log it as one line instead and go on.
globalThis.addEventListener("error", (event) => {
  event.preventDefault();
  logger.log("uncaught_error", { error: String(event.error) });
});
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  logger.log("uncaught_error", { error: String(event.reason), rejection: true });
});

// With a file, commits (and their fsync) run on a worker thread so they never stall relaying;
// PostgreSQL's commits wait on a socket, off the event loop already.
const journal = "pg" in opened
  ? new StoreJournal(opened.pg)
  : options.dataDir === null
  ? new InlineJournal(opened.store)
  : new WorkerJournal({ path: opened.path });
// Past states of maps (`features?at=SEQ`) are rebuilt on a worker thread of their own too.
// On PostgreSQL they are read by the store's own pool and replayed on this thread.
const historyReader = "pg" in opened
  ? opened.pg.history
  : options.dataDir === null
  ? undefined
  : new WorkerHistoryReader({ path: opened.path });
const metrics = new Metrics();
// On PostgreSQL several relays may share the database: each map is sequenced by the one relay
// holding its lease (by this relay's monotonic clock), handed over on request (LISTEN/NOTIFY).
const ownership = "pg" in opened ? startOwnership(opened.pg) : undefined;
const hub = new Hub({
  store,
  journal,
  limits: options.limits,
  logger,
  historyReader,
  metrics,
  leases: ownership,
});

function startOwnership(pg: PgStore): Ownership {
  metrics.leases = new LeaseMetrics();
  const listener = pg.handoffListener((payload) => {
    const request = parseHandoff(payload);
    if (request) owner.handoffRequested(request);
  });
  const owner: Ownership = new Ownership({
    store: pg,
    relayId: options.relayId,
    leaseMs: options.leaseMs,
    timers: systemTimers(() => performance.now()),
    acquireTimeoutMs: options.limits.helloTimeoutMs,
    logger,
    metrics: metrics.leases,
    moveOut: (mapId, why) => hub.moveOut(mapId, why),
    listen: () => listener.ensure(),
    close: () => listener.close(),
  });
  logger.log("relay_id", { relay: options.relayId, leaseMs: options.leaseMs });
  return owner;
}
// Share links may name this server as the request did only when that is this server's address.
let listening: { hostname: string; port: number } | undefined;
// The gazetteer is loaded and queried on a worker thread: indexing it takes seconds of CPU.
const places = new PlacesThread();
const app = createApp({
  hub,
  places,
  origins: options.origins,
  trustProxy: options.trustProxy,
  tiles: options.tiles,
  tilesAttribution: options.tilesAttribution,
  basemaps,
  tileSources: options.tileSources,
  publicUrl: options.publicUrl,
  geocoder: options.geocoder === null ? null : new Geocoder({
    url: options.geocoder,
    logger,
    // Nominatim's usage policy asks for an application that names itself.
    userAgent: `DuplexMap/${denoJson.version} (collaborative map relay${
      options.publicUrl ? `; ${options.publicUrl}` : ""
    })`,
  }),
  testHooks: options.testHooks,
  listen: () => listening,
  version: denoJson.version,
});
const server = Deno.serve({
  hostname: options.host,
  port: options.port,
  onListen: ({ hostname, port }) => {
    listening = { hostname, port };
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    logger.log("listening", {
      url: `http://${host}:${port}`,
      port,
      data: "pg" in opened ? opened.pg.where : options.dataDir ?? ":memory:",
      version: denoJson.version,
    });
  },
}, app.fetch);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.log("stopping", { signal });
  // Whatever happens (a stuck client, a dead journal worker), exit within the grace period.
  const grace = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS));
  // The maps leave memory after their final commit; then their leases are released, so another
  // relay takes them over at once instead of waiting for the leases to run out.
  const closed = hub.close().then(() => ownership?.close()).then(() => server.shutdown()).catch((
    err,
  ) => logger.log("internal_error", { where: "shutdown", error: String(err) }));
  await Promise.race([closed, grace]);
  await basemaps.close();
  places.close();
  await store.close();
  logger.log("stopped", { signal });
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
