/** End-to-end on PostgreSQL: history pages, `features?at=SEQ`, named versions, comments (across a kill -9) and `--history-days` on a real relay. */
import assert from "assert";
import { createMap, startRelay } from "./_relay.ts";
import { connect, type EditMsg, join, type Msg, type WireOp } from "./_ws.ts";
import { canonicalFeatures, feature, point, prng, put, Replica } from "./_fixtures.ts";
import { startPostgres } from "./_postgres.ts";
import postgres from "postgres";
import { historyTaskOnWorker, PgHistory } from "../relay/pg_history.ts";

const EDITS = 600;
const PER_FRAME = 50;

/** `count` random edits over a few features: puts, moves, property changes, deletes. */
function randomOps(count: number): WireOp[][] {
  const random = prng(7);
  const live: string[] = [];
  const out: WireOp[][] = [];
  for (let i = 0; i < count; i++) {
    const r = random();
    if (live.length < 3 || r < 0.2) {
      const id = `f${i}`;
      live.push(id);
      out.push([put(feature(id, point(random() * 10, random() * 10), { name: `F ${id}` }))]);
      continue;
    }
    const fid = live[Math.floor(random() * live.length)];
    if (r < 0.3) {
      live.splice(live.indexOf(fid), 1);
      out.push([{ op: "del", fid }]);
    } else if (r < 0.6) {
      out.push([{ op: "geom", fid, geometry: point(random() * 10, random() * 10) }]);
    } else out.push([{ op: "props", fid, set: { n: Math.floor(r * 1000) } }]);
  }
  return out;
}

Deno.test("PostgreSQL store: history pages, features?at=SEQ, named versions and comments work and survive kill -9", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase("dm_history");
  const args = ["--store", url, "--rate", "100000", "--rate-burst", "100000"];
  const checks = [1, 49, 50, 51, 123, 300, 599, 600];
  const expected = new Map<number, string>();

  const { map, acked, history } = await (async () => {
    // Snapshots every 50 edits: states are rebuilt from snapshots plus the journal.
    const relay = await startRelay({ args: [...args, "--snapshot-every", "50"] });
    try {
      const map = await createMap(relay.url, "Kept on PostgreSQL");
      const ann = await connect(relay.wsUrl, map.id, { label: "Ann" });
      ann.send({ type: "hello", key: map.editKey, name: "Ann", color: "#3366cc", comments: true });
      await ann.nextOf("welcome");
      const ops = randomOps(EDITS);
      for (let i = 0; i < EDITS; i += PER_FRAME) {
        ann.send(
          ops.slice(i, i + PER_FRAME).map((o, j) => ({
            type: "edit",
            id: `e${i + j}`,
            ops: o,
          })),
        );
        await ann.waitFor((m) => m.type === "edit" && m.id === `e${i + PER_FRAME - 1}`, 20_000);
      }
      const acked = ann.all("edit") as EditMsg[];
      assert.equal(acked.length, EDITS);
      ann.send({
        type: "comment",
        ref: "r1",
        op: "add",
        text: "Check this",
        anchor: { at: [1, 2] },
      });
      ann.send({ type: "comment", ref: "r2", op: "reply", thread: "c1", text: "Done" });
      await ann.waitFor((m) => m.type === "comment" && m.ref === "r2", 10_000, "the reply's ack");
      const version = await fetch(`${relay.url}/api/maps/${map.id}/versions?key=${map.editKey}`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: relay.url },
        body: JSON.stringify({ name: "Before the field trip", author: "Ann", seq: 123 }),
      });
      assert.equal(version.status, 201, await version.clone().text());
      await version.body?.cancel();
      const history = await (await fetch(
        `${relay.url}/api/maps/${map.id}/history?key=${map.viewKey}&limit=500`,
      )).json();
      await ann.close();
      // Killed without a chance to snapshot or close anything.
      await relay.kill();
      return { map, acked, history };
    } finally {
      await relay.kill();
    }
  })();

  const replica = new Replica();
  for (const edit of acked) {
    replica.apply(edit);
    if (checks.includes(edit.seq)) expected.set(edit.seq, replica.canonical());
  }
  assert.equal(history.seq, EDITS);
  assert.equal(history.oldest, 1, "nothing pruned by snapshots");
  assert.equal(history.entries.length, 500);
  assert.equal(history.entries[0].seq, EDITS);
  assert.equal(history.entries[0].name, "Ann");
  assert.equal(history.next, EDITS - 499);

  await using relay = await startRelay({ args });
  const api = (path: string) => `${relay.url}/api/maps/${map.id}/${path}`;
  // After the restart: every state at a seq equals replaying what the relay acknowledged.
  for (const seq of checks) {
    const res = await fetch(api(`features?key=${map.viewKey}&at=${seq}`));
    assert.equal(res.status, 200, `at=${seq}`);
    assert.equal(res.headers.get("x-seq"), String(seq));
    assert.equal(canonicalFeatures((await res.json()).features), expected.get(seq), `at=${seq}`);
  }
  // The same history, paged with the cursor to the end without a gap or a repeat.
  const seqs: number[] = [];
  let before = "";
  for (;;) {
    const page = await (await fetch(api(`history?key=${map.viewKey}&limit=250${before}`))).json();
    assert.equal(page.seq, EDITS);
    seqs.push(...page.entries.map((e: Msg) => e.seq as number));
    if (page.next === null) break;
    before = `&before=${page.next}`;
  }
  assert.deepEqual(seqs, acked.map((e) => e.seq).reverse());
  // Per feature: exactly the acknowledged edits that touched it.
  const touching = acked.filter((e) =>
    e.ops.some((op) => (op.op === "put" ? op.feature.id : op.fid) === "f1")
  ).map((e) => e.seq).reverse();
  const f1 = await (await fetch(api(`history?key=${map.viewKey}&fid=f1&limit=500`))).json();
  assert.deepEqual(f1.entries.map((e: Msg) => e.seq), touching);
  const versions = await (await fetch(api(`versions?key=${map.viewKey}`))).json();
  assert.deepEqual(
    versions.versions.map((v: Msg) => [v.seq, v.name, v.author]),
    [[123, "Before the field trip", "Ann"]],
  );
  const comments = await (await fetch(api(`comments?key=${map.viewKey}`))).json();
  assert.deepEqual(comments.comments.map((c: Msg) => [c.id, c.thread, c.text]), [
    ["c1", "c1", "Check this"],
    ["c2", "c1", "Done"],
  ]);

  // Big states and pages are read on a worker thread, off the loop every map shares; here every
  // one counts as big, and each comes out as the relay's own (which were small enough to stay
  // inline).
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    let onWorker = 0;
    const history = new PgHistory(sql, {
      inlineChars: 0,
      offThread: (task) => {
        onWorker++;
        return historyTaskOnWorker(task);
      },
    });
    for (const seq of checks) {
      const json = await history.featuresAt(map.id, seq);
      assert.equal(canonicalFeatures(JSON.parse(json!)), expected.get(seq), `at=${seq}`);
    }
    const inline = new PgHistory(sql);
    for (
      const query of [{ before: EDITS + 1, limit: 250 }, { before: 300, limit: 50, fid: "f1" }]
    ) {
      assert.deepEqual(await history.page(map.id, query), await inline.page(map.id, query));
    }
    assert.equal(onWorker, checks.length - 1 + 2, "all but the named version (stored whole)");
  } finally {
    await sql.end();
  }
});

Deno.test("PostgreSQL store: --history-days prunes old edits already in a snapshot, keeps the rest and named versions", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase("dm_retention");
  const common = ["--store", url, "--snapshot-every", "10", "--evict-after-ms", "200"];
  const map = await (async () => {
    await using relay = await startRelay({ args: common });
    const map = await createMap(relay.url, "Retention");
    const { peer } = await join(relay.wsUrl, map.id, map.editKey, { name: "Ann" });
    await using _peer = peer;
    // One edit a frame, each committed on its own: snapshots at 10 and 20 as they come.
    for (const [i, ops] of randomOps(25).entries()) {
      peer.send({ type: "edit", id: `e${i}`, ops });
      await peer.waitFor((m) => m.type === "edit" && m.id === `e${i}`, 10_000);
    }
    const version = await fetch(`${relay.url}/api/maps/${map.id}/versions?key=${map.editKey}`, {
      method: "POST",
      body: JSON.stringify({ name: "Early", author: "Ann", seq: 5 }),
    });
    assert.equal(version.status, 201);
    await version.body?.cancel();
    return map;
  })();
  // Edits 1-22 were made "ten days ago": their times are moved back in the database.
  const tenDaysAgo = Date.now() - 10 * 24 * 3600 * 1000;
  await pg.psql(
    "dm_retention",
    `UPDATE edits SET frame = jsonb_set(frame::jsonb, '{at}', '${tenDaysAgo}')::text ` +
      `WHERE seq <= 22;`,
  );
  await using relay = await startRelay({ args: [...common, "--history-days", "3"] });
  const pruned = await relay.waitForLog((l) => l.event === "history_pruned", 15_000);
  // Snapshots: 10 (the first, kept for history), 20, and 25 at shutdown (the latest). Edits 1-22
  // are old, but only those up to a kept snapshot go, so every seq still shown can be rebuilt.
  assert.equal(pruned.edits, 10);
  const page = await (await fetch(
    `${relay.url}/api/maps/${map.id}/history?key=${map.viewKey}&limit=500`,
  )).json();
  assert.equal(page.oldest, 11);
  assert.deepEqual(page.entries.map((e: Msg) => e.seq), [...Array(15)].map((_, i) => 25 - i));
  const at = async (seq: number) => {
    const res = await fetch(
      `${relay.url}/api/maps/${map.id}/features?key=${map.viewKey}&at=${seq}`,
    );
    await res.body?.cancel();
    return res.status;
  };
  assert.equal(await at(10), 200);
  assert.equal(await at(9), 410);
  assert.equal(await at(5), 200, "the named version is kept");
  const { peer, welcome } = await join(relay.wsUrl, map.id, map.editKey, { name: "Bob" });
  await using _peer = peer;
  assert.equal(welcome.seq, 25);
});
