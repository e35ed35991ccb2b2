/**
 * End-to-end fuzz: generated hostile frames against a real relay over many connections, while
 * bystanders on the fuzzed map and on another map keep being served. `DUPLEXMAP_FUZZ_FRAMES`
 * sets the number of frames (default 20 000; `deno task fuzz` runs 200 000), and
 * `DUPLEXMAP_FUZZ_SEED` replays a run.
 */
import assert from "assert";
import { createMap, startRelay } from "./_relay.ts";
import { connect, join, type ServerMsgs, type TestPeer, withTimeout } from "./_ws.ts";
import { canonicalFeatures, feature, getFeatures, point, put, Replica } from "./_fixtures.ts";
import { DOCUMENTED_CLOSE_CODES, FrameFuzzer, fuzzSeed } from "./_fuzz.ts";
import { sleep } from "./_process.ts";

const FRAMES = Number(Deno.env.get("DUPLEXMAP_FUZZ_FRAMES") ?? 20_000);
const CONNECTIONS = 4;
const MAX_FRAME_BYTES = 65_536;
/** What TestPeer records for a frame that is not a valid server message. */
const NOT_A_SERVER_MESSAGE = new Set([
  "__invalid__",
  "__not_json__",
  "__binary__",
  "__not_a_message__",
]);

type MapInfo = Awaited<ReturnType<typeof createMap>>;

/** A peer that keeps asking the relay for pongs and edit echoes while the fuzz runs. */
class Bystander {
  answers = 0;
  readonly editIds: string[] = [];
  #n = 0;
  constructor(readonly peer: TestPeer, readonly name: string) {}

  /** One ping and one edit, both answered. */
  async round(): Promise<void> {
    const n = ++this.#n;
    const id = `${this.name}-${n}`;
    this.peer.send({ type: "ping", t: id });
    this.peer.send({ type: "edit", id, ops: [put(feature(id, point(n % 180, 0), { n }))] });
    this.editIds.push(id);
    await this.peer.nextOf("pong", (m) => m.t === id, 30_000);
    this.answers++;
    await this.peer.nextOf("edit", (m) => m.id === id, 30_000);
    this.answers++;
  }

  /** The bystander's copy of the map: its welcome plus every edit it received, in order. */
  replica(welcome: ServerMsgs["welcome"]): Replica {
    const replica = new Replica(welcome.features?.features ?? [], welcome.seq);
    for (const edit of this.peer.all("edit")) replica.apply(edit);
    return replica;
  }
}

/** Round-trips a ping unless the relay has closed the connection meanwhile. */
async function settle(peer: TestPeer, t: string): Promise<void> {
  if (!peer.open) return;
  peer.send({ type: "ping", t });
  try {
    await peer.nextOf("pong", (m) => m.t === t, 30_000);
  } catch (err) {
    if (peer.open) throw err;
  }
}

/**
 * A close without a close frame, as the client sees it. The relay sends its close once the client
 * has paused for 50 ms, or after 1 s at most (relay/deno_socket.ts): a client still streaming
 * megabytes by then can lose the close frame to the TCP reset. That is the client's doing, and rare.
 */
const DROPPED = new Set([0, 1006]);

/** What is wrong with what a fuzz connection received, or `null`. */
function answerProblem(peer: TestPeer): string | null {
  const bad = peer.messages.find((m) =>
    NOT_A_SERVER_MESSAGE.has(m.type) || (m.type === "error" && m.code === "internal")
  );
  if (bad) return `undocumented answer ${JSON.stringify(bad).slice(0, 300)}`;
  const close = peer.closeInfo;
  if (!close || !(DOCUMENTED_CLOSE_CODES.has(close.code) || DROPPED.has(close.code))) {
    return `undocumented close ${JSON.stringify(close)}`;
  }
  return null;
}

Deno.test(`fuzz: ${FRAMES} generated frames leave the relay up and its bystanders served`, async () => {
  const seed = fuzzSeed();
  const started = performance.now();
  try {
    const stats = await fuzz(seed);
    console.log(JSON.stringify({
      seed,
      ...stats,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    }));
  } catch (err) {
    throw new Error(
      `fuzz failed with seed ${seed} (replay: DUPLEXMAP_FUZZ_SEED=${seed}): ${
        err instanceof Error ? err.message : err
      }`,
      { cause: err },
    );
  }
});

async function fuzz(seed: number) {
  await using relay = await startRelay({
    args: [
      "--max-frame-bytes",
      String(MAX_FRAME_BYTES),
      // The rate limits have tests of their own; here every message should reach the handlers.
      "--rate",
      "1000000",
      "--rate-burst",
      "1000000",
      "--hello-timeout-ms",
      "3000",
      "--snapshot-every",
      "100",
      // Small maps and catch-up windows keep each welcome small, so the frames stay the cost.
      "--max-props-bytes",
      "4096",
      "--recent-edits",
      "50",
    ],
  });
  const fuzzed = await createMap(relay.url, "Fuzzed");
  const other = await createMap(relay.url, "Other");
  const a1 = await join(relay.wsUrl, fuzzed.id, fuzzed.editKey, { name: "A1" });
  const a2 = await join(relay.wsUrl, fuzzed.id, fuzzed.editKey, { name: "A2" });
  const b1 = await join(relay.wsUrl, other.id, other.editKey, { name: "B1" });
  const bystanders = [
    new Bystander(a1.peer, "A1"),
    new Bystander(a2.peer, "A2"),
    new Bystander(b1.peer, "B1"),
  ];
  let sent = 0;
  let connections = 0;
  const closes: Record<number, number> = {};
  let done = false;
  // The first failure anywhere stops every loop and is what the test reports.
  let failure: unknown = null;
  const fail = (err: unknown) => {
    failure ??= err;
    done = true;
  };

  const served = (async () => {
    while (!done) {
      await Promise.all(bystanders.map((b) => b.round()));
      await sleep(50);
    }
  })().catch(fail);

  const fuzzer = async (k: number) => {
    const targets: [MapInfo, FrameFuzzer][] = [fuzzed, other].map((map, i) => [
      map,
      new FrameFuzzer((seed + k * 2 + i) >>> 0, {
        editKey: map.editKey,
        viewKey: map.viewKey,
        maxFrameBytes: MAX_FRAME_BYTES,
      }),
    ]);
    const choose = targets[0][1];
    while (sent < FRAMES && !done) {
      const [map, fz] = choose.chance(0.85) ? targets[0] : targets[1];
      const mapId = choose.chance(0.95)
        ? map.id
        : choose.pick(["AAAAAAAAAAAAAAAA", "x", "%E2%80%AE"]);
      const peer = await connect(relay.wsUrl, mapId, {
        label: `fuzz-${k}-${connections++}`,
        protocols: choose.pick([["duplexmap.v1"], ["connect"], [], ["x", "duplexmap.v1"]]),
      });
      peer.sendRaw(fz.hello());
      sent++;
      const budget = 1 + choose.int(300);
      for (let i = 1; i <= budget && sent < FRAMES && peer.open; i++) {
        peer.sendRaw(fz.frame());
        sent++;
        if (i % 20 === 0) await settle(peer, `s-${k}-${i}`);
      }
      await settle(peer, `end-${k}`);
      const close = peer.open
        ? await peer.close()
        : await withTimeout(peer.closed, 10_000, "close");
      closes[close.code] = (closes[close.code] ?? 0) + 1;
      const problem = answerProblem(peer);
      if (problem) throw new Error(`${peer.ws.url}: ${problem}`);
    }
  };

  await Promise.all(Array.from({ length: CONNECTIONS }, (_, k) => fuzzer(k).catch(fail)));
  done = true;
  await served;
  if (failure) {
    // What the relay said last, and whether it is still there, help to replay a failure.
    const alive = await fetch(`${relay.url}/healthz`).then((r) => r.status, (e) => String(e));
    console.error(JSON.stringify({ healthz: alive, lastLogs: relay.logs.slice(-8) }));
    throw failure;
  }

  const dropped = Object.entries(closes).filter(([code]) => DROPPED.has(Number(code)))
    .reduce((n, [, count]) => n + count, 0);
  assert.ok(dropped <= Math.max(2, connections / 100), `${dropped} connections dropped`);
  // The relay is up, logged no bug, and everyone converged on the same maps.
  const health = await fetch(`${relay.url}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  const bugs = relay.logs.filter((l) =>
    l.event === "internal_error" || l.event === "uncaught_error"
  );
  assert.deepEqual(bugs, []);
  const fuzzedNow = canonicalFeatures(
    (await getFeatures(relay.url, fuzzed.id, fuzzed.viewKey)).features,
  );
  const otherNow = canonicalFeatures(
    (await getFeatures(relay.url, other.id, other.viewKey)).features,
  );
  for (const b of bystanders) {
    await b.peer.sync();
    assert.ok(b.peer.open, `${b.name} is still connected`);
  }
  assert.equal(bystanders[0].replica(a1.welcome).canonical(), fuzzedNow);
  assert.equal(bystanders[1].replica(a2.welcome).canonical(), fuzzedNow);
  assert.equal(bystanders[2].replica(b1.welcome).canonical(), otherNow);
  // A1 and A2 saw each other's edits.
  const seen = (peer: TestPeer) => new Set(peer.all("edit").map((e) => e.id));
  for (const id of bystanders[1].editIds) assert.ok(seen(a1.peer).has(id), `A1 saw ${id}`);
  for (const id of bystanders[0].editIds) assert.ok(seen(a2.peer).has(id), `A2 saw ${id}`);
  const answers = bystanders.reduce((n, b) => n + b.answers, 0);
  await Promise.all(bystanders.map((b) => b.peer.close()));
  return { frames: sent, connections, closes, bystanderAnswers: answers };
}
