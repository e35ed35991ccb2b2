/** End-to-end: history pages, `features?at=SEQ` and retention against a real relay process. */
import assert from "assert";
import { DatabaseSync } from "node:sqlite";
import { join as joinPath } from "node:path";
import { createMap, startRelay } from "./_relay.ts";
import { type EditMsg, join, type TestPeer, type WireOp } from "./_ws.ts";
import { canonicalFeatures, feature, point, prng, put, Replica } from "./_fixtures.ts";

const EDITS = 10_000;
/** Edits sent per frame (the protocol takes an array of messages per frame). */
const PER_FRAME = 100;

/** Sends `count` random edits over a few features and resolves with every acknowledged frame. */
async function makeEdits(
  peer: TestPeer,
  count: number,
  perFrame = PER_FRAME,
): Promise<EditMsg[]> {
  const random = prng(12);
  const live: string[] = [];
  let next = 0;
  const ops = (): WireOp[] => {
    const r = random();
    if (live.length < 3 || r < 0.2) {
      const id = `f${next++}`;
      live.push(id);
      return [put(feature(id, point(random() * 10, random() * 10), { name: `F ${id}` }))];
    }
    const fid = live[Math.floor(random() * live.length)];
    if (r < 0.3) {
      live.splice(live.indexOf(fid), 1);
      return [{ op: "del", fid }];
    }
    if (r < 0.6) return [{ op: "geom", fid, geometry: point(random() * 10, random() * 10) }];
    return [{
      op: "props",
      fid,
      set: { n: Math.floor(r * 1000) },
      unset: r < 0.65 ? ["name"] : [],
    }];
  };
  for (let i = 0; i < count; i += perFrame) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + perFrame); j++) {
      batch.push({ type: "edit", id: `e${j}`, ops: ops() });
    }
    peer.send(batch);
    // Wait for this frame's last echo before the next, so nothing is rate limited or refused.
    await peer.waitFor((m) => m.type === "edit" && m.id === `e${i + batch.length - 1}`, 20_000);
  }
  const acked = peer.all("edit") as EditMsg[];
  assert.equal(acked.length, count, "every edit was acknowledged");
  assert.equal(peer.all("rejected").length, 0);
  return acked;
}

Deno.test("features?at=SEQ on a map of 10 000 edits equals replaying what the relay acknowledged; history pages it", async () => {
  await using relay = await startRelay({
    args: ["--rate", "100000", "--rate-burst", "100000", "--snapshot-every", "500"],
  });
  const map = await createMap(relay.url, "Ten thousand");
  const { peer } = await join(relay.wsUrl, map.id, map.editKey, { name: "Ann" });
  await using _peer = peer;
  const acked = await makeEdits(peer, EDITS);
  const head = acked[acked.length - 1].seq;
  // The expected state at each seq, built here from the acknowledged frames alone.
  const checks = [1, 499, 500, 501, 1234, 5000, 7777, head - 1, head];
  const expected = new Map<number, string>();
  const replica = new Replica();
  for (const edit of acked) {
    replica.apply(edit);
    if (checks.includes(edit.seq)) expected.set(edit.seq, replica.canonical());
  }
  for (const seq of checks) {
    const res = await fetch(
      `${relay.url}/api/maps/${map.id}/features?key=${map.viewKey}&at=${seq}`,
    );
    assert.equal(res.status, 200, `at=${seq}`);
    assert.equal(res.headers.get("x-seq"), String(seq));
    const fc = await res.json();
    assert.equal(canonicalFeatures(fc.features), expected.get(seq), `at=${seq}`);
  }
  // History: newest first, 50 a page, the cursor walks back without gaps or repeats.
  const url = (q: string) => `${relay.url}/api/maps/${map.id}/history?key=${map.viewKey}${q}`;
  const first = await (await fetch(url(""))).json();
  assert.equal(first.seq, head);
  assert.equal(first.oldest, 1);
  assert.equal(first.entries.length, 50);
  assert.equal(first.entries[0].seq, head);
  assert.equal(first.entries[0].name, "Ann");
  assert.equal(first.next, head - 49);
  const deep = await (await fetch(url(`&before=100&limit=500`))).json();
  assert.deepEqual(deep.entries.map((e: { seq: number }) => e.seq), range(99, 1));
  assert.equal(deep.next, null);
  // Per feature: exactly the acknowledged edits that touched it.
  const fid = "f1";
  const touching = acked.filter((e) =>
    e.ops.some((op) => (op.op === "put" ? op.feature.id : op.fid) === fid)
  )
    .map((e) => e.seq).reverse();
  const perFeature = await (await fetch(url(`&fid=${fid}&limit=500`))).json();
  assert.deepEqual(perFeature.entries.map((e: { seq: number }) => e.seq), touching.slice(0, 500));
  const gone = await fetch(
    `${relay.url}/api/maps/${map.id}/features?key=${map.viewKey}&at=${head + 1}`,
  );
  assert.equal(gone.status, 400);
  await gone.body?.cancel();
});

Deno.test("--history-days: a restarted relay prunes old edits already in a snapshot, keeps the rest and named versions", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "duplexmap-history-test-" });
  try {
    const common = ["--snapshot-every", "10", "--evict-after-ms", "200"];
    let map: Awaited<ReturnType<typeof createMap>>;
    {
      await using relay = await startRelay({ dataDir, args: common });
      map = await createMap(relay.url, "Retention");
      const { peer } = await join(relay.wsUrl, map.id, map.editKey, { name: "Ann" });
      await using _peer = peer;
      // One edit a frame, each committed on its own: snapshots at 10 and 20 as they come.
      await makeEdits(peer, 25, 1);
      const version = await fetch(`${relay.url}/api/maps/${map.id}/versions?key=${map.editKey}`, {
        method: "POST",
        body: JSON.stringify({ name: "Early", author: "Ann", seq: 5 }),
      });
      assert.equal(version.status, 201);
      await version.body?.cancel();
    }
    // Edits 1-22 were made "ten days ago": their times are moved back in the file.
    const db = new DatabaseSync(joinPath(dataDir, "duplexmap.sqlite"));
    const tenDaysAgo = Date.now() - 10 * 24 * 3600 * 1000;
    db.prepare("UPDATE edits SET frame = json_set(frame, '$.at', ?) WHERE seq <= 22")
      .run(tenDaysAgo);
    db.close();
    await using relay = await startRelay({ dataDir, args: [...common, "--history-days", "3"] });
    const pruned = await relay.waitForLog((l) => l.event === "history_pruned", 15_000);
    // Snapshots: 10 (the first, kept for history), 20, and 25 at shutdown (the latest). Edits 1-22
    // are old, but only those up to a kept snapshot go, so every seq still shown can be rebuilt.
    assert.equal(pruned.edits, 10);
    const page = await (await fetch(
      `${relay.url}/api/maps/${map.id}/history?key=${map.viewKey}&limit=500`,
    )).json();
    assert.equal(page.oldest, 11);
    assert.deepEqual(page.entries.map((e: { seq: number }) => e.seq), range(25, 11));
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
    // The map loads and keeps working after the prune.
    const { peer, welcome } = await join(relay.wsUrl, map.id, map.editKey, { name: "Bob" });
    await using _peer = peer;
    assert.equal(welcome.seq, 25);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i >= to; i--) out.push(i);
  return out;
}
