/** Before SQLite opens a database: did its write-ahead log lose commits after an unclean stop? */

/** What the `-shm` file of a database left by a stopped process says about its `-wal` file. */
export type WalCheck =
  /** Nothing to compare: a clean stop, a fresh database, or a header being rewritten. */
  | { state: "clean" }
  /** The log holds every frame the wal-index counted. */
  | { state: "whole"; frames: number }
  /** Committed frames the wal-index counted are not in the log: acknowledged commits are lost. */
  | {
    state: "lost";
    /** Frames the wal-index counted as valid. */
    frames: number;
    /** Of those, already copied into the database file by a checkpoint. */
    backfilled: number;
    /** Whole frames the log still holds (`null`: the log is missing). */
    present: number | null;
    /** Why, in words, for the log line and the exit message. */
    reason: string;
  };

const WAL_HEADER = 32;
const FRAME_HEADER = 24;
const INDEX_HEADER = 48;
/** nBackfill, in the checkpoint information that follows the two copies of the header. */
const BACKFILL_OFFSET = 96;

/**
 * Reads the wal-index header that SQLite keeps in `PATH-shm` and compares it with `PATH-wal`.
 * SQLite itself, when it reopens a database whose log was cut short, silently recovers the valid
 * prefix of the log, so acknowledged commits vanish without a word; this check runs first.
 *
 * The layout is that of SQLite's unix and windows VFS (two copies of a 48-byte header in native
 * byte order, then the checkpoint information): `mxFrame` valid frames of `szPage` bytes each.
 * Frames up to `nBackfill` are already in the database file, so only frames after it can be lost.
 *
 * @example
 * ```ts
 * import { checkWal } from "./wal_check.ts";
 * const check = checkWal("./data/duplexmap.sqlite");
 * if (check.state === "lost") console.error(check.reason);
 * ```
 */
export function checkWal(dbPath: string): WalCheck {
  const shm = readPrefix(`${dbPath}-shm`, BACKFILL_OFFSET + 4);
  // Without its main file, SQLite would start an empty database beside the old log.
  if (!exists(dbPath) && (shm !== null || exists(`${dbPath}-wal`))) {
    return {
      state: "lost",
      frames: 0,
      backfilled: 0,
      present: null,
      reason: `the database file ${dbPath} is missing, but its write-ahead log files are there`,
    };
  }
  if (shm === null || shm.length < BACKFILL_OFFSET + 4) return { state: "clean" };
  const first = shm.subarray(0, INDEX_HEADER);
  const second = shm.subarray(INDEX_HEADER, 2 * INDEX_HEADER);
  // The two copies differ only while a writer is updating them: nothing certain to compare.
  if (!first.every((b, i) => b === second[i])) return { state: "clean" };
  const view = new DataView(shm.buffer, shm.byteOffset, shm.byteLength);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const isInit = view.getUint8(12);
  const rawPage = view.getUint16(14, little);
  const frames = view.getUint32(16, little);
  const backfilled = view.getUint32(BACKFILL_OFFSET, little);
  if (!isInit || frames === 0 || frames <= backfilled) return { state: "clean" };
  const pageSize = rawPage === 1 ? 65536 : rawPage;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) return { state: "clean" };
  const walPath = `${dbPath}-wal`;
  let walSize: number;
  try {
    walSize = Deno.statSync(walPath).size;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    return {
      state: "lost",
      frames,
      backfilled,
      present: null,
      reason: `the write-ahead log ${walPath} is missing, but ${
        frames - backfilled
      } committed frames not yet in the database were in it`,
    };
  }
  const present = Math.max(0, Math.floor((walSize - WAL_HEADER) / (FRAME_HEADER + pageSize)));
  // A log whose salts differ from the index's is another log than the one the index describes.
  const header = readPrefix(walPath, WAL_HEADER);
  const saltsMatch = header !== null && header.length === WAL_HEADER &&
    header.subarray(16, 24).every((b, i) => b === shm[32 + i]);
  if (present >= frames && saltsMatch) return { state: "whole", frames };
  return {
    state: "lost",
    frames,
    backfilled,
    present,
    reason: saltsMatch
      ? `the write-ahead log ${walPath} holds ${present} of the ${frames} frames committed to it ` +
        `(${walSize} bytes, ${WAL_HEADER + frames * (FRAME_HEADER + pageSize)} expected)`
      : `the write-ahead log ${walPath} is not the one its index ${dbPath}-shm describes ` +
        `(${frames} committed frames)`,
  };
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

function readPrefix(path: string, bytes: number): Uint8Array | null {
  let file;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  try {
    const buf = new Uint8Array(bytes);
    let got = 0;
    while (got < bytes) {
      const n = file.readSync(buf.subarray(got));
      if (n === null || n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    file.close();
  }
}
