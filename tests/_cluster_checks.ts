/** What every cluster chaos test checks and measures: edit bursts, the journal's invariants, convergence, reconnect times. */
import assert from "assert";
import type { Cluster, ClusterRelay, MapOwner } from "./_cluster.ts";
import { EditorPeer } from "./_editor_peer.ts";
import { canonicalFeatures } from "./_fixtures.ts";
import { sleep, until } from "./_process.ts";
import type { WireFeature } from "./_ws.ts";

/** The relay that owns `mapId` now (its peers joined), with the ownership row it was read from. */
export async function owningRelay(
  cluster: Cluster,
  mapId: string,
): Promise<{ relay: ClusterRelay; row: MapOwner }> {
  const row = await cluster.ownerOf(mapId);
  assert.ok(row?.owner, "the map has an owner once peers joined");
  return { relay: cluster.relay(row.owner), row };
}

/** Opens `count` editor peers on a map through HAProxy (wss), each with its own client id. */
export async function proxiedPeers(
  cluster: Cluster,
  map: { id: string; editKey: string },
  count: number,
  prefix = "p",
): Promise<EditorPeer[]> {
  const peers = Array.from({ length: count }, (_, i) =>
    new EditorPeer({
      open: () => cluster.haproxy.webSocket(`/ws/${map.id}`, { protocols: ["duplexmap.v1"] }),
      key: map.editKey,
      client: `${prefix}${i + 1}`,
    }));
  await Promise.all(peers.map((p) => p.start()));
  return peers;
}

/**
 * Each peer puts `perPeer` points, one every `everyMs`, whether or not it is connected (queued
 * edits go out on the next connection), like people who keep drawing through an outage.
 */
export async function burst(peers: EditorPeer[], perPeer: number, everyMs: number): Promise<void> {
  await Promise.all(peers.map(async (peer, p) => {
    for (let i = 0; i < perPeer; i++) {
      peer.put(i % 180, p);
      await sleep(everyMs);
    }
  }));
}

/** Resolves once the peers together have `n` acknowledgements. */
export function ackedAtLeast(peers: EditorPeer[], n: number, timeoutMs = 20_000): Promise<void> {
  return until(
    () => peers.reduce((sum, p) => sum + p.acked.size, 0) >= n,
    `${n} acknowledged edits`,
    timeoutMs,
  );
}

/**
 * The invariants after a fault, once every peer's edits are done: the journal's seqs are 1..N
 * with no gap and no repeat, every (client, edit id) once; every acknowledged edit is in it at
 * its seq; nothing sent is missing; each peer saw seqs in order; every peer and the features API
 * through HAProxy hold the same map.
 */
export async function assertInvariants(
  cluster: Cluster,
  map: { id: string; viewKey: string },
  peers: EditorPeer[],
): Promise<void> {
  await Promise.all(peers.map((p) => p.settled(30_000)));
  const journal = await cluster.journal(map.id);
  assert.deepEqual(journal.map((r) => r.seq), journal.map((_, i) => i + 1), "seqs are 1..N");
  const edits = new Set(journal.map((r) => `${r.client}/${r.edit_id}`));
  assert.equal(edits.size, journal.length, "no edit is in the journal twice");
  let sent = 0;
  for (const peer of peers) {
    assert.deepEqual(peer.problems, [], `${peer.client}: rejections or errors`);
    assert.deepEqual(peer.gaps, [], `${peer.client}: seqs out of order`);
    for (const [id, seq] of peer.acked) {
      assert.deepEqual(
        journal[seq - 1],
        { seq, client: peer.client, edit_id: id },
        `${peer.client}'s acknowledged ${id} is seq ${seq} in the journal`,
      );
    }
    for (const id of peer.duplicates) {
      assert.ok(
        edits.has(`${peer.client}/${id}`),
        `${peer.client}'s ${id} (duplicate) is journaled`,
      );
    }
    sent += peer.acked.size + peer.duplicates.size;
  }
  assert.equal(journal.length, sent, "the journal holds exactly the edits the peers sent");
  const head = journal.length;
  await until(() => peers.every((p) => p.replica.seq === head), `every peer at seq ${head}`);
  const res = await cluster.haproxy.fetch(`/api/maps/${map.id}/features?key=${map.viewKey}`);
  assert.equal(res.status, 200);
  const servedFeatures = ((await res.json()) as { features: WireFeature[] }).features;
  const served = canonicalFeatures(servedFeatures);
  for (const peer of peers) {
    if (peer.replica.canonical() === served) continue;
    const mine = new Set(peer.replica.features.keys());
    const theirs = new Set(servedFeatures.map((f) => f.id));
    assert.fail(
      `${peer.client} (seq ${peer.replica.seq}, ${mine.size} features) differs from the map ` +
        `HAProxy serves (${theirs.size} features, journal head ${head}); only at the peer: ` +
        `${[...mine.difference(theirs)].slice(0, 5)}; only served: ` +
        `${[...theirs.difference(mine)].slice(0, 5)}`,
    );
  }
}

/** Milliseconds from `since` to the first acknowledgement any peer got after it. */
export function firstAckAfter(peers: EditorPeer[], since: number): number {
  const after = peers.flatMap((p) => p.ackTimes.filter((t) => t > since));
  return after.length === 0 ? NaN : Math.min(...after) - since;
}

/** Prints a scenario's measured times (never asserted: the machine is shared). */
export function report(scenario: string, figures: Record<string, unknown>): void {
  console.log(`[cluster ${scenario}] ${JSON.stringify(figures)}`);
}

/** Every reconnect time of the peers, rounded, sorted. */
export function reconnectTimes(peers: EditorPeer[]): number[] {
  return peers.flatMap((p) => p.reconnectMs).map(Math.round).sort((a, b) => a - b);
}
