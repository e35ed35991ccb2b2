/** Unit tests of the store on damaged storage: journal gaps, integrity checks, a full disk. */
import assert from "assert";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { hashKey } from "./keys.ts";
import { missingRanges, Store, StoreDamagedError } from "./store.ts";

function record(id: string) {
  return {
    id,
    title: "Survey",
    editHash: hashKey(`edit-${id}`),
    viewHash: hashKey(`view-${id}`),
    createdAt: 1_700_000_000_000,
  };
}

function edits(from: number, to: number): { seq: number; frame: string }[] {
  const out = [];
  for (let seq = from; seq <= to; seq++) {
    out.push({ seq, frame: JSON.stringify({ type: "edit", seq, by: "p", id: seq, ops: [] }) });
  }
  return out;
}

/** A store on a temporary file with two maps of 20 edits, the second snapshotted at 12. */
async function damagedFixture(damage: string): Promise<AsyncDisposable & { store: Store }> {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-damage-test-" });
  const path = join(dir, "maps.db");
  const setup = new Store({ path });
  setup.createMap(record("map-aaaaaaaa"));
  setup.createMap(record("map-bbbbbbbb"));
  setup.appendBatches([
    { mapId: "map-aaaaaaaa", entries: edits(1, 20) },
    { mapId: "map-bbbbbbbb", entries: edits(1, 20) },
  ]);
  setup.saveSnapshot("map-bbbbbbbb", 12, "[]", 5);
  setup.close();
  // The damage is done from outside, as a disk, a bad restore or a hand edit would.
  const raw = new DatabaseSync(path);
  raw.exec(damage);
  raw.close();
  const store = new Store({ path });
  return {
    store,
    [Symbol.asyncDispose]: async () => {
      store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("missingRanges names the gaps after the snapshot, between rows and before the snapshot", () => {
  assert.deepEqual(missingRanges(0, []), []);
  assert.deepEqual(missingRanges(0, [1, 2, 3]), []);
  assert.deepEqual(missingRanges(10, [8, 9, 10, 11]), []);
  assert.deepEqual(missingRanges(0, [1, 2, 5, 6, 9]), [[3, 4], [7, 8]]);
  assert.deepEqual(missingRanges(10, [13, 14]), [[11, 12]]);
  assert.deepEqual(missingRanges(10, [6, 7]), [[8, 10]]);
});

Deno.test("Store.loadMap refuses a journal with a gap after the snapshot, naming the map and the missing seqs", async () => {
  await using f = await damagedFixture(
    "DELETE FROM edits WHERE map_id = 'map-aaaaaaaa' AND seq BETWEEN 7 AND 9",
  );
  assert.throws(
    () => f.store.loadMap("map-aaaaaaaa", 100),
    (e) =>
      e instanceof StoreDamagedError && e.mapId === "map-aaaaaaaa" &&
      JSON.stringify(e.missing) === "[[7,9]]" && /map-aaaaaaaa.*7-9 are missing/.test(e.message),
  );
  // The other map is whole and still loads.
  assert.equal(f.store.loadMap("map-bbbbbbbb", 100)?.tail.length, 8);
});

Deno.test("Store.loadMap refuses a map whose tail does not start right after its snapshot", async () => {
  await using f = await damagedFixture(
    "DELETE FROM edits WHERE map_id = 'map-bbbbbbbb' AND seq = 13",
  );
  assert.throws(() => f.store.loadMap("map-bbbbbbbb", 100), /edits 13 are missing/);
});

Deno.test("Store.loadMap refuses a gap in the rows kept for catch-up", async () => {
  await using f = await damagedFixture(
    "DELETE FROM edits WHERE map_id = 'map-bbbbbbbb' AND seq = 10",
  );
  assert.throws(() => f.store.loadMap("map-bbbbbbbb", 100), StoreDamagedError);
});

Deno.test("Store.checkJournals finds every damaged map without loading the whole ones", async () => {
  await using f = await damagedFixture(`
    DELETE FROM edits WHERE map_id = 'map-aaaaaaaa' AND seq IN (3, 19);
    DELETE FROM edits WHERE map_id = 'map-bbbbbbbb' AND seq = 13;
  `);
  const check = f.store.checkJournals();
  assert.equal(check.maps, 2);
  assert.equal(check.edits, 20 + 20 - 3);
  assert.deepEqual(check.damaged, [
    { mapId: "map-aaaaaaaa", missing: [[3, 3], [19, 19]] },
    { mapId: "map-bbbbbbbb", missing: [[13, 13]] },
  ]);
});

Deno.test("Store.checkJournals and quickCheck find nothing on a sound store", async () => {
  await using f = await damagedFixture("SELECT 1");
  assert.deepEqual(f.store.checkJournals().damaged, []);
  assert.deepEqual(f.store.quickCheck(), []);
});

Deno.test("Store.quickCheck reports a page of the file overwritten with garbage", async () => {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-quick-check-test-" });
  const path = join(dir, "maps.db");
  try {
    const setup = new Store({ path });
    for (let i = 0; i < 40; i++) setup.createMap(record(`map-${String(i).padStart(8, "0")}`));
    setup.appendBatches([{ mapId: "map-00000001", entries: edits(1, 300) }]);
    setup.close();
    // A leaf page of the journal becomes noise (found by name, wherever the schema put it; an
    // empty table's root is no damage quick_check can see): the file opens, the damage shows.
    const raw = new DatabaseSync(path);
    const leaf = Number(
      raw.prepare(
        "SELECT pageno FROM dbstat WHERE name = 'edits' AND pagetype = 'leaf' ORDER BY pageno",
      ).get()?.pageno,
    );
    raw.close();
    const bytes = await Deno.readFile(path);
    bytes.fill(0xa5, 4096 * (leaf - 1) + 8, 4096 * (leaf - 1) + 400);
    await Deno.writeFile(path, bytes);
    const store = new Store({ path });
    try {
      assert.ok(store.quickCheck().length > 0, "quick_check found the damage");
    } finally {
      store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Store.transaction on a full disk throws SQLite's real error, not 'cannot rollback'", async () => {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-full-test-" });
  // Room for the schema's empty tables (one page each) and little more.
  const store = new Store({ path: join(dir, "maps.db"), maxPages: 16 });
  try {
    store.createMap(record("map-aaaaaaaa"));
    const big = edits(1, 400).map((e) => ({ ...e, frame: e.frame + " ".repeat(2000) }));
    assert.throws(
      () => store.appendBatches([{ mapId: "map-aaaaaaaa", entries: big }]),
      /database or disk is full/,
    );
    // Nothing of the failed transaction is stored, and the store still works.
    assert.deepEqual(store.loadMap("map-aaaaaaaa", 100)?.tail, []);
    store.appendBatches([{ mapId: "map-aaaaaaaa", entries: edits(1, 2) }]);
    assert.equal(store.loadMap("map-aaaaaaaa", 100)?.tail.length, 2);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
