/** End-to-end: damaged storage is never served silently; the relay refuses with one readable line. */
import assert from "assert";
import { join as joinPath } from "node:path";
import { Store } from "../relay/store.ts";
import { createMap, type RefusedStart, runRelayToExit, startRelay } from "./_relay.ts";
import { join } from "./_ws.ts";
import { feature, getFeatures, point, put } from "./_fixtures.ts";

const DB = "duplexmap.sqlite";
/** Enough rate for a test that streams hundreds of edits from one peer. */
const FAST = ["--rate", "10000", "--rate-burst", "10000"];
const hash = new Uint8Array(32);

/** A temporary data directory, removed afterwards. */
async function dataDir(prefix: string): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: `duplexmap-${prefix}-` });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** Writes `count` edits through a real relay, waits for every ack, then kills it with SIGKILL. */
async function ackedThenKilled(dir: string, count: number) {
  const relay = await startRelay({ dataDir: dir, args: FAST });
  try {
    const map = await createMap(relay.url, "Acknowledged");
    const { peer, welcome } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
    for (let i = 0; i < count; i++) {
      peer.send({ type: "edit", id: `e-${i}`, ops: [put(feature(`f${i}`, point(i % 180, 0)))] });
    }
    const last = await peer.nextOf("edit", (m) => m.id === `e-${count - 1}`, 20_000);
    await relay.kill();
    await peer.close();
    return { map, lastSeq: last.seq, epoch: welcome.epoch };
  } finally {
    await relay.kill();
  }
}

/** The refusal is one line on stderr, with no stack trace, and the relay never listened. */
function assertOneReadableLine(run: RefusedStart, pattern: RegExp): string {
  assert.equal(run.listened, false, "the relay did not start serving");
  assert.equal(run.code, 3, `exit code 3; stderr: ${run.stderr.join("\n")}`);
  const lines = run.stderr.filter((l) => l.trim() !== "");
  assert.equal(lines.length, 1, `one line on stderr, got:\n${lines.join("\n")}`);
  assert.match(lines[0], /^duplexmap: /);
  assert.match(lines[0], pattern);
  return lines[0];
}

Deno.test("after kill -9 with the WAL intact the relay starts, says the last stop was unclean, and has every edit", async () => {
  await using dir = await dataDir("wal-whole");
  const { map } = await ackedThenKilled(dir.path, 50);
  await using relay = await startRelay({ dataDir: dir.path });
  const unclean = await relay.waitForLog((l) => l.event === "store_unclean_stop");
  assert.ok(Number(unclean.frames) > 0);
  assert.equal((await getFeatures(relay.url, map.id, map.viewKey)).features.length, 50);
});

Deno.test("a WAL cut short after kill -9: the relay refuses to start, and with --accept-data-loss starts and logs the loss", async () => {
  await using dir = await dataDir("wal-cut");
  const { map, lastSeq, epoch } = await ackedThenKilled(dir.path, 300);
  const wal = joinPath(dir.path, `${DB}-wal`);
  const { size } = await Deno.stat(wal);
  await Deno.truncate(wal, Math.floor(size / 2));

  const refused = await runRelayToExit(["--port", "0", "--data", dir.path]);
  const line = assertOneReadableLine(refused, /acknowledged edits .* were lost/);
  assert.match(line, /holds \d+ of the \d+ frames/);
  assert.match(line, /restore .* backup .* --accept-data-loss/);
  assert.ok(refused.logs.some((l) => l.event === "store_wal_lost" && l.accepted === false));
  // Refusing left the evidence alone: a second start refuses again.
  assertOneReadableLine(
    await runRelayToExit(["--port", "0", "--data", dir.path]),
    /were lost/,
  );

  await using relay = await startRelay({ dataDir: dir.path, args: ["--accept-data-loss"] });
  const lost = await relay.waitForLog((l) => l.event === "store_wal_lost");
  assert.equal(lost.accepted, true);
  const kept = (await getFeatures(relay.url, map.id, map.editKey)).features.length;
  assert.ok(kept < 300, `the cut really lost acknowledged edits (${kept} of 300 kept)`);
  // A client that saw the lost edits comes back: it gets the whole map and the relay says so.
  const { peer, welcome } = await join(relay.wsUrl, map.id, map.viewKey, {
    name: "B",
    since: lastSeq,
  });
  await using _p = peer;
  assert.ok(welcome.seq < lastSeq);
  assert.equal(welcome.features?.features.length, kept);
  const behind = await relay.waitForLog((l) => l.event === "store_behind_client");
  assert.equal(behind.map, map.id);
  assert.equal(behind.since, lastSeq);
  // The map's history goes on from the loss in a new epoch: once its seq passes lastSeq again,
  // that client (sending its epoch) still gets the whole map, never the wrong edits.
  assert.ok(welcome.epoch && epoch && welcome.epoch !== epoch, "a new epoch after the loss");
  assert.equal((await relay.waitForLog((l) => l.event === "store_epochs_renewed")).maps, 1);
});

Deno.test("a deleted WAL after kill -9: the relay refuses to start instead of losing the map without a word", async () => {
  await using dir = await dataDir("wal-deleted");
  await ackedThenKilled(dir.path, 20);
  await Deno.remove(joinPath(dir.path, `${DB}-wal`));
  const refused = await runRelayToExit(["--port", "0", "--data", dir.path]);
  assertOneReadableLine(refused, /were lost: the write-ahead log .* is missing/);
});

Deno.test("a deleted database file after kill -9: the relay refuses to start instead of starting empty", async () => {
  await using dir = await dataDir("db-deleted");
  await ackedThenKilled(dir.path, 20);
  await Deno.remove(joinPath(dir.path, DB));
  const refused = await runRelayToExit(["--port", "0", "--data", dir.path]);
  assertOneReadableLine(refused, /were lost: the database file .* is missing/);
});

Deno.test("an unreadable database: one line naming the file and what to do, exit 3, no stack trace", async (t) => {
  await t.step("a file that is not a database", async () => {
    await using dir = await dataDir("bad-header");
    await Deno.writeTextFile(joinPath(dir.path, DB), "this is not a database\n".repeat(200));
    const run = await runRelayToExit(["--port", "0", "--data", dir.path]);
    assertOneReadableLine(
      run,
      new RegExp(
        `cannot open the database at ${joinPath(dir.path, DB)}: file is not a database;` +
          ".* restore it from a backup",
      ),
    );
  });
  await t.step("a database file cut short", async () => {
    await using dir = await dataDir("cut-file");
    const path = joinPath(dir.path, DB);
    const store = new Store({ path });
    for (let m = 0; m < 50; m++) {
      const id = `map-${String(m).padStart(8, "0")}`;
      store.createMap({ id, title: "t", editHash: hash, viewHash: hash, createdAt: 0 });
      store.appendBatches([{ mapId: id, entries: [{ seq: 1, frame: "x".repeat(2000) }] }]);
    }
    store.close();
    await Deno.truncate(path, Math.floor((await Deno.stat(path)).size / 8192) * 4096);
    const run = await runRelayToExit(["--port", "0", "--data", dir.path]);
    assertOneReadableLine(run, /cannot open the database at .*: database disk image is malformed;/);
  });
  await t.step("a data directory below a file", async () => {
    await using dir = await dataDir("under-file");
    await Deno.writeTextFile(joinPath(dir.path, "file"), "");
    const run = await runRelayToExit(["--port", "0", "--data", joinPath(dir.path, "file", "d")]);
    assertOneReadableLine(run, /cannot open the database at .*: Not a directory/);
  });
  await t.step("a read-only data directory", async () => {
    await using dir = await dataDir("ro-dir");
    await using _ro = await readOnly(dir.path);
    const run = await runRelayToExit(["--port", "0", "--data", dir.path]);
    assertOneReadableLine(run, /cannot open the database at .*: unable to open database file/);
  });
  await t.step("a database file that cannot be written", async () => {
    await using dir = await dataDir("ro-file");
    new Store({ path: joinPath(dir.path, DB) }).close();
    await using _ro = await readOnly(joinPath(dir.path, DB));
    const run = await runRelayToExit(["--port", "0", "--data", dir.path]);
    assertOneReadableLine(
      run,
      /cannot open the database at .*: attempt to write a readonly database/,
    );
  });
});

Deno.test("a damaged database file (quick_check fails): the relay refuses to start with one line", async () => {
  await using dir = await dataDir("quick-check");
  const path = joinPath(dir.path, DB);
  const store = new Store({ path });
  for (let i = 0; i < 40; i++) {
    const id = `map-${String(i).padStart(8, "0")}`;
    store.createMap({ id, title: "t", editHash: hash, viewHash: hash, createdAt: 0 });
  }
  store.close();
  // A page past the schema overwritten, as a bad disk or a partial copy would leave it.
  const bytes = await Deno.readFile(path);
  bytes.fill(0xa5, 4096 + 8, 4096 + 400);
  await Deno.writeFile(path, bytes);
  const run = await runRelayToExit(["--port", "0", "--data", dir.path]);
  assertOneReadableLine(
    run,
    /the database at .* is damaged \(quick_check: .*\); .*restore it from a backup/,
  );
  assert.ok(run.logs.some((l) => l.event === "store_damaged" && l.check === "quick_check"));
});

Deno.test("a map whose journal has a gap is logged at start-up; the other maps are served", async () => {
  await using dir = await dataDir("journal-gap");
  const maps = [];
  {
    await using relay = await startRelay({ dataDir: dir.path, args: FAST });
    for (const title of ["Damaged", "Whole"]) {
      const map = await createMap(relay.url, title);
      const { peer } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
      await using _p = peer;
      for (let i = 0; i < 10; i++) {
        peer.send({ type: "edit", id: i, ops: [put(feature(`f${i}`, point(i, i)))] });
      }
      await peer.nextOf("edit", (m) => m.id === 9);
      maps.push(map);
    }
  }
  const { DatabaseSync } = await import("node:sqlite");
  const raw = new DatabaseSync(joinPath(dir.path, DB));
  raw.prepare("DELETE FROM edits WHERE map_id = ? AND seq IN (4, 5)").run(maps[0].id);
  raw.close();

  await using relay = await startRelay({ dataDir: dir.path });
  const damaged = await relay.waitForLog((l) => l.event === "store_damaged");
  assert.equal(damaged.map, maps[0].id);
  assert.deepEqual(damaged.missing, [[4, 5]]);
  const check = await relay.waitForLog((l) => l.event === "store_check");
  assert.equal(check.maps, 2);
  assert.equal(check.damaged, 1);
  assert.equal((await getFeatures(relay.url, maps[1].id, maps[1].viewKey)).features.length, 10);
});

/** Makes `path` unwritable, even for root (where permission bits do not stop writes). */
async function readOnly(path: string): Promise<AsyncDisposable> {
  const isDir = (await Deno.stat(path)).isDirectory;
  if (Deno.uid() !== 0) {
    await Deno.chmod(path, isDir ? 0o555 : 0o444);
    return { [Symbol.asyncDispose]: () => Deno.chmod(path, isDir ? 0o755 : 0o644) };
  }
  const chattr = async (flag: string) => {
    const out = await new Deno.Command("chattr", { args: [flag, path], stderr: "piped" }).output();
    if (!out.success) {
      throw new Error(
        `running as root, this test makes ${path} read-only with chattr ${flag} (permission bits ` +
          `do not stop root), which failed: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
  };
  await chattr("+i");
  return { [Symbol.asyncDispose]: () => chattr("-i") };
}
