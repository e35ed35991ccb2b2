/** The PostgreSQL store on a real PostgreSQL 15: the shared store suite, migrations, fencing of appends. */
import assert from "assert";
import {
  entries,
  historyContract,
  historyStepsContract,
  record,
  storeContract,
} from "../relay/_store_contract.ts";
import type { StoreDatabaseFactory } from "../relay/_store_contract.ts";
import postgres from "postgres";
import { migrate, MIGRATIONS } from "../relay/pg_migrations.ts";
import { PgStore } from "../relay/pg_store.ts";
import { DuplicateEditError, StoreUnreachableError } from "../relay/map_store.ts";
import { startPostgres } from "./_postgres.ts";

Deno.test("PostgreSQL store passes the shared store suite", async (t) => {
  await using pg = await startPostgres();
  const fresh: StoreDatabaseFactory = async () => {
    const url = await pg.createDatabase();
    const database = new URL(url).pathname.slice(1);
    return {
      open: () => PgStore.open({ url }),
      removeEdit: async (mapId, seq) => {
        await pg.psql(database, `DELETE FROM edits WHERE map_id = '${mapId}' AND seq = ${seq};`);
      },
      dispose: async () => {
        await pg.psql("postgres", `DROP DATABASE ${database};`);
      },
      reader: (store) => (store as PgStore).history,
    };
  };
  await storeContract(t, fresh);
  await historyContract(t, fresh);
  await historyStepsContract(t, fresh);
});

Deno.test("PostgreSQL store: relays starting at once migrate the schema once", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase();
  const stores = await Promise.all([1, 2, 3].map(() => PgStore.open({ url })));
  try {
    const applied = stores.map((s) => s.migration.applied);
    assert.deepEqual(applied.flat(), MIGRATIONS.map((m) => m.version));
    for (const s of stores) assert.equal(s.migration.version, MIGRATIONS.at(-1)!.version);
    const versions = await pg.psql("dm_test_1", "SELECT version FROM schema_migrations;");
    assert.equal(versions, MIGRATIONS.map((m) => m.version).join("\n"));
    // A later start finds nothing to do.
    const again = await PgStore.open({ url });
    assert.deepEqual(again.migration.applied, []);
    await again.close();
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});

Deno.test("PostgreSQL store: a schema newer than the relay is refused, a re-sent edit is stored once and fails only its own map's batch", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase();
  const store = await PgStore.open({ url });
  try {
    await store.createMap(record("m1abcdefgh"));
    await store.appendBatches([{ mapId: "m1abcdefgh", entries: entries(1, 2, "c1") }]);
    await store.createMap(record("m2abcdefgh"));
    // The same client and edit id again under the next seq (its ack was lost; another relay took
    // the map): refused as a duplicate naming it, nothing of its batch written, while another
    // map's batch in the same append is written.
    const resent = [
      { seq: 3, frame: "{}", client: "c2", id: "c2-3" },
      { seq: 4, frame: "{}", client: "c1", id: "c1-2" },
    ];
    const result = await store.appendBatches([
      { mapId: "m1abcdefgh", entries: resent },
      { mapId: "m2abcdefgh", entries: entries(1, 1, "c3") },
    ]);
    assert.equal(result.duplicates?.length, 1);
    const err = result.duplicates![0];
    assert.ok(err instanceof DuplicateEditError, String(err));
    assert.equal(err.mapId, "m1abcdefgh");
    assert.deepEqual(err.edits, [{ client: "c1", id: "c1-2" }]);
    const map = await store.loadMap("m1abcdefgh", 10);
    assert.equal(map?.tail.length, 2);
    const other = await store.loadMap("m2abcdefgh", 10);
    assert.deepEqual(other?.tail.map((e) => e.seq), [1], "the other map's batch is written");
    // Loaded with each edit's author and id, so a room recognises a re-send before the store does.
    assert.deepEqual(map?.tail.map((e) => [e.client, e.id]), [["c1", "c1-1"], ["c1", "c1-2"]]);
    await pg.psql("dm_test_1", "INSERT INTO schema_migrations (version, name) VALUES (999, 'x');");
    await assert.rejects(
      () => PgStore.open({ url }),
      new RegExp(`schema is at version 999, newer than this relay's ${MIGRATIONS.at(-1)!.version}`),
    );
  } finally {
    await store.close();
  }
});

Deno.test("PostgreSQL store: appends are acknowledged with synchronous_commit on", async () => {
  // The server's default is off here; the relay's own sessions still wait for the disk.
  await using pg = await startPostgres({ settings: { synchronous_commit: "off" } });
  const url = await pg.createDatabase();
  assert.equal(await pg.psql("dm_test_1", "SHOW synchronous_commit;"), "off");
  const store = await PgStore.open({ url });
  try {
    // Each pooled connection is set when it opens; ask several times to meet more than one.
    const seen = await Promise.all(
      [1, 2, 3, 4].map(() => store.sessionSetting("synchronous_commit")),
    );
    assert.deepEqual(seen, ["on", "on", "on", "on"]);
    await store.createMap(record("m1abcdefgh"));
    await store.appendBatches([{ mapId: "m1abcdefgh", entries: entries(1, 1) }]);
  } finally {
    await store.close();
  }
  // A crash right after the acknowledgement loses nothing.
  await pg.stop("immediate");
  await pg.start();
  const again = await PgStore.open({ url });
  try {
    assert.deepEqual((await again.loadMap("m1abcdefgh", 10))?.tail.map((e) => e.seq), [1]);
  } finally {
    await again.close();
  }
});

Deno.test("PostgreSQL store: a database of an older schema is migrated in place, its maps kept", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase();
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    assert.deepEqual(await migrate(sql, MIGRATIONS.slice(0, 1)), { version: 1, applied: [1] });
  } finally {
    await sql.end({ timeout: 1 });
  }
  await pg.psql(
    "dm_test_1",
    "INSERT INTO maps (id, title, edit_hash, view_hash, created_at, epoch, head_seq) " +
      "VALUES ('m1abcdefgh', 'Old', '\\x00', '\\x01', 1, 'e', 0);",
  );
  const store = await PgStore.open({ url });
  try {
    assert.deepEqual(store.migration.applied, MIGRATIONS.slice(1).map((m) => m.version));
    assert.equal((await store.loadRecord("m1abcdefgh"))?.title, "Old");
    assert.equal((await store.acquireLease("m1abcdefgh", "r1", 1000))?.epoch, 1);
  } finally {
    await store.close();
  }
});

Deno.test("PostgreSQL store: sessions ended by pg_terminate_backend are replaced; a lost one reads as unreachable", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase();
  const store = await PgStore.open({ url });
  try {
    await store.createMap(record("m1abcdefgh"));
    assert.ok(await pg.terminateBackends("dm_test_1") >= 1);
    // The pool notices a session ended under it on its next use: that call may fail, as
    // "unreachable" (try again), never as damage; the one after runs on a new session.
    const errors: unknown[] = [];
    let title: string | undefined;
    for (let i = 0; i < 3 && title === undefined; i++) {
      title = await store.loadRecord("m1abcdefgh").then((r) => r?.title, (err) => {
        errors.push(err);
        return undefined;
      });
    }
    assert.equal(title, "Map m1abcdefgh");
    for (const err of errors) assert.ok(err instanceof StoreUnreachableError, String(err));
  } finally {
    await store.close();
  }
});
