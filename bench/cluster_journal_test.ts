import assert from "assert";
import { AckBook, checkJournal } from "./cluster_journal.ts";
import { clusterConfig } from "./cluster_launch.ts";

/** A fake psql answering the journal query with `rows` (map_id|seq|edit id). */
const fakeSql = (rows: string[]) => (query: string) => {
  assert.match(query, /FROM edits WHERE map_id IN \('m1','m2'\)/);
  return Promise.resolve(rows.join("\n"));
};

Deno.test("checkJournal: every acknowledged edit found, seqs 1..n, none twice", async () => {
  const book = new AckBook();
  book.add("m1", "a-1");
  book.add("m1", "a-2");
  book.add("m2", "b:1:2.5");
  const check = await checkJournal(
    fakeSql(["m1|1|a-1", "m1|2|a-2", "m1|3|x-9", "m2|1|b:1:2.5"]),
    book,
  );
  assert.deepEqual(check, { acked: 3, lost: 0, rows: 4, gappedMaps: 0, storedTwice: 0 });
});

Deno.test("checkJournal: counts an acknowledged edit missing, a gap in seqs, an id stored twice", async () => {
  const book = new AckBook();
  book.add("m1", "a-1");
  book.add("m1", "a-2");
  book.add("m2", "b-1");
  const check = await checkJournal(fakeSql(["m1|1|a-1", "m1|3|a-1", "m2|1|b-1"]), book);
  assert.deepEqual(check, { acked: 3, lost: 1, rows: 3, gappedMaps: 1, storedTwice: 1 });
});

Deno.test("checkJournal: an ack that arrives while the journal is read is not looked for in that read", async () => {
  const book = new AckBook();
  book.add("m1", "a-1");
  book.add("m2", "b-1");
  const sql = async (query: string) => {
    const rows = await fakeSql(["m1|1|a-1", "m2|1|b-1"])(query);
    // Committed after the query's snapshot, acknowledged before its answer came back.
    book.add("m1", "a-2");
    return rows;
  };
  assert.deepEqual(await checkJournal(sql, book), {
    acked: 2,
    lost: 0,
    rows: 2,
    gappedMaps: 0,
    storedTwice: 0,
  });
});

Deno.test("clusterConfig adds server lines after the shipped ones, the way the file says", async () => {
  const text = await Deno.readTextFile(
    new URL("../haproxy/haproxy-cluster.cfg", import.meta.url),
  );
  const servers = (cfg: string) =>
    cfg.split("\n").filter((l) => /^\s*server relay\d+ /.test(l)).map((l) => l.trim());
  assert.deepEqual(servers(clusterConfig(text, 4)), [
    ...servers(text),
    'server relay4 "${DM_RELAY4_ADDR}"',
  ]);
  assert.equal(clusterConfig(text, 3), text);
});
