/** Unit tests of the history API in-process: pages, summaries, `at=SEQ`, named versions, labels, retention. */
import assert from "assert";
import { appFixture } from "./_app_fixture.ts";
import { FakeSocket } from "./_fake_socket.ts";
import { FakeTimers } from "./_fake_timers.ts";
import type { Hub } from "./hub.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { RETENTION_EVERY_MS } from "./retention.ts";
import { SlotsFullError } from "./worker_task.ts";

type Msg = Record<string, unknown> & { type: string };
type Op = Record<string, unknown>;
const DAY = 24 * 60 * 60 * 1000;

/** A peer on `mapId` through the hub; `edit` sends one edit and resolves with its answer. */
async function peer(hub: Hub, mapId: string, key: string, name = "Ann", color = "#e11d48") {
  const socket = new FakeSocket(name);
  const conn = hub.accept(socket, { mapId, addr: "192.0.2.1", transport: "test" });
  conn.receive(JSON.stringify({ type: "hello", key, name, color }));
  await hub.settled();
  const received = () => socket.sent.flatMap((t) => [JSON.parse(t) as Msg | Msg[]].flat());
  let n = 0;
  return {
    received,
    async edit(ops: Op[], label?: string): Promise<Msg> {
      const id = `e${++n}-${name}`;
      conn.receive(
        JSON.stringify({ type: "edit", id, ops, ...(label === undefined ? {} : { label }) }),
      );
      await hub.settled();
      const answer = received().find((m) =>
        (m.type === "edit" || m.type === "rejected") && m.id === id
      );
      assert.ok(answer, `an answer to ${id}`);
      return answer;
    },
  };
}

const pt = (x: number, y = 0) => ({ type: "Point", coordinates: [x, y] });
const put = (id: string, properties: Record<string, unknown> = {}, x = 0) => ({
  op: "put",
  feature: { type: "Feature", id, geometry: pt(x), properties },
});

Deno.test("history: newest first, paged by before/next, each entry in words with its author", async () => {
  await using t = appFixture();
  const map = await t.hub.api.createMap("History");
  const ann = await peer(t.hub, map.id, map.editKey);
  await ann.edit([put("f1", { name: "Dam" }), put("f2"), put("f3", { title: "Weir" })]);
  await ann.edit([{ op: "geom", fid: "f1", geometry: pt(5) }, {
    op: "props",
    fid: "f1",
    set: { fill: "#fff" },
    unset: ["name"],
  }]);
  await ann.edit([put("f2", { name: "Sluice" })]);
  await ann.edit([{ op: "del", fid: "f3" }]);
  await ann.edit(
    [{ op: "props", fid: "f2", set: { depth: 3 } }],
    "Restored version 'Before the field trip'",
  );
  const res = await t.app.request(`/api/maps/${map.id}/history?key=${map.viewKey}&limit=3`);
  assert.equal(res.status, 200);
  const page = await res.json();
  assert.equal(page.seq, 5);
  assert.equal(page.oldest, 1);
  assert.equal(page.next, 3);
  assert.deepEqual(page.entries.map((e: { seq: number }) => e.seq), [5, 4, 3]);
  const [restored, deleted, replaced] = page.entries;
  assert.equal(restored.label, "Restored version 'Before the field trip'");
  assert.equal(restored.summary, "restored version 'Before the field trip'");
  assert.equal(restored.name, "Ann");
  assert.equal(restored.color, "#e11d48");
  assert.equal(typeof restored.at, "number");
  assert.equal(typeof restored.by, "string");
  assert.equal(restored.id, "e5-Ann");
  assert.equal(deleted.summary, "deleted 'Weir'");
  assert.deepEqual(deleted.changes, [{ fid: "f3", title: "Weir", kind: "del" }]);
  assert.equal(replaced.summary, "replaced 'Sluice'");
  assert.equal(replaced.label, null);
  const rest = await (await t.app.request(
    `/api/maps/${map.id}/history?key=${map.viewKey}&limit=3&before=${page.next}`,
  )).json();
  assert.deepEqual(rest.entries.map((e: { seq: number }) => e.seq), [2, 1]);
  assert.equal(rest.next, null);
  const [moved, added] = rest.entries;
  assert.equal(moved.summary, "moved 'Dam', changed 2 properties");
  assert.deepEqual(moved.changes, [
    { fid: "f1", title: "Dam", kind: "geom" },
    { fid: "f1", title: "Dam", kind: "props", keys: ["fill", "name"] },
  ]);
  assert.equal(added.summary, "added 3 features");
  assert.deepEqual(added.changes.map((c: { kind: string }) => c.kind), ["add", "add", "add"]);

  // Per feature: only the edits that touched f1, same shape and paging.
  const f1 =
    await (await t.app.request(`/api/maps/${map.id}/history?key=${map.editKey}&fid=f1&limit=1`))
      .json();
  assert.deepEqual(f1.entries.map((e: { seq: number }) => e.seq), [2]);
  assert.equal(f1.next, 2);
  const f1rest = await (await t.app.request(
    `/api/maps/${map.id}/history?key=${map.editKey}&fid=f1&before=2`,
  )).json();
  assert.deepEqual(f1rest.entries.map((e: { seq: number }) => e.seq), [1]);
  assert.equal(f1rest.next, null);

  // Wrong key and unknown map: the same 404 as features; bad parameters: 400.
  for (
    const path of [`/api/maps/${map.id}/history?key=nope`, "/api/maps/m-unknown/history?key=x"]
  ) {
    const r = await t.app.request(path);
    assert.equal(r.status, 404);
    assert.equal(r.headers.get("content-type"), "application/problem+json");
    await r.body?.cancel();
  }
  for (const q of ["limit=0", "limit=501", "before=-1", "limit=x"]) {
    const r = await t.app.request(`/api/maps/${map.id}/history?key=${map.viewKey}&${q}`);
    assert.equal(r.status, 400, q);
    await r.body?.cancel();
  }
});

Deno.test("history: an edit's changes are capped at 20 with the rest counted in more", async () => {
  await using t = appFixture();
  const map = await t.hub.api.createMap("Many");
  const ann = await peer(t.hub, map.id, map.editKey);
  await ann.edit(Array.from({ length: 25 }, (_, i) => put(`p${i}`)));
  const page = await (await t.app.request(`/api/maps/${map.id}/history?key=${map.viewKey}`)).json();
  assert.equal(page.entries[0].changes.length, 20);
  assert.equal(page.entries[0].more, 5);
  assert.equal(page.entries[0].summary, "added 25 features");
});

Deno.test("edit label: kept in the journal frame, echoed to everyone; over 200 characters rejected invalid_edit", async () => {
  await using t = appFixture();
  const map = await t.hub.api.createMap("Labels");
  const ann = await peer(t.hub, map.id, map.editKey);
  const bob = await peer(t.hub, map.id, map.viewKey, "Bob");
  const echo = await ann.edit([put("a")], "Imported rivers.geojson");
  assert.equal(echo.type, "edit");
  assert.equal(echo.label, "Imported rivers.geojson");
  const atBob = bob.received().find((m) => m.type === "edit");
  assert.equal(atBob?.label, "Imported rivers.geojson");
  const long = await ann.edit([put("b")], "x".repeat(201));
  assert.equal(long.type, "rejected");
  assert.equal(long.code, "invalid_edit");
  assert.match(String(long.message), /label may be at most 200 characters/);
  const ok = await ann.edit([put("b")], "x".repeat(200));
  assert.equal(ok.type, "edit");
  const plain = await ann.edit([put("c")]);
  assert.equal("label" in plain, false, "no label, no field: older clients see what they did");
});

Deno.test("features?at=SEQ: the map right after SEQ (X-Seq), 400 past the head, format= too", async () => {
  await using t = appFixture({}, { limits: { ...DEFAULT_LIMITS, snapshotEvery: 7 } });
  const map = await t.hub.api.createMap("At");
  const ann = await peer(t.hub, map.id, map.editKey);
  const states: string[] = [JSON.stringify([])];
  const expected = new Map<string, unknown>();
  for (let i = 1; i <= 40; i++) {
    const fid = `f${i % 6}`;
    const op = expected.has(fid) && i % 5 === 0
      ? { op: "del", fid }
      : expected.has(fid)
      ? { op: "props", fid, set: { n: i } }
      : put(fid, { n: i }, i);
    await ann.edit([op]);
    if (op.op === "del") expected.delete(fid);
    else if (op.op === "put") expected.set(fid, (op as ReturnType<typeof put>).feature);
    else {
      const f = expected.get(fid) as { properties: Record<string, unknown> };
      expected.set(fid, { ...f, properties: { ...f.properties, n: i } });
    }
    states.push(JSON.stringify([...expected.values()]));
  }
  for (const seq of [0, 1, 6, 7, 8, 13, 20, 39, 40]) {
    const res = await t.app.request(`/api/maps/${map.id}/features?key=${map.viewKey}&at=${seq}`);
    assert.equal(res.status, 200, `at=${seq}`);
    assert.equal(res.headers.get("x-seq"), String(seq));
    const fc = await res.json();
    const byId = (a: { id: string }[]) =>
      JSON.stringify([...a].sort((x, y) => x.id < y.id ? -1 : 1));
    assert.equal(byId(fc.features), byId(JSON.parse(states[seq])), `at=${seq}`);
  }
  const past = await t.app.request(`/api/maps/${map.id}/features?key=${map.viewKey}&at=41`);
  assert.equal(past.status, 400);
  assert.match((await past.json()).detail, /after the map's latest edit/);
  const csv = await t.app.request(
    `/api/maps/${map.id}/features?key=${map.viewKey}&at=1&format=csv`,
  );
  assert.equal(csv.status, 200);
  assert.equal(csv.headers.get("x-seq"), "1");
  assert.equal((await csv.text()).trim().split("\n").length, 2, "a header and f1");
  const wrong = await t.app.request(`/api/maps/${map.id}/features?key=nope&at=1`);
  assert.equal(wrong.status, 404);
  await wrong.body?.cancel();
});

Deno.test("versions: editors name one (201), viewers may not (403), bad bodies 400, listed newest first", async () => {
  await using t = appFixture();
  const map = await t.hub.api.createMap("Versions");
  const ann = await peer(t.hub, map.id, map.editKey);
  await ann.edit([put("a")]);
  await ann.edit([put("b")]);
  const post = (key: string, body: unknown) =>
    t.app.request(`/api/maps/${map.id}/versions?key=${key}`, {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const first = await post(map.editKey, { name: "Before the field trip", author: "Ann", seq: 1 });
  assert.equal(first.status, 201);
  const v1 = await first.json();
  assert.deepEqual({ ...v1, at: 0 }, {
    seq: 1,
    name: "Before the field trip",
    at: 0,
    author: "Ann",
  });
  const head = await (await post(map.editKey, { name: "Now", author: "Ann" })).json();
  assert.equal(head.seq, 2);
  const viewer = await post(map.viewKey, { name: "Nope", author: "Bob" });
  assert.equal(viewer.status, 403);
  await viewer.body?.cancel();
  for (
    const bad of ["{", { author: "Ann" }, { name: "x".repeat(201) }, { name: "a", seq: -1 }, [1]]
  ) {
    const r = await post(map.editKey, bad);
    assert.equal(r.status, 400, JSON.stringify(bad));
    await r.body?.cancel();
  }
  const future = await post(map.editKey, { name: "Future", seq: 9 });
  assert.equal(future.status, 400);
  await future.body?.cancel();
  const list = await (await t.app.request(`/api/maps/${map.id}/versions?key=${map.viewKey}`))
    .json();
  assert.deepEqual(list.versions.map((v: { name: string }) => v.name), [
    "Now",
    "Before the field trip",
  ]);
  const wrong = await t.app.request(`/api/maps/${map.id}/versions?key=nope`);
  assert.equal(wrong.status, 404);
  await wrong.body?.cancel();
});

Deno.test("retention: --history-days prunes only old edits at or before a kept snapshot; named versions stay", async () => {
  const timers = new FakeTimers(1_800_000_000_000);
  await using t = appFixture({}, {
    timers,
    limits: {
      ...DEFAULT_LIMITS,
      snapshotEvery: 5,
      historyDays: 2,
      evictAfterMs: 100 * DAY,
      idleTimeout: 1e9,
    },
  });
  const map = await t.hub.api.createMap("Old");
  const history = async (q = "") =>
    await (await t.app.request(`/api/maps/${map.id}/history?key=${map.viewKey}&limit=500${q}`))
      .json();
  const status = async (at: number) => {
    const res = await t.app.request(`/api/maps/${map.id}/features?key=${map.viewKey}&at=${at}`);
    return { status: res.status, body: await res.json() };
  };
  /** Lets the hub's sweep run a retention step that is due, and waits for it. */
  const sweep = async () => {
    // A step started by an earlier advance finishes first (it would make this one wait).
    await new Promise((resolve) => setTimeout(resolve, 0));
    timers.advance(RETENTION_EVERY_MS + 10_000);
    await new Promise((resolve) => setTimeout(resolve, 0));
    await t.hub.settled();
  };
  const ann = await peer(t.hub, map.id, map.editKey);
  for (let i = 1; i <= 4; i++) await ann.edit([put(`f${i}`)]);
  const named = await t.app.request(`/api/maps/${map.id}/versions?key=${map.editKey}`, {
    method: "POST",
    body: JSON.stringify({ name: "Early", author: "Ann", seq: 2 }),
  });
  assert.equal(named.status, 201);
  await named.body?.cancel();

  // Three days on, edits 1-4 are old, but no snapshot holds them: a load needs every one.
  timers.advance(3 * DAY);
  await sweep();
  assert.equal((await history()).oldest, 1);
  // Edits 5-12 now: snapshots at 5 (kept for history) and at 10 (the latest).
  for (let i = 5; i <= 12; i++) await ann.edit([put(`f${i}`)]);
  await sweep();
  assert.equal((await history()).oldest, 1, "1-4 are old, but no kept snapshot is at or before 4");
  // Three more days: all twelve are old; only those up to the latest snapshot (10) may go.
  timers.advance(3 * DAY);
  await sweep();
  const after = await history();
  assert.equal(after.oldest, 11, "1-10 pruned; 11-12 (after the latest snapshot) stay");
  assert.deepEqual(after.entries.map((e: { seq: number }) => e.seq), [12, 11]);
  assert.deepEqual((await history("&fid=f3")).entries, [], "the per-feature index is pruned too");
  const base = await status(10);
  assert.equal(base.status, 200, "the state the kept history starts from is still shown");
  assert.equal(base.body.features.length, 10);
  assert.equal((await status(12)).body.features.length, 12);
  const gone = await status(9);
  assert.equal(gone.status, 410);
  assert.match(gone.body.detail, /no longer kept/);
  const early = await status(2);
  assert.equal(early.status, 200, "a named version outlives retention");
  assert.deepEqual(early.body.features.map((f: { id: string }) => f.id), ["f1", "f2"]);
  // The map still loads from what is left (snapshot 10 and edits 11-12).
  const loaded = t.hub.history;
  assert.ok(loaded);
});

Deno.test("history reads refused for load (too many at once) answer 503 with the reason, not a failure", async () => {
  const full = () =>
    Promise.reject(new SlotsFullError("too many history reads at once; try again"));
  const events: string[] = [];
  await using t = appFixture({}, {
    historyReader: { featuresAt: full, page: full, close: () => Promise.resolve() },
    logger: { log: (event) => void events.push(event) },
  });
  const map = await t.hub.api.createMap("Busy");
  const ann = await peer(t.hub, map.id, map.editKey);
  await ann.edit([put("a")]);
  await ann.edit([put("b")]);
  for (const path of ["history", "features?at=1"]) {
    const res = await t.app.request(
      `/api/maps/${map.id}/${path}${path.includes("?") ? "&" : "?"}key=${map.viewKey}`,
    );
    assert.equal(res.status, 503, path);
    assert.equal((await res.json()).detail, "too many history reads at once; try again");
  }
  assert.equal(events.includes("internal_error"), false, "not logged as a failure");
});
