/** `duplexmap backup`: an online, consistent copy of the live database into a new file. */
import { backup, DatabaseSync } from "node:sqlite";
import type { BackupOptions } from "./options.ts";
import { databasePath } from "./startup.ts";
import { Store } from "./store.ts";

/** The backup failed; the message is the one line to print. */
export class BackupError extends Error {
  /** Names the error in logs. */
  override name = "BackupError";
}

/** What a finished backup holds. */
export interface BackupResult {
  /** The live database copied. */
  from: string;
  /** The backup file written. */
  to: string;
  /** Maps in the copy. */
  maps: number;
  /** Edits in the copy. */
  edits: number;
  /** Size of the copy in bytes. */
  bytes: number;
}

/**
 * Copies the database in `dataDir` to `to` with SQLite's online backup API, on its own read-only
 * connection and in one step: one read transaction, so one consistent snapshot (every commit made
 * before it began, none after) while the relay goes on writing, and no restart however busy the
 * relay is. (`VACUUM INTO` would need `ATTACH`, which Deno allows only with every permission.) The
 * copy is then opened and checked (`quick_check`, journal continuity) before it is reported good;
 * a bad copy is removed. Every map in the copy gets a new epoch, so a client holding a seq of the
 * live file is sent the whole map by a relay serving the restored copy.
 *
 * @example
 * ```ts ignore
 * import { backupDatabase } from "./backup.ts";
 * const result = await backupDatabase({ dataDir: "./data", to: "/backups/dm-2026-12-02.sqlite" });
 * ```
 */
export async function backupDatabase(options: BackupOptions): Promise<BackupResult> {
  const from = databasePath(options.dataDir);
  const { to } = options;
  if (!exists(from)) {
    throw new BackupError(`cannot back up ${from}: there is no database; check --data`);
  }
  try {
    // Claims the name atomically: an existing file (an older backup) is never overwritten.
    Deno.openSync(to, { write: true, createNew: true }).close();
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new BackupError(`cannot back up to ${to}: the file exists; choose a new file name`);
    }
    throw new BackupError(`cannot back up to ${to}: ${message(err)}`);
  }
  let source: DatabaseSync | null = null;
  try {
    source = new DatabaseSync(from, { readOnly: true });
    source.exec("PRAGMA busy_timeout = 5000");
    await backup(source, to, { rate: -1 });
  } catch (err) {
    removeQuietly(to);
    throw new BackupError(`cannot back up ${from} to ${to}: ${message(err)}`);
  } finally {
    source?.close();
  }
  let copy: Store | null = null;
  try {
    copy = new Store({ path: to });
    const findings = copy.quickCheck();
    const journals = copy.checkJournals();
    if (findings.length > 0 || journals.damaged.length > 0) {
      throw new Error(
        findings[0] ?? `the journal of map ${journals.damaged[0].mapId} has gaps`,
      );
    }
    // The copy is a history of its own from here: clients that saw later seqs of the live file
    // must get a full snapshot from it once restored, never a catch-up (docs/PROTOCOL.md).
    copy.renewEpochs();
    copy.close();
    copy = null;
    return { from, to, maps: journals.maps, edits: journals.edits, bytes: Deno.statSync(to).size };
  } catch (err) {
    copy?.close();
    removeQuietly(to);
    throw new BackupError(
      `the backup of ${from} failed its check and was removed: ${message(err)}`,
    );
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw new BackupError(`cannot back up: ${path}: ${message(err)}`);
  }
}

function removeQuietly(path: string): void {
  for (const p of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      Deno.removeSync(p);
    } catch {
      // Nothing was written there, or it is already gone.
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
