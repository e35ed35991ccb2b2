/** End-to-end on PostgreSQL: a real relay with `--store postgres://…` killed with SIGKILL mid-burst loses no acknowledged edit. */
import assert from "assert";
import { createMap, runRelayToExit, startRelay } from "./_relay.ts";
import { connect, join, withTimeout } from "./_ws.ts";
import type { EditMsg, TestPeer } from "./_ws.ts";
import { canonicalFeatures, feature, getFeatures, point, put } from "./_fixtures.ts";
import { startPostgres } from "./_postgres.ts";

/** The acks `peer` got for its own edits (their ids start with `prefix`). */
function acks(peer: TestPeer, prefix: string): EditMsg[] {
  return peer.all("edit").filter((e) => String(e.id).startsWith(prefix));
}

Deno.test("PostgreSQL store: kill -9 during two peers' edits; every acknowledged edit is in the journal, seq contiguous", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase("dm_e2e");
  const args = ["--store", url];
  const total = 300;
  const first = await (async () => {
    const relay = await startRelay({ args });
    try {
      assert.ok(relay.logs.some((l) => l.event === "store_migrated"));
      const map = await createMap(relay.url, "On PostgreSQL");
      const { peer: a } = await join(relay.wsUrl, map.id, map.editKey, { name: "A", client: "ca" });
      const { peer: b } = await join(relay.wsUrl, map.id, map.editKey, { name: "B", client: "cb" });
      // Both stream edits without waiting for acks; the kill lands in the middle.
      for (let i = 0; i < total; i++) {
        a.send({ type: "edit", id: `a-${i}`, ops: [put(feature(`a${i}`, point(i % 180, 1)))] });
        b.send({ type: "edit", id: `b-${i}`, ops: [put(feature(`b${i}`, point(i % 180, 2)))] });
      }
      await a.next((m) => m.type === "edit" && m.id === "a-40", 20_000, "the ack of a-40");
      await relay.kill();
      await withTimeout(a.closed, 5000, "A's socket to drop");
      await withTimeout(b.closed, 5000, "B's socket to drop");
      const ackedA = acks(a, "a-");
      assert.ok(ackedA.length < total, "the kill came in the middle of the stream");
      return { map, acked: [...ackedA, ...acks(b, "b-")] };
    } finally {
      await relay.kill();
    }
  })();

  // The journal itself: seqs from 1 without a gap or a repeat, every ack at its seq.
  const rows = (await pg.psql(
    "dm_e2e",
    `SELECT seq || '|' || coalesce(client, '') || '|' || coalesce(edit_id, '') FROM edits ` +
      `WHERE map_id = '${first.map.id}' ORDER BY seq;`,
  )).split("\n").map((line) => line.split("|"));
  const seqs = rows.map(([seq]) => Number(seq));
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), "journal seqs are 1..N");
  const bySeq = new Map(rows.map(([seq, client, id]) => [Number(seq), `${client}/${id}`]));
  for (const ack of first.acked) {
    const client = String(ack.id).startsWith("a-") ? "ca" : "cb";
    assert.equal(bySeq.get(ack.seq), `${client}/${ack.id}`, `ack ${ack.id} is seq ${ack.seq}`);
  }
  const head = await pg.psql("dm_e2e", `SELECT head_seq FROM maps WHERE id = '${first.map.id}';`);
  assert.equal(Number(head), seqs.length);

  // Restarted on the same database: the map is back with every acknowledged edit, and goes on.
  await using relay = await startRelay({ args });
  const { map } = first;
  const fc = await getFeatures(relay.url, map.id, map.viewKey);
  const ids = new Set(fc.features.map((f) => f.id));
  for (const ack of first.acked) {
    const fid = String(ack.id).replace("-", "");
    assert.ok(ids.has(fid), `acknowledged edit ${ack.id} (seq ${ack.seq}) is in the map`);
  }
  assert.equal(fc.features.length, seqs.length);
  const { peer, welcome } = await join(relay.wsUrl, map.id, map.editKey, {
    name: "after",
    client: "cc",
  });
  await using _p = peer;
  assert.equal(welcome.seq, seqs.length);
  assert.equal(canonicalFeatures(welcome.features?.features ?? []), canonicalFeatures(fc.features));
  peer.send({ type: "edit", id: "post", ops: [put(feature("post", point(0, 0)))] });
  const post = await peer.nextOf("edit", (m) => m.id === "post");
  assert.equal(post.seq, seqs.length + 1);
});

Deno.test("PostgreSQL store: a database that cannot be reached stops the start with one line and exit 3", async () => {
  const refused = await runRelayToExit([
    "--port",
    "0",
    "--store",
    "postgres://dm:secret@127.0.0.1:1/nowhere",
  ]);
  assert.equal(refused.code, 3);
  assert.equal(refused.listened, false);
  assert.equal(refused.stderr.length, 1, refused.stderr.join("\n"));
  assert.match(refused.stderr[0], /^duplexmap: cannot use the PostgreSQL database at postgres:/);
  assert.ok(!refused.stderr[0].includes("secret"), "the password is not printed");
});

Deno.test("PostgreSQL store: the database restarted with -m immediate; the relay says try again, then recovers with every acknowledged edit", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase("dm_restart");
  await using relay = await startRelay({ args: ["--store", url] });
  const map = await createMap(relay.url, "Restarted");
  const { peer: a } = await join(relay.wsUrl, map.id, map.editKey, { name: "A", client: "ca" });
  for (let i = 0; i < 5; i++) {
    a.send({ type: "edit", id: `a-${i}`, ops: [put(feature(`a${i}`, point(i, 1)))] });
  }
  await a.next((m) => m.type === "edit" && m.id === "a-4", 10_000, "the ack of a-4");

  await pg.stop("immediate");
  // An edit while the database is away is never acknowledged: its peer is told to reconnect.
  a.send({ type: "edit", id: "a-lost", ops: [put(feature("lost", point(9, 9)))] });
  const closed = await withTimeout(a.closed, 15_000, "A to be closed after the failed commit");
  assert.equal(closed.code, 1011);
  assert.ok(!acks(a, "a-").some((e) => e.id === "a-lost"));
  // Joining and reading meanwhile: "try again" (1013, 503), not "damaged".
  const b = await connect(relay.wsUrl, map.id, { label: "B" });
  b.send({ type: "hello", key: map.editKey, name: "B", color: "#112233" });
  const refused = await withTimeout(b.closed, 15_000, "B to be refused while the database is down");
  assert.equal(refused.code, 1013, refused.reason);
  assert.match(refused.reason, /cannot reach its database/);
  const res = await fetch(`${relay.url}/api/maps/${map.id}/features?key=${map.viewKey}`);
  assert.equal(res.status, 503);
  await res.body?.cancel();

  await pg.start();
  // The same relay, its pool reconnected: the map loads again with every acknowledged edit.
  const { peer: c, welcome } = await join(relay.wsUrl, map.id, map.editKey, {
    name: "C",
    client: "ca",
  });
  await using _c = c;
  assert.equal(welcome.seq, 5);
  c.send({ type: "edit", id: "a-lost", ops: [put(feature("lost", point(9, 9)))] });
  const resent = await c.nextOf("edit", (m) => m.id === "a-lost");
  assert.equal(resent.seq, 6);
  // An edit acknowledged before the restart, re-sent under the same client: the reloaded map
  // knows it from the journal, so it is answered duplicate and not applied again.
  c.send({ type: "edit", id: "a-4", ops: [put(feature("a4", point(4, 1)))] });
  const dupe = await c.nextOf("rejected", (m) => m.id === "a-4");
  assert.equal(dupe.code, "duplicate");
  const seqs = await pg.psql(
    "dm_restart",
    `SELECT string_agg(seq::text, ',' ORDER BY seq) FROM edits;`,
  );
  assert.equal(seqs, "1,2,3,4,5,6");
  assert.ok(relay.logs.some((l) => l.event === "store_unreachable"));
  assert.ok(!relay.logs.some((l) => l.event === "map_unavailable"), "not taken for damage");
});
