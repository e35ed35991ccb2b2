/** End-to-end: `duplexmap backup` copies the live database while a relay takes edits. */
import assert from "assert";
import { join as joinPath } from "node:path";
import { createMap, runRelayToExit, startRelay } from "./_relay.ts";
import { join } from "./_ws.ts";
import { feature, getFeatures, point, put } from "./_fixtures.ts";

Deno.test("a backup taken while edits stream in holds every edit acknowledged before it started, and serves", async () => {
  const work = await Deno.makeTempDir({ prefix: "duplexmap-backup-" });
  try {
    const live = joinPath(work, "live");
    const backup = joinPath(work, "backup.sqlite");
    let map;
    let ackedBefore: string[];
    let backupRun;
    {
      await using relay = await startRelay({
        dataDir: live,
        args: ["--rate", "10000", "--rate-burst", "10000"],
      });
      map = await createMap(relay.url, "Backed up");
      const { peer } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
      await using _p = peer;
      const send = (from: number, to: number) => {
        for (let i = from; i < to; i++) {
          peer.send({
            type: "edit",
            id: `e-${i}`,
            ops: [put(feature(`f${i}`, point(i % 180, 1)))],
          });
        }
      };
      send(0, 200);
      await peer.nextOf("edit", (m) => m.id === "e-149");
      ackedBefore = peer.all("edit").map((e) => String(e.id));
      // The backup starts now, while the rest of the edits are still arriving and committing.
      const running = runRelayToExit(["backup", "--data", live, "--to", backup]);
      send(200, 400);
      backupRun = await running;
      await peer.nextOf("edit", (m) => m.id === "e-399");
    }
    assert.equal(backupRun.code, 0, `backup failed: ${backupRun.stderr.join("\n")}`);
    assert.equal(backupRun.stdout.length, 1);
    assert.match(
      backupRun.stdout[0],
      /^duplexmap: backed up 1 maps .* to .*backup\.sqlite \(\d+ bytes, checked\)$/,
    );

    // Restore: a fresh directory with the backup as its database.
    const restored = joinPath(work, "restored");
    await Deno.mkdir(restored);
    await Deno.copyFile(backup, joinPath(restored, "duplexmap.sqlite"));
    await using relay = await startRelay({ dataDir: restored });
    const check = await relay.waitForLog((l) => l.event === "store_check");
    assert.equal(check.damaged, 0);
    const ids = new Set(
      (await getFeatures(relay.url, map.id, map.viewKey)).features.map((f) => f.id),
    );
    assert.ok(ackedBefore.length >= 150);
    for (const id of ackedBefore) {
      assert.ok(ids.has(`f${id.slice(2)}`), `edit ${id}, acknowledged before the backup, is in it`);
    }
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
});

Deno.test("backup refuses to overwrite a file and to copy a database that does not exist, in one line", async () => {
  const work = await Deno.makeTempDir({ prefix: "duplexmap-backup-refuse-" });
  try {
    const existing = joinPath(work, "existing.sqlite");
    await Deno.writeTextFile(existing, "keep me");
    const none = await runRelayToExit([
      "backup",
      "--data",
      joinPath(work, "nothing"),
      "--to",
      joinPath(work, "b"),
    ]);
    assert.equal(none.code, 1);
    assert.deepEqual(none.stderr, [
      `duplexmap: cannot back up ${
        joinPath(work, "nothing", "duplexmap.sqlite")
      }: there is no database; check --data`,
    ]);
    {
      await using relay = await startRelay({ dataDir: joinPath(work, "live") });
      await createMap(relay.url);
      const over = await runRelayToExit(["backup", "--data", relay.dataDir, "--to", existing]);
      assert.equal(over.code, 1);
      assert.deepEqual(over.stderr, [
        `duplexmap: cannot back up to ${existing}: the file exists; choose a new file name`,
      ]);
    }
    assert.equal(await Deno.readTextFile(existing), "keep me");
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
});
