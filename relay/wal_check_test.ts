/** Unit tests of the lost-log check, on files left by a real SQLite process killed with SIGKILL. */
import assert from "assert";
import { join } from "node:path";
import { checkWal } from "./wal_check.ts";

const WRITER = `
import { DatabaseSync } from "node:sqlite";
const db = new DatabaseSync(Deno.args[0]);
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE t (x TEXT)");
const insert = db.prepare("INSERT INTO t VALUES (?)");
for (let i = 0; i < 40; i++) insert.run("x".repeat(500));
Deno.kill(Deno.pid, "SIGKILL");
`;

/** A database whose writer was killed: its -wal and -shm are left as a crash leaves them. */
async function crashed(): Promise<AsyncDisposable & { db: string }> {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-wal-check-test-" });
  const db = join(dir, "t.sqlite");
  await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", WRITER, db],
    stdout: "null",
    stderr: "null",
  }).output();
  return { db, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("checkWal: with no database there is nothing to compare", async () => {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-wal-check-test-" });
  try {
    assert.deepEqual(checkWal(join(dir, "none.sqlite")), { state: "clean" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkWal: after a crash with the log intact, every counted frame is there", async () => {
  await using f = await crashed();
  const check = checkWal(f.db);
  assert.equal(check.state, "whole");
  assert.ok(check.state === "whole" && check.frames >= 40);
});

Deno.test("checkWal: a log cut short or deleted after a crash is a loss", async () => {
  await using f = await crashed();
  const { size } = await Deno.stat(`${f.db}-wal`);
  await Deno.truncate(`${f.db}-wal`, size - 5000);
  const cut = checkWal(f.db);
  assert.equal(cut.state, "lost");
  assert.ok(cut.state === "lost" && cut.present !== null && cut.present < cut.frames);
  await Deno.remove(`${f.db}-wal`);
  const gone = checkWal(f.db);
  assert.ok(gone.state === "lost" && gone.present === null && /missing/.test(gone.reason));
});

Deno.test("checkWal: frames already checkpointed into the database cannot be lost", async () => {
  await using f = await crashed();
  const shm = await Deno.readFile(`${f.db}-shm`);
  const view = new DataView(shm.buffer);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  // nBackfill = mxFrame: a checkpoint copied every frame, the log is no longer needed.
  view.setUint32(96, view.getUint32(16, little), little);
  await Deno.writeFile(`${f.db}-shm`, shm);
  await Deno.remove(`${f.db}-wal`);
  assert.deepEqual(checkWal(f.db), { state: "clean" });
});

Deno.test("checkWal: an index header caught mid-update (its two copies differ) is not trusted", async () => {
  await using f = await crashed();
  const shm = await Deno.readFile(`${f.db}-shm`);
  shm[48 + 16] ^= 0xff;
  await Deno.writeFile(`${f.db}-shm`, shm);
  await Deno.remove(`${f.db}-wal`);
  assert.deepEqual(checkWal(f.db), { state: "clean" });
});
