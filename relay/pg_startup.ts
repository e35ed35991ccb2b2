/** Opening the PostgreSQL store at start-up: connect, migrate, check every journal, or one readable line. */
import type { Logger } from "./log.ts";
import { PgStore } from "./pg_store.ts";
import { redactUrl } from "./pg_util.ts";
import type { PgStoreOptions } from "./pg_store.ts";
import { StartupError } from "./startup.ts";

/** Options for {@link openPgStore}. */
export interface OpenPgStoreOptions extends PgStoreOptions {
  /** Where startup events are logged. */
  logger: Logger;
  /** Clock for the check's duration, in ms. @default performance.now */
  now?: () => number;
}

/**
 * Connects to the database, applies the schema migrations (several relays starting at once take
 * turns under an advisory lock) and checks every map's journal for gaps, as the SQLite start does:
 * a damaged map is logged here and refused when it is loaded, so the others stay available. A
 * database that cannot be reached or migrated stops the start with one line (no password in it).
 */
export async function openPgStore(options: OpenPgStoreOptions): Promise<PgStore> {
  const { logger } = options;
  const now = options.now ?? (() => performance.now());
  const where = redactUrl(options.url);
  let store: PgStore;
  try {
    store = await PgStore.open(options);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new StartupError(
      `cannot use the PostgreSQL database at ${where}: ${reason}; check that the server runs, ` +
        "that the URL's user may connect and create tables, and see docs/DEPLOY.md",
    );
  }
  const { version, applied } = store.migration;
  logger.log("store_migrated", { store: where, version, applied });
  const started = now();
  try {
    const journals = await store.checkJournals();
    for (const { mapId, missing } of journals.damaged) {
      logger.log("store_damaged", { store: where, check: "journal", map: mapId, missing });
    }
    logger.log("store_check", {
      store: where,
      maps: journals.maps,
      edits: journals.edits,
      damaged: journals.damaged.length,
      ms: Math.round(now() - started),
    });
  } catch (err) {
    await store.close().catch(() => {});
    const reason = err instanceof Error ? err.message : String(err);
    throw new StartupError(`cannot check the PostgreSQL database at ${where}: ${reason}`);
  }
  return store;
}
