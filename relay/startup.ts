/** Opening the database at start-up: refuse, with one readable line, to serve damaged storage. */
import { join } from "node:path";
import type { Logger } from "./log.ts";
import { Store } from "./store.ts";
import type { JournalCheck } from "./store.ts";
import { checkWal } from "./wal_check.ts";

/** The relay must not start; the message is the one line to print (no stack trace). */
export class StartupError extends Error {
  /** Names the error in logs. */
  override name = "StartupError";
}

/** Options for {@link openStore}. */
export interface OpenStoreOptions {
  /** Directory of the database, or `null` for a store in memory. */
  dataDir: string | null;
  /** Start even though the write-ahead log lost commits (the loss is logged). @default false */
  acceptDataLoss?: boolean;
  /** Where startup events are logged. */
  logger: Logger;
  /** Clock for the check's duration, in ms. @default performance.now */
  now?: () => number;
}

/** The database file in a data directory. */
export function databasePath(dataDir: string): string {
  return join(dataDir, "duplexmap.sqlite");
}

/**
 * Opens the store and checks it before anything is served: the write-ahead log against its index
 * (commits lost by a cut or deleted log), that the file opens and can be written, SQLite's
 * `quick_check`, and every map's journal for gaps. A damaged file stops the start (the norm of
 * database servers: serving from a damaged b-tree can return wrong rows and spread the damage, so
 * the operator restores a backup) unless the operator accepts the loss to serve what is left; a map
 * with a damaged journal is only logged here, and refused when it is loaded, so the other maps stay
 * available.
 */
export function openStore(options: OpenStoreOptions): { store: Store; path: string } {
  const { dataDir, logger } = options;
  const now = options.now ?? (() => performance.now());
  if (dataDir === null) return { store: new Store({ path: ":memory:" }), path: ":memory:" };
  const path = databasePath(dataDir);
  const cannotOpen = (err: unknown): StartupError => {
    const reason = err instanceof Error ? err.message : String(err);
    return new StartupError(`cannot open the database at ${path}: ${reason}; ${advice(reason)}`);
  };
  let wal;
  try {
    Deno.mkdirSync(dataDir, { recursive: true });
    wal = checkWal(path);
  } catch (err) {
    throw cannotOpen(err);
  }
  if (wal.state === "whole") {
    // The last run did not stop cleanly; SQLite replays the whole log, nothing is lost.
    logger.log("store_unclean_stop", { file: path, frames: wal.frames });
  }
  if (wal.state === "lost") {
    const { state: _state, ...fields } = wal;
    logger.log("store_wal_lost", {
      file: path,
      accepted: options.acceptDataLoss === true,
      ...fields,
    });
    if (!options.acceptDataLoss) {
      throw new StartupError(
        `acknowledged edits in the database at ${path} were lost: ${wal.reason}; restore the ` +
          "database from a backup (see docs/DEPLOY.md), or start with --accept-data-loss to " +
          "serve what is left",
      );
    }
  }
  let store: Store | null = null;
  try {
    store = new Store({ path });
    store.assertWritable();
  } catch (err) {
    store?.close();
    throw cannotOpen(err);
  }
  const started = now();
  let findings: string[];
  let journals: JournalCheck;
  try {
    findings = store.quickCheck();
    journals = findings.length > 0 ? { maps: 0, edits: 0, damaged: [] } : store.checkJournals();
  } catch (err) {
    // Damage bad enough that the checks themselves fail to read the file.
    findings = [err instanceof Error ? err.message : String(err)];
    journals = { maps: 0, edits: 0, damaged: [] };
  }
  if (findings.length > 0) {
    logger.log("store_damaged", {
      file: path,
      check: "quick_check",
      findings,
      accepted: options.acceptDataLoss === true,
    });
    if (!options.acceptDataLoss) {
      store.close();
      throw new StartupError(
        `the database at ${path} is damaged (quick_check: ${findings[0]}); stop here and restore ` +
          "it from a backup (see docs/DEPLOY.md), or start with --accept-data-loss to serve the " +
          "maps that can still be read",
      );
    }
    // The operator chose to serve what is left: a map on a damaged page fails when it is loaded
    // (the hub refuses that map alone); the journal check is skipped, as it would read them all.
  }
  for (const { mapId, missing } of journals.damaged) {
    logger.log("store_damaged", { file: path, check: "journal", map: mapId, missing });
  }
  if (wal.state === "lost") {
    // The lost commits had seqs clients saw; the map's next edits reuse them. A new epoch makes
    // those clients take the whole map rather than a catch-up from a history they never saw.
    logger.log("store_epochs_renewed", { file: path, maps: store.renewEpochs() });
  }
  logger.log("store_check", {
    file: path,
    maps: journals.maps,
    edits: journals.edits,
    damaged: journals.damaged.length,
    ms: Math.round(now() - started),
  });
  return { store, path };
}

/** What to do about an error opening the database, from SQLite's or the system's reason. */
function advice(reason: string): string {
  if (/not a database|malformed|corrupt/i.test(reason)) {
    return "it is not a sound Duplex Map database: restore it from a backup (see docs/DEPLOY.md)";
  }
  if (/full/i.test(reason)) return "free disk space, then start again";
  return "make sure the data directory is a directory the relay may create files in and write";
}
