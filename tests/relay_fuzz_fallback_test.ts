/**
 * End-to-end fuzz of the HTTP fallback transport's entry points (open, send, close) with the
 * generated frames of tests/_fuzz.ts, while a WebSocket bystander on the same map is served.
 * `DUPLEXMAP_FUZZ_FRAMES` (a tenth of it here) and `DUPLEXMAP_FUZZ_SEED` as for the WebSocket fuzz.
 */
import assert from "assert";
import * as v from "valibot";
import { ServerMessageSchema, SESSION_HEADER } from "../relay/protocol.ts";
import { createMap, startRelay } from "./_relay.ts";
import { join, withTimeout } from "./_ws.ts";
import { DOCUMENTED_CLOSE_CODES, FrameFuzzer, fuzzSeed } from "./_fuzz.ts";

const FRAMES = Math.ceil(Number(Deno.env.get("DUPLEXMAP_FUZZ_FRAMES") ?? 20_000) / 10);
const MAX_FRAME_BYTES = 16_384;

/** One server-sent event of the fallback stream. */
interface StreamEvent {
  event: string;
  data: string;
}

/** Reads a fallback stream to its end, calling `onEvent` for every event. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (e: StreamEvent) => void,
): Promise<void> {
  let buffer = "";
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (data.length > 0) onEvent({ event, data: data.join("\n") });
    }
  }
}

/** What is wrong with one event of the stream, or `null`. */
function eventProblem(e: StreamEvent): string | null {
  if (e.event === "session") return null;
  if (e.event === "close") {
    const { code } = JSON.parse(e.data);
    return DOCUMENTED_CLOSE_CODES.has(code) ? null : `undocumented close ${e.data}`;
  }
  const json = JSON.parse(e.data);
  for (const item of Array.isArray(json) ? json : [json]) {
    if (!v.safeParse(ServerMessageSchema, item).success) return `invalid ${e.data.slice(0, 300)}`;
    if (item.type === "error" && item.code === "internal") return `internal error ${e.data}`;
  }
  return null;
}

Deno.test(`fuzz over the HTTP fallback: ${FRAMES} generated frames, every answer documented`, async () => {
  const seed = fuzzSeed();
  try {
    await using relay = await startRelay({
      args: [
        "--max-frame-bytes",
        String(MAX_FRAME_BYTES),
        "--rate",
        "1000000",
        "--rate-burst",
        "1000000",
      ],
    });
    const map = await createMap(relay.url, "Fuzzed over HTTP");
    const { peer: bystander } = await join(relay.wsUrl, map.id, map.editKey, { name: "B" });
    const fz = new FrameFuzzer(seed, {
      editKey: map.editKey,
      viewKey: map.viewKey,
      maxFrameBytes: MAX_FRAME_BYTES,
    });
    let sent = 0;
    let sessions = 0;
    while (sent < FRAMES) {
      const res = await fetch(`${relay.url}/rt/${map.id}`, { method: "POST", body: fz.hello() });
      sent++;
      sessions++;
      if (res.status === 413) {
        // A first frame over the body limit: a documented answer, and no session.
        await res.body?.cancel();
        continue;
      }
      if (res.status !== 200) assert.fail(`POST /rt answered ${res.status}: ${await res.text()}`);
      const events: StreamEvent[] = [];
      let session: (id: string) => void;
      const opened = new Promise<string>((resolve) => session = resolve);
      const ended = readEvents(res.body!, (e) => {
        events.push(e);
        if (e.event === "session") session(JSON.parse(e.data).session);
      });
      const id = await withTimeout(opened, 10_000, "the session event");
      for (let n = 1 + fz.int(60); n > 0 && sent < FRAMES; n--) {
        const send = await fetch(`${relay.url}/rt/${map.id}/send`, {
          method: "POST",
          headers: { [SESSION_HEADER]: id },
          body: fz.frame(),
        });
        sent++;
        await send.body?.cancel();
        assert.ok([204, 404, 413].includes(send.status), `send answered ${send.status}`);
        if (send.status === 404) break;
      }
      const end = await fetch(`${relay.url}/rt/${map.id}`, {
        method: "DELETE",
        headers: { [SESSION_HEADER]: id },
      });
      await end.body?.cancel();
      await withTimeout(ended, 10_000, "the end of the stream");
      for (const e of events) {
        const problem = eventProblem(e);
        assert.equal(problem, null, problem ?? "");
      }
      if (sessions % 20 === 0) await bystander.sync();
    }
    await bystander.sync();
    assert.ok(bystander.open);
    const health = await fetch(`${relay.url}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const bugs = relay.logs.filter((l) =>
      l.event === "internal_error" || l.event === "uncaught_error"
    );
    assert.deepEqual(bugs, []);
    await bystander.close();
    console.log(JSON.stringify({ seed, frames: sent, sessions }));
  } catch (err) {
    throw new Error(
      `fallback fuzz failed with seed ${seed} (replay: DUPLEXMAP_FUZZ_SEED=${seed}): ${
        err instanceof Error ? err.message : err
      }`,
      { cause: err },
    );
  }
});
