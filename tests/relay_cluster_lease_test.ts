/** Two relay processes on one PostgreSQL: one fenced owner per map, handoff, self-fencing (issue 13). */
import assert from "assert";
import { createMap, startRelay } from "./_relay.ts";
import type { RelayProcess } from "./_relay.ts";
import { join, withTimeout } from "./_ws.ts";
import type { TestPeer } from "./_ws.ts";
import { feature, point, put } from "./_fixtures.ts";
import { startPostgres } from "./_postgres.ts";

const LEASE_MS = 1500;

/** A database and relays r1, r2 on it (`--relay-id rN --lease-ms 1500`), cleaned up together. */
async function cluster(name: string, relays = 2) {
  const pg = await startPostgres();
  const url = await pg.createDatabase(name);
  const started: RelayProcess[] = [];
  try {
    for (let i = 1; i <= relays; i++) {
      started.push(
        await startRelay({
          args: ["--store", url, "--relay-id", `r${i}`, "--lease-ms", String(LEASE_MS)],
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
