/**
 * The relay's own JavaScript per message, without sockets or a runtime underneath: a hub on an
 * in-memory store and a fake clock, peers on sockets that only count frames. Each round, a third
 * of the peers send a cursor, each in its own frame, then the hub flushes once. It prints the
 * time per inbound message and per frame out: the part of a delivery's cost that is the relay's
 * code (BENCHMARKS.md, issue 14), to set beside what `bench/inbound.ts` and s8 measure end to end.
 *
 * ```sh
 * deno run -A bench/hub_micro.ts [--maps 17] [--peers 10] [--rounds 3000]
 * ```
 */
import { parseArgs } from "node:util";
import { FakeTimers } from "../relay/_fake_timers.ts";
import { Hub } from "../relay/hub.ts";
import { DEFAULT_LIMITS } from "../relay/limits.ts";
import type { PeerSocket } from "../relay/peer.ts";
import { Store } from "../relay/store.ts";

/** A socket that is always open and never behind, and counts what it is sent. */
class CountingSocket implements PeerSocket {
  frames = 0;
  isOpen = true;
  bufferedAmount = 0;
  send(_text: string): void {
    this.frames++;
  }
  close(): void {
    this.isOpen = false;
  }
  bufferedAbove(bytes: number): boolean {
    return this.bufferedAmount > bytes;
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      maps: { type: "string", default: "17" },
      peers: { type: "string", default: "10" },
      rounds: { type: "string", default: "3000" },
    },
  });
  const maps = Number(values.maps);
  const perMap = Number(values.peers);
  const rounds = Number(values.rounds);
  const store = new Store({ path: ":memory:" });
  let ids = 0;
  const hub = new Hub({
    store,
    limits: { ...DEFAULT_LIMITS, rate: 1e9, rateBurst: 1e9, maxMapsPerAddr: 1e6, maxMaps: 1e6 },
    timers: new FakeTimers(),
    ids: () => `p${++ids}`,
  });
  const conns: { receive(text: string): void }[] = [];
  const sockets: CountingSocket[] = [];
  for (let m = 0; m < maps; m++) {
    const map = await hub.api.createMap(`m${m}`);
    for (let p = 0; p < perMap; p++) {
      const socket = new CountingSocket();
      const conn = hub.accept(socket, { mapId: map.id, addr: `192.0.2.${m}`, transport: "test" });
      conn.receive(
        JSON.stringify({ type: "hello", key: map.editKey, name: `n${p}`, color: "#aabbcc" }),
      );
      conns.push(conn);
      sockets.push(socket);
    }
  }
  hub.flush();
  /** Runs rounds `from` to `from + n - 1`; returns how many cursors were sent. */
  const run = (n: number, from: number) => {
    let inbound = 0;
    for (let r = from; r < from + n; r++) {
      for (let i = 0; i < conns.length; i++) {
        if ((i + r) % 3 !== 0) continue;
        const lng = (i * 0.001 + r * 1e-6).toFixed(6);
        conns[i].receive(`{"type":"cursor","at":[${lng},${(45 + r * 1e-6).toFixed(6)}]}`);
        inbound++;
      }
      hub.flush();
    }
    return inbound;
  };
  const sent = () => sockets.reduce((sum, s) => sum + s.frames, 0);
  run(300, 0); // warm-up: let the JIT settle
  const framesBefore = sent();
  const started = performance.now();
  const inbound = run(rounds, 300);
  const ms = performance.now() - started;
  const frames = sent() - framesBefore;
  console.log(
    `${maps} maps of ${perMap}, ${rounds} rounds: ${(ms * 1000 / inbound).toFixed(2)} us per ` +
      `inbound message` +
      (frames > 0
        ? `, ${(ms * 1000 / frames).toFixed(2)} us per frame out (${frames} frames)`
        : ""),
  );
  await hub.close();
  store.close();
}
