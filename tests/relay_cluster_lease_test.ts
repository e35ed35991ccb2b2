/** Two relay processes on one PostgreSQL: one fenced owner per map, handoff, self-fencing (issue 13). */
import assert from "assert";
import postgres from "postgres";
import { createMap, startRelay } from "./_relay.ts";
import type { RelayProcess } from "./_relay.ts";
import { join, withTimeout } from "./_ws.ts";
import type { TestPeer } from "./_ws.ts";
import { feature, point, put } from "./_fixtures.ts";
import { startPostgres } from "./_postgres.ts";
import { until } from "./_process.ts";

const LEASE_MS = 1500;

/** A database and relays r1, r2 on it (`--relay-id rN --lease-ms 1500`), cleaned up together. */
async function cluster(name: string, relays = 2, extraArgs: string[] = []) {
  const pg = await startPostgres();
  const url = await pg.createDatabase(name);
  const started: RelayProcess[] = [];
  try {
    for (let i = 1; i <= relays; i++) {
      started.push(
        await startRelay({
          args: [
            "--store",
            url,
            "--relay-id",
            `r${i}`,
            "--lease-ms",
            String(LEASE_MS),
            ...extraArgs,
          ],
        }),
      );
    }
  } catch (err) {
    for (const r of started) await r[Symbol.asyncDispose]();
    await pg[Symbol.asyncDispose]();
    throw err;
  }
  const sql = async (query: string) => await pg.psql(name, query);
  return {
    pg,
    url,
    relays: started,
    sql,
    /** `owner`, `owner_epoch`, `head_seq` of a map's row. */
    async ownerOf(mapId: string) {
      const [owner, epoch, head] = (await sql(
        `SELECT coalesce(owner, '') || '|' || owner_epoch || '|' || head_seq FROM maps WHERE id = '${mapId}';`,
      )).split("|");
      return { owner: owner || null, epoch: Number(epoch), head: Number(head) };
    },
    /** The map's journal: `seq client edit_id`, in seq order. */
    async journal(mapId: string) {
      const text = await sql(
        `SELECT seq || '|' || coalesce(client, '') || '|' || coalesce(edit_id, '') FROM edits ` +
          `WHERE map_id = '${mapId}' ORDER BY seq;`,
      );
      return text === "" ? [] : text.split("\n").map((line) => {
        const [seq, client, id] = line.split("|");
        return { seq: Number(seq), client, id };
      });
    },
    async [Symbol.asyncDispose]() {
      for (const r of started) await r[Symbol.asyncDispose]();
      await pg[Symbol.asyncDispose]();
    },
  };
}

/** A relay's `/metrics` value for one sample name (with labels), or NaN. */
async function metric(relay: RelayProcess, sample: string): Promise<number> {
  const text = await (await fetch(`${relay.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(sample + " "));
  return line ? Number(line.slice(sample.length + 1)) : NaN;
}

/** Sends an edit putting a point `fid` and returns its ack (`edit` with the same id). */
async function edit(peer: TestPeer, id: string) {
  peer.send({ type: "edit", id, ops: [put(feature(id, point(1, 1)))] });
  return await peer.nextOf("edit", (m) => m.id === id);
}

/** The journal has seqs 1..N once each and no edit (client, id) twice. */
function assertJournal(rows: { seq: number; client: string; id: string }[]): void {
  assert.deepEqual(rows.map((r) => r.seq), rows.map((_, i) => i + 1), "seqs are 1..N, once each");
  const ids = rows.filter((r) => r.id !== "").map((r) => `${r.client}/${r.id}`);
  assert.equal(new Set(ids).size, ids.length, `no edit twice: ${ids}`);
}

Deno.test("cluster leases: a map opened on r1 is handed to r2 when a peer joins it there; the moved peer reconnects and its pending edit is applied once", async () => {
  await using c = await cluster("dm_handoff");
  const [r1, r2] = c.relays;
  const map = await createMap(r1.url, "Handoff");
  const { peer: a } = await join(r1.wsUrl, map.id, map.editKey, { name: "A", client: "ca" });
  for (const id of ["a-1", "a-2", "a-3"]) await edit(a, id);
  const before = await c.ownerOf(map.id);
  assert.deepEqual(before, { owner: "r1", epoch: before.epoch, head: 3 });

  // An edit whose ack A never sees (sent as the map moves): A must re-send it after reconnecting.
  a.send({ type: "edit", id: "a-4", ops: [put(feature("a-4", point(2, 2)))] });
  const { peer: b, welcome } = await join(r2.wsUrl, map.id, map.editKey, {
    name: "B",
    client: "cb",
  });
  await using _b = b;
  assert.deepEqual(await withTimeout(a.closed, 5000, "A told moved"), {
    code: 1012,
    reason: "moved",
  });
  const after = await c.ownerOf(map.id);
  assert.equal(after.owner, "r2");
  assert.ok(after.epoch > before.epoch, `epoch ${after.epoch} > ${before.epoch}`);
  // Everything r1 committed before it let go is in what r2 loaded.
  const ids = new Set(welcome.features?.features.map((f) => f.id));
  for (const id of ["a-1", "a-2", "a-3"]) assert.ok(ids.has(id), `${id} is on r2`);

  // A comes back (HAProxy would send it to r2) with since, and re-sends its pending edit.
  const lastSeen = Math.max(...a.all("edit").map((e) => e.seq));
  const { peer: again } = await join(r2.wsUrl, map.id, map.editKey, {
    name: "A",
    client: "ca",
    since: lastSeen,
  });
  await using _again = again;
  again.send({ type: "edit", id: "a-4", ops: [put(feature("a-4", point(2, 2)))] });
  await again.next(
    (m) => (m.type === "edit" || m.type === "rejected") && m.id === "a-4",
    5000,
    "a-4 answered (ack, or duplicate when r1 had committed it)",
  );
  await edit(again, "a-5");
  const rows = await c.journal(map.id);
  assertJournal(rows);
  assert.equal(rows.filter((r) => r.id === "a-4").length, 1, "a-4 applied once");
  assert.equal(await metric(r1, 'duplexmap_handoffs_total{direction="out"}'), 1);
  assert.equal(await metric(r2, 'duplexmap_handoffs_total{direction="in"}'), 1);
  assert.ok(r2.logs.some((l) => l.event === "handoff_requested" && l.owner === "r1"));
  assert.ok(r1.logs.some((l) => l.event === "handoff_released" && l.to === "r2"));
});

Deno.test("cluster leases: a commit under a stale epoch is fenced: not acknowledged, peers told moved, the other map of the same moment commits", async () => {
  await using c = await cluster("dm_fence", 1);
  const [r1] = c.relays;
  const m1 = await createMap(r1.url, "Taken over");
  const m2 = await createMap(r1.url, "Still ours");
  const { peer: a } = await join(r1.wsUrl, m1.id, m1.editKey, { name: "A", client: "ca" });
  const { peer: b } = await join(r1.wsUrl, m2.id, m2.editKey, { name: "B", client: "cb" });
  await using _b = b;
  await edit(a, "a-1");
  await edit(b, "b-1");
  const before = await c.ownerOf(m1.id);
  assert.equal(before.owner, "r1");

  // Another relay takes m1 (as after an expiry), in a transaction this test keeps open until
  // r1's commit waits on the map's row: r1 cannot learn of it from a renewal first.
  const sql = postgres(c.url, { max: 1, onnotice: () => {} });
  try {
    await sql.begin(async (tx) => {
      await tx`UPDATE maps SET owner = 'r9', owner_epoch = owner_epoch + 1,
        lease_until = now() + interval '1 hour' WHERE id = ${m1.id}`;
      a.send({ type: "edit", id: "a-2", ops: [put(feature("a-2", point(3, 3)))] });
      b.send({ type: "edit", id: "b-2", ops: [put(feature("b-2", point(3, 3)))] });
      await until(async () => {
        const [row] = await tx`SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE wait_event_type = 'Lock' AND datname = current_database()
            AND query NOT LIKE '%lease_until%'`; // a commit's, not a renewal's
        return row.n > 0;
      }, "r1's commit waiting on m1's row");
    });
  } finally {
    await sql.end();
  }
  assert.deepEqual(await withTimeout(a.closed, 5000, "A told moved"), {
    code: 1012,
    reason: "moved",
  });
  assert.equal(a.all("edit").filter((e) => e.id === "a-2").length, 0, "a-2 never acknowledged");
  await b.nextOf("edit", (m) => m.id === "b-2");
  assert.ok(b.open, "B's map was not disturbed");
  assert.deepEqual((await c.journal(m1.id)).map((r) => r.id), ["a-1"]);
  assertJournal(await c.journal(m2.id));
  assert.deepEqual((await c.journal(m2.id)).map((r) => r.id), ["b-1", "b-2"]);
  assert.equal(await metric(r1, "duplexmap_fenced_commits_total"), 1);
  const fenced = r1.logs.find((l) => l.event === "commit_fenced");
  assert.deepEqual(
    { map: fenced?.map, epoch: fenced?.epoch, current: fenced?.current_epoch },
    { map: m1.id, epoch: before.epoch, current: before.epoch + 1 },
  );
});

Deno.test("cluster leases: r1 stopped longer than its lease, r2 takes the map; r1 resumed issues no seq twice and tells its peers moved", async () => {
  await using c = await cluster("dm_sigstop");
  const [r1, r2] = c.relays;
  const map = await createMap(r1.url, "Paused owner");
  const { peer: a } = await join(r1.wsUrl, map.id, map.editKey, { name: "A", client: "ca" });
  await edit(a, "a-1");
  const before = await c.ownerOf(map.id);
  Deno.kill(r1.pid, "SIGSTOP");
  try {
    // Sequenced by nobody while r1 sleeps: it waits in r1's socket buffer.
    a.send({ type: "edit", id: "a-2", ops: [put(feature("a-2", point(4, 4)))] });
    // r2 asks r1 (which cannot answer) and takes the map once r1's lease has run out.
    const { peer: b } = await join(r2.wsUrl, map.id, map.editKey, { name: "B", client: "cb" });
    await using _b = b;
    const taken = await c.ownerOf(map.id);
    assert.equal(taken.owner, "r2");
    assert.ok(taken.epoch > before.epoch);
    const b1 = await edit(b, "b-1");
    assert.equal(b1.seq, 2);
  } finally {
    Deno.kill(r1.pid, "SIGCONT");
  }
  assert.deepEqual(await withTimeout(a.closed, 10_000, "A told moved"), {
    code: 1012,
    reason: "moved",
  });
  // r1 fenced itself, or its commit was fenced: a-2 was never acknowledged under any seq.
  assert.equal(a.all("edit").filter((e) => e.id === "a-2").length, 0);
  const rows = await c.journal(map.id);
  assertJournal(rows);
  assert.deepEqual(rows.map((r) => r.id), ["a-1", "b-1"]);
  assert.ok(
    r1.logs.some((l) => l.event === "self_fenced" || l.event === "commit_fenced"),
    "r1 logged that it stopped sequencing the map",
  );
  // r1 renews again (the database answers): healthy, and owns nothing.
  await until(async () => (await fetch(`${r1.url}/healthz`)).status === 200, "r1 healthy again");
  assert.equal(await metric(r1, "duplexmap_maps_owned"), 0);
});

Deno.test("cluster leases: r1's database connections cut and refused: it fences itself within its lease (503), then recovers (200) with no seq twice", async () => {
  await using c = await cluster("dm_cut", 1);
  const [r1] = c.relays;
  const map = await createMap(r1.url, "Cut off");
  const { peer: a } = await join(r1.wsUrl, map.id, map.editKey, { name: "A", client: "ca" });
  await edit(a, "a-1");
  // No new connection may reach the database while its present ones are terminated.
  await c.pg.psql("postgres", "ALTER DATABASE dm_cut ALLOW_CONNECTIONS false;");
  await c.pg.terminateBackends("dm_cut");
  const fenced = await r1.waitForLog((l) => l.event === "self_fenced", 10_000);
  assert.deepEqual(fenced.maps, [map.id]);
  assert.deepEqual(await withTimeout(a.closed, 5000, "A told moved"), {
    code: 1012,
    reason: "moved",
  });
  const down = await fetch(`${r1.url}/healthz`);
  assert.equal(down.status, 503);
  assert.equal((await down.json()).status, "fenced");
  assert.equal(await metric(r1, "duplexmap_self_fenced_total"), 1);
  assert.ok(await metric(r1, "duplexmap_lease_renew_failures_total") >= 1);

  await c.pg.psql("postgres", "ALTER DATABASE dm_cut ALLOW_CONNECTIONS true;");
  await until(async () => (await fetch(`${r1.url}/healthz`)).status === 200, "r1 healthy again");
  const { peer: again } = await join(r1.wsUrl, map.id, map.editKey, {
    name: "A",
    client: "ca",
    since: 1,
  });
  await using _again = again;
  const a2 = await edit(again, "a-2");
  assert.equal(a2.seq, 2);
  assertJournal(await c.journal(map.id));
  assert.equal((await c.ownerOf(map.id)).owner, "r1");
});

Deno.test("cluster leases: a map leaving memory gives its lease back, and so does every map at shutdown after the final commit", async () => {
  await using c = await cluster("dm_release", 1, ["--evict-after-ms", "200"]);
  const [r1] = c.relays;
  const m1 = await createMap(r1.url, "Left alone");
  const m2 = await createMap(r1.url, "Still open");
  const { peer: a } = await join(r1.wsUrl, m1.id, m1.editKey, { name: "A", client: "ca" });
  const { peer: b } = await join(r1.wsUrl, m2.id, m2.editKey, { name: "B", client: "cb" });
  await edit(a, "a-1");
  assert.equal((await c.ownerOf(m1.id)).owner, "r1");
  await a.close();
  // Empty for --evict-after-ms: it leaves memory, and its lease with it.
  await until(async () => (await c.ownerOf(m1.id)).owner === null, "m1's lease released");
  assert.equal((await c.ownerOf(m2.id)).owner, "r1");
  b.send({ type: "edit", id: "b-1", ops: [put(feature("b-1", point(5, 5)))] });
  await r1.stop();
  await b.closed;
  // Stopped gracefully: the final commit is in, and nobody has to wait for the lease to run out.
  const after = await c.ownerOf(m2.id);
  assert.equal(after.owner, null);
  assert.equal(after.head, (await c.journal(m2.id)).length);
  const released = r1.logs.filter((l) => l.event === "lease_released").map((l) => l.map);
  assert.deepEqual(released.sort(), [m1.id, m2.id].sort());
});
