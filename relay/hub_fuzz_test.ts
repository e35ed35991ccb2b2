/**
 * In-process fuzz of the hub (frame parsing, dispatch, room edits, the flush) with fake sockets:
 * hundreds of thousands of generated frames, none may throw, log an internal error, or get an
 * answer outside the published server schema. `DUPLEXMAP_FUZZ_FRAMES` and `DUPLEXMAP_FUZZ_SEED`
 * as for tests/relay_fuzz_test.ts.
 */
import assert from "assert";
import * as v from "valibot";
import { FakeSocket } from "./_fake_socket.ts";
import { Hub } from "./hub.ts";
import type { Connection } from "./hub.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { ServerMessageSchema } from "./protocol.ts";
import { Store } from "./store.ts";
import { DOCUMENTED_CLOSE_CODES, FrameFuzzer, fuzzSeed } from "../tests/_fuzz.ts";

/** In-process frames are cheap: twice the end-to-end count when one is given. */
const FRAMES = Deno.env.has("DUPLEXMAP_FUZZ_FRAMES")
  ? Number(Deno.env.get("DUPLEXMAP_FUZZ_FRAMES")) * 2
  : 60_000;
const MAX_FRAME_BYTES = 16_384;

/** What is wrong with what one fake socket received, or `null`. */
function answerProblem(socket: FakeSocket): string | null {
  for (const text of socket.sent) {
    const json = JSON.parse(text);
    for (const item of Array.isArray(json) ? json : [json]) {
      const checked = v.safeParse(ServerMessageSchema, item);
      if (!checked.success) return `invalid answer ${text.slice(0, 300)}`;
      if (item.type === "error" && item.code === "internal") return `internal error ${text}`;
    }
  }
  if (socket.closes.length > 1) return `closed ${socket.closes.length} times`;
  const close = socket.closes[0];
  if (close && !DOCUMENTED_CLOSE_CODES.has(close.code)) {
    return `undocumented close ${JSON.stringify(close)}`;
  }
  return null;
}

Deno.test(`hub fuzz: ${FRAMES} generated frames in-process, every answer documented`, async () => {
  const seed = fuzzSeed();
  // Printed first, so that any failure (an exception included) shows how to replay it.
  console.log(`seed ${seed} (replay: DUPLEXMAP_FUZZ_SEED=${seed})`);
  const store = new Store({ path: ":memory:" });
  const bugs: string[] = [];
  const hub = new Hub({
    store,
    limits: {
      ...DEFAULT_LIMITS,
      maxFrameBytes: MAX_FRAME_BYTES,
      rate: 1e9,
      rateBurst: 1e9,
      snapshotEvery: 50,
      // Small maps and catch-up windows keep each welcome small, so the frames stay the cost.
      maxPropsBytes: 4096,
      recentEdits: 20,
      recentBytes: 65_536,
    },
    logger: {
      log(event, fields) {
        if (event === "internal_error" || event === "map_unavailable") {
          bugs.push(`${event} ${JSON.stringify(fields)}`);
        }
      },
    },
  });
  try {
    const maps = [await hub.api.createMap("A"), await hub.api.createMap("B")];
    const fuzzers = maps.map((m, i) =>
      new FrameFuzzer((seed + i) >>> 0, {
        editKey: m.editKey,
        viewKey: m.viewKey,
        maxFrameBytes: MAX_FRAME_BYTES,
      })
    );
    let sent = 0;
    let connections = 0;
    while (sent < FRAMES) {
      const i = fuzzers[0].chance(0.8) ? 0 : 1;
      const fz = fuzzers[i];
      const socket = new FakeSocket();
      const conn: Connection = hub.accept(socket, {
        mapId: maps[i].id,
        addr: "192.0.2.1",
        transport: "fuzz",
      });
      connections++;
      conn.receive(fz.hello());
      sent++;
      for (let n = 1 + fz.int(300); n > 0 && socket.isOpen && sent < FRAMES; n--) {
        const frame = fz.frame();
        conn.receive(typeof frame === "string" ? frame : frame.buffer as ArrayBuffer);
        sent++;
        if (n % 50 === 0) await hub.settled();
      }
      await hub.settled();
      if (socket.isOpen) conn.closed(1000, "bye");
      assert.deepEqual(
        bugs,
        [],
        `seed ${seed} (DUPLEXMAP_FUZZ_SEED=${seed}): the hub logged a bug`,
      );
      const problem = answerProblem(socket);
      assert.equal(problem, null, `seed ${seed} (DUPLEXMAP_FUZZ_SEED=${seed}): ${problem}`);
    }
    console.log(JSON.stringify({ seed, frames: sent, connections }));
  } finally {
    await hub.close();
    store.close();
  }
});
