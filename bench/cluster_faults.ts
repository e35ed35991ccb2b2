/** The cluster benchmark's fault steps: failover after kill -9 or SIGSTOP of a map's owner, and the share of maps that move when a relay is added. */
import type { BenchCluster } from "./cluster_launch.ts";
import { AckBook, checkJournal, type JournalCheck } from "./cluster_journal.ts";
import { EditorPeer } from "../tests/_editor_peer.ts";
import { sleep } from "../tests/_process.ts";
import { createMap } from "../tests/_relay.ts";

/** Creates `count` maps through HAProxy (creation may land on any relay). */
export async function createMaps(
  cluster: BenchCluster,
  count: number,
  prefix: string,
): Promise<{ room: string; key: string }[]> {
  const maps = [];
  for (let i = 0; i < count; i++) {
    const map = await createMap(cluster.url, `${prefix} ${i}`, cluster.haproxy.client);
    maps.push({ room: map.id, key: map.editKey });
  }
  return maps;
}

/** An editing peer of one map through HAProxy. */
interface MapPeer {
  mapId: string;
  peer: EditorPeer;
}

/**
 * Peers on maps through HAProxy (tests/_editor_peer.ts: they reconnect at once with `since` and
 * re-send what was not acknowledged, as the web client does), started in batches.
 */
async function startPeers(
  cluster: BenchCluster,
  maps: { room: string; key: string }[],
  perMap: number,
  tag: string,
): Promise<MapPeer[]> {
  const peers: MapPeer[] = [];
  for (const [m, map] of maps.entries()) {
    for (let p = 0; p < perMap; p++) {
      const peer = new EditorPeer({
        open: () => cluster.haproxy.webSocket(`/ws/${map.room}`),
        key: map.key,
        client: `${tag}${m}p${p}`,
      });
      peers.push({ mapId: map.room, peer });
    }
  }
  for (let i = 0; i < peers.length; i += 40) {
    await Promise.all(peers.slice(i, i + 40).map((p) => p.peer.start()));
  }
  return peers;
}

/** Sends an edit from every peer every `periodMs` until the returned function is called. */
function editEvery(peers: MapPeer[], periodMs: number): () => void {
  let n = 0;
  const timer = setInterval(() => {
    n++;
    for (const p of peers) p.peer.put((n % 360) - 180, (n % 170) - 85);
  }, periodMs);
  return () => clearInterval(timer);
}

/** Waits (bounded) until no peer has an unacknowledged edit. */
async function drain(peers: MapPeer[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (peers.some((p) => p.peer.pending > 0) && performance.now() < deadline) await sleep(100);
}

/** Stops the peers and checks every acknowledged edit against the journal. */
/**
 * Stops the peers and checks every acknowledged edit (acked, or answered `duplicate`: stored
 * before its ack was lost) against the journal.
 */
async function finish(cluster: BenchCluster, peers: MapPeer[]): Promise<JournalCheck> {
  await Promise.all(peers.map((p) => p.peer.stop()));
  const book = new AckBook();
  for (const { mapId, peer } of peers) {
    for (const id of [...peer.acked.keys(), ...peer.duplicates]) book.add(mapId, id);
  }
  return await checkJournal(cluster.sql, book);
}

function closesOf(peers: MapPeer[]): Record<string, number> {
  const all: Record<string, number> = {};
  for (const { peer } of peers) {
    for (const c of peer.closes) all[c.code] = (all[c.code] ?? 0) + 1;
  }
  return all;
}

/** What one failover step measured. */
export interface Failover {
  /** Seconds from the fault to the first ack on a new connection, per map of the victim. */
  seconds: number[];
  /** Maps whose peers never got an ack again within the timeout. */
  timedOut: number;
  journal: JournalCheck;
  closes: Record<string, number>;
  /** Which relay was hit. */
  victim: string;
}

/**
 * `maps` maps of `perMap` peers each send edits at `hz` through HAProxy; the relay owning most of
 * them gets `signal` (SIGKILL or SIGSTOP); per map of that relay, the time until one of its peers'
 * edits is acknowledged again on a new connection. A stopped relay is continued afterwards, a
 * killed one restarted, and the load goes on for `afterS` seconds (the way back) before the
 * journal is checked.
 */
export async function failover(
  cluster: BenchCluster,
  signal: "SIGKILL" | "SIGSTOP",
  o: { maps: number; perMap: number; hz: number; afterS: number; timeoutS: number },
  log: (line: string) => void,
): Promise<Failover> {
  const maps = await createMaps(cluster, o.maps, `failover ${signal}`);
  const peers = await startPeers(cluster, maps, o.perMap, signal === "SIGKILL" ? "k" : "s");
  const stopEditing = editEvery(peers, 1000 / o.hz);
  try {
    await sleep(1500);
    const owners = await cluster.owners(maps.map((m) => m.room));
    const count = new Map<string, number>();
    for (const owner of owners.values()) if (owner) count.set(owner, (count.get(owner) ?? 0) + 1);
    const victimId = [...count].sort((a, b) => b[1] - a[1])[0]?.[0];
    const victim = cluster.relays.find((r) => r.id === victimId);
    if (!victim) throw new Error(`no owner found for the failover maps: ${[...owners]}`);
    const hit = maps.filter((m) => owners.get(m.room) === victimId).map((m) => m.room);
    log(`  ${signal} ${victimId} (owner of ${hit.length} of ${maps.length} maps)`);
    const t0 = performance.now();
    victim.kill(signal);
    // An ack counts once its peer has lost the connection it had at the fault: acks the
    // victim sent just before it, still on their way, are not a failover.
    const firstAck = (mapId: string) => {
      const times = peers.filter((p) => p.mapId === mapId).flatMap(({ peer }) => {
        const lost = peer.closes.find((c) => c.at > t0)?.at;
        return lost === undefined ? [] : peer.ackTimes.filter((t) => t > lost);
      });
      return times.length > 0 ? Math.min(...times) : undefined;
    };
    const deadline = t0 + o.timeoutS * 1000;
    while (hit.some((m) => firstAck(m) === undefined) && performance.now() < deadline) {
      await sleep(50);
    }
    const seconds = hit.map(firstAck).filter((t) => t !== undefined).map((t) => (t - t0) / 1000);
    log(`  ${signal}: back after ${seconds.map((s) => s.toFixed(2)).join(", ")} s`);
    if (signal === "SIGSTOP") victim.kill("SIGCONT");
    else await victim.restart();
    await sleep(o.afterS * 1000);
    stopEditing();
    await drain(peers, 20_000);
    return {
      seconds,
      timedOut: hit.length - seconds.length,
      // Counted before finish() closes the peers itself (1000).
      closes: closesOf(peers),
      journal: await finish(cluster, peers),
      victim: victimId!,
    };
  } finally {
    stopEditing();
    await Promise.all(peers.map((p) => p.peer.stop()));
  }
}

/** What adding a relay moved. */
export interface Moves {
  maps: number;
  /** Maps whose owner changed. */
  moved: number;
  /** ... to the new relay (consistent hashing moves none elsewhere). */
  toNew: number;
  /** Maps with no owner before or after (should be 0). */
  unowned: number;
  /** Moved maps by their owner before. */
  from: Record<string, number>;
  journal: JournalCheck;
  closes: Record<string, number>;
}

/**
 * `maps` maps, one editing peer each, on the active relays; then `newServer` is set ready on
 * HAProxy's stats socket and every map is requested once more through HAProxy (a new visitor):
 * maps that now hash to the new relay are handed over to it. Owners are read from `maps.owner`
 * before and after.
 */
export async function moves(
  cluster: BenchCluster,
  o: { maps: number; newServer: string; settleS: number },
  log: (line: string) => void,
): Promise<Moves> {
  const maps = await createMaps(cluster, o.maps, "moves");
  const peers = await startPeers(cluster, maps, 1, "m");
  const stopEditing = editEvery(peers, 1000);
  try {
    await sleep(1000);
    const ids = maps.map((m) => m.room);
    const before = await cluster.owners(ids);
    await cluster.setServers([o.newServer], []);
    // Past HAProxy's slowstart, so the new server has its full share of the hash ring.
    await sleep(o.settleS * 1000);
    for (let i = 0; i < maps.length; i += 20) {
      await Promise.all(
        maps.slice(i, i + 20).map(async (m) => {
          const res = await cluster.haproxy.fetch(`/api/maps/${m.room}/features?key=${m.key}`);
          await res.body?.cancel();
        }),
      );
    }
    // Until the owners stop changing (handoffs done) and every peer is back, bounded.
    let after = await cluster.owners(ids);
    const deadline = performance.now() + 30_000;
    for (let stable = 0; stable < 4 && performance.now() < deadline;) {
      await sleep(500);
      const now = await cluster.owners(ids);
      const same = ids.every((id) => now.get(id) === after.get(id));
      stable = same && peers.every((p) => p.peer.pending === 0) ? stable + 1 : 0;
      after = now;
    }
    stopEditing();
    await drain(peers, 20_000);
    const newId = cluster.relays.find((r) => r.server === o.newServer)?.id;
    const moved = ids.filter((id) => before.get(id) !== after.get(id));
    log(`  ${moved.length} of ${ids.length} maps moved`);
    return {
      maps: ids.length,
      moved: moved.length,
      toNew: moved.filter((id) => after.get(id) === newId).length,
      unowned: ids.filter((id) => !before.get(id) || !after.get(id)).length,
      from: Object.fromEntries(
        cluster.relays.map((r) => [r.id, moved.filter((id) => before.get(id) === r.id).length]),
      ),
      // Counted before finish() closes the peers itself (1000).
      closes: closesOf(peers),
      journal: await finish(cluster, peers),
    };
  } finally {
    stopEditing();
    await Promise.all(peers.map((p) => p.peer.stop()));
  }
}
