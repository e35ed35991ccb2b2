/** The import API against a real relay: real files (Natural Earth 10m, GDAL output), per-feature reports, big files as several edits. */
import assert from "assert";
import { mixedImport } from "../relay/_import_fixture.ts";
import { getFeatures } from "./_fixtures.ts";
import {
  naturalEarthFromGdal,
  naturalEarthGeoJson,
  pointsFile,
  positions,
} from "./_natural_earth.ts";
import { createMap, startRelay } from "./_relay.ts";
import { join } from "./_ws.ts";
import type { Msg, WireFeature } from "./_ws.ts";
import * as v from "valibot";
import { ServerMessageSchema } from "../relay/protocol.ts";

async function put(url: string, map: { id: string; editKey: string }, body: string) {
  const res = await fetch(`${url}/api/maps/${map.id}/features`, {
    method: "PUT",
    headers: { authorization: `Bearer ${map.editKey}` },
    body,
  });
  return { status: res.status, body: await res.json() };
}

/** Waits until `peer` has seen the edit with `seq`; answers the features its edits put. */
async function seenBy(peer: Awaited<ReturnType<typeof join>>["peer"], seq: number) {
  await peer.waitFor((m) => m.type === "edit" && m.seq === seq, 60_000, `seq ${seq}`);
  const puts = new Map<string, unknown>();
  for (const m of peer.messages.filter((m: Msg) => m.type === "edit")) {
    for (const op of m.ops as { op: string; feature?: { id: string } }[]) {
      if (op.op === "put" && op.feature) puts.set(op.feature.id, op.feature);
    }
  }
  return puts;
}

Deno.test("import API: Natural Earth 10m countries go in whole, every country present, seen by a peer", async () => {
  await using relay = await startRelay();
  const map = await createMap(relay.url);
  const { peer } = await join(relay.wsUrl, map.id, map.viewKey, { name: "watcher" });
  try {
    const text = await naturalEarthGeoJson();
    const file = JSON.parse(text);
    const answer = await put(relay.url, map, text);
    assert.equal(answer.status, 200, JSON.stringify(answer.body).slice(0, 500));
    assert.equal(answer.body.features, 255);
    assert.equal(answer.body.total, 255);
    assert.deepEqual(answer.body.skipped, []);
    assert.ok(answer.body.edits > 1, `${answer.body.edits} edits for ${text.length} bytes`);
    const stored = await getFeatures(relay.url, map.id, map.viewKey);
    const names = (fc: { features: { properties?: unknown }[] }) =>
      fc.features.map((f) => (f.properties as { name: string }).name).sort();
    assert.deepEqual(names(stored), names(file));
    const canada = stored.features.find((f) => f.properties?.name === "Canada");
    assert.equal(positions(canada?.geometry), 68_099);
    const seen = await seenBy(peer, answer.body.seq);
    assert.equal(seen.size, 255);
  } finally {
    await peer.close();
  }
});

Deno.test("import API: GDAL's own GeoJSON of Natural Earth goes in whole (its empty Polygon kept without geometry)", async () => {
  await using relay = await startRelay();
  const map = await createMap(relay.url);
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-gdal-" });
  try {
    const text = await naturalEarthFromGdal(dir);
    const answer = await put(relay.url, map, text);
    assert.equal(answer.status, 200, JSON.stringify(answer.body).slice(0, 500));
    assert.deepEqual([answer.body.features, answer.body.skipped], [255, []]);
    const stored = await getFeatures(relay.url, map.id, map.editKey);
    const vatican = stored.features.find((f) => f.properties?.name === "Vatican");
    assert.equal(vatican?.geometry, null);
    // A peer joining later gets it in its welcome's snapshot, as the relay's schema describes.
    const { peer, welcome } = await join(relay.wsUrl, map.id, map.viewKey, { name: "late" });
    await peer.close();
    assert.ok(v.safeParse(ServerMessageSchema, welcome).success);
    const snapshot = (welcome.features as { features: WireFeature[] }).features;
    assert.equal(snapshot.length, 255);
    assert.equal(snapshot.find((f) => f.properties?.name === "Vatican")?.geometry, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("import API: valid features go in, each skipped one is reported with index, id and reason", async () => {
  await using relay = await startRelay();
  const map = await createMap(relay.url);
  const file = mixedImport();
  const answer = await put(relay.url, map, file.text);
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.body, {
    seq: 1,
    features: file.kept.length,
    total: 8,
    skipped: file.skipped,
    edits: 1,
  });
  const stored = await getFeatures(relay.url, map.id, map.editKey);
  assert.deepEqual(stored.features.map((f) => f.id), file.kept);
  assert.deepEqual(stored.features.map((f) => f.geometry?.type ?? null), [
    null,
    null,
    "Polygon",
    "MultiPolygon",
  ]);
  assert.deepEqual(stored.features[2].geometry, {
    type: "Polygon",
    coordinates: [file.holed.outer, file.holed.hole],
  });
});

Deno.test("import API: 10 001 points, 10 000 points of 1.5 MB and of 6 MB go in as edits under the limits a peer sees", async () => {
  await using relay = await startRelay();
  for (const [count, pad, edits] of [[10_001, 0, 2], [10_000, 0, 1], [10_000, 500, 2]]) {
    const map = await createMap(relay.url);
    const { peer } = await join(relay.wsUrl, map.id, map.viewKey, { name: "watcher" });
    try {
      const text = pointsFile(count, pad);
      const answer = await put(relay.url, map, text);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.features, count);
      assert.equal(answer.body.edits, edits, `${text.length} bytes`);
      const seen = await seenBy(peer, answer.body.seq);
      assert.equal(seen.size, count);
      // Every edit a peer got is one the relay would take from a client (ops, bytes).
      for (const m of peer.messages.filter((m: Msg) => m.type === "edit")) {
        assert.ok((m.ops as unknown[]).length <= 10_000);
        assert.ok(new TextEncoder().encode(JSON.stringify(m)).length <= 4 << 20);
      }
    } finally {
      await peer.close();
    }
  }
});
