/** End-to-end: `duplexmap backup` copies the live database while a relay takes edits. */
import assert from "assert";
import { join as joinPath } from "node:path";
import { createMap, runRelayToExit, startRelay } from "./_relay.ts";
import { join } from "./_ws.ts";
import { canonicalFeatures, feature, getFeatures, point, put } from "./_fixtures.ts";

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

Deno.test("after a restore, a client holding a seq of the lost history gets the restored map, not a wrong catch-up", async () => {
  const work = await Deno.makeTempDir({ prefix: "duplexmap-epoch-" });
  try {
    const data = joinPath(work, "data");
    const backup = joinPath(work, "backup.sqlite");
    let map;
    let held: { seq: number; epoch: string | undefined };
    {
      await using relay = await startRelay({ dataDir: data });
      map = await createMap(relay.url, "Restored");
      const { peer, welcome } = await join(relay.wsUrl, map.id, map.editKey, { name: "A" });
      await using _a = peer;
      assert.match(welcome.epoch ?? "", /^[0-9a-f]{32}$/, "welcome names the history's epoch");
      const edit = async (i: number) => {
        peer.send({ type: "edit", id: `a-${i}`, ops: [put(feature(`a${i}`, point(i, 1)))] });
        return (await peer.nextOf("edit", (m) => m.id === `a-${i}`)).seq;
      };
      for (let i = 1; i <= 3; i++) await edit(i);
      const taken = await runRelayToExit(["backup", "--data", data, "--to", backup]);
      assert.equal(taken.code, 0, `backup failed: ${taken.stderr.join("\n")}`);
      // Acknowledged after the backup: these are lost by the restore.
      for (let i = 4; i <= 6; i++) await edit(i);
      held = { seq: 6, epoch: welcome.epoch };
    }

    // Restore: the live files go, the backup takes their place, the relay starts again.
    for await (const entry of Deno.readDir(data)) {
      if (entry.name.startsWith("duplexmap.sqlite")) await Deno.remove(joinPath(data, entry.name));
    }
    await Deno.copyFile(backup, joinPath(data, "duplexmap.sqlite"));
    await using relay = await startRelay({ dataDir: data });
    // Clients from after the restore: one stays and edits past the old seq, one leaves at seq 3.
    const { peer: b, welcome: atRestore } = await join(relay.wsUrl, map.id, map.editKey, {
      name: "B",
    });
    await using _b = b;
    assert.equal(atRestore.seq, 3);
    assert.ok(
      atRestore.epoch && atRestore.epoch !== held.epoch,
      "the restored copy is a new epoch",
    );
    for (let i = 1; i <= 5; i++) {
      b.send({ type: "edit", id: `b-${i}`, ops: [put(feature(`b${i}`, point(i, 2)))] });
    }
    await b.nextOf("edit", (m) => m.id === "b-5");
    const restoredState = await getFeatures(relay.url, map.id, map.viewKey);
    assert.deepEqual(
      restoredState.features.map((f) => f.id).sort(),
      ["a1", "a2", "a3", "b1", "b2", "b3", "b4", "b5"],
      "the edits after the backup are gone",
    );

    // A comes back with seq 6 of the old history: the map is at seq 8 now, but 4-6 are not A's.
    const { peer: a, welcome } = await join(relay.wsUrl, map.id, map.editKey, {
      name: "A",
      since: held.seq,
      epoch: held.epoch,
    });
    await using _a = a;
    assert.equal(welcome.ops, undefined, "no catch-up across histories");
    assert.equal(welcome.seq, 8);
    assert.equal(welcome.epoch, atRestore.epoch);
    // The same map (the welcome also says who last changed each feature; exports leave that out).
    assert.ok(welcome.features);
    assert.equal(
      canonicalFeatures(welcome.features.features),
      canonicalFeatures(restoredState.features),
    );
    const logged = await relay.waitForLog((l) => l.event === "epoch_mismatch");
    assert.equal(logged.map, map.id);
    assert.equal(logged.since, 6);

    // A client of the restored history catches up with ops as usual.
    const { peer: c, welcome: caughtUp } = await join(relay.wsUrl, map.id, map.viewKey, {
      name: "C",
      since: atRestore.seq,
      epoch: atRestore.epoch,
    });
    await using _c = c;
    assert.equal(caughtUp.features, undefined);
    assert.deepEqual(caughtUp.ops?.map((e) => e.id), ["b-1", "b-2", "b-3", "b-4", "b-5"]);
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
});
