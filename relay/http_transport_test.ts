/** Unit tests of the HTTP fallback transport through the app, in-process: stream down, POST up. */
import assert from "assert";
import { appFixture } from "./_app_fixture.ts";
import { FakeTimers } from "./_fake_timers.ts";
import { SESSION_HEADER } from "./http_transport.ts";

type Msg = Record<string, unknown>;

const HEARTBEAT_MS = 1000;

/** The app on a hub whose timers (and so the sessions' heartbeat) only move when advanced. */
const setup = () => {
  const timers = new FakeTimers();
  return Object.assign(appFixture({ fallbackHeartbeatMs: HEARTBEAT_MS }, { timers }), { timers });
};

/** Reads server-sent events from a response body, one at a time. */
class EventReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  comments = 0;
  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.pipeThrough(new TextDecoderStream()).getReader();
  }
  /** The next event as `{event, data}`, or `null` when the stream ended. */
  async next(): Promise<{ event: string; data: string } | null> {
    while (true) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        if (block.startsWith(":")) {
          this.comments++;
          continue;
        }
        let event = "message";
        let data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          if (line.startsWith("data: ")) data += line.slice(6);
        }
        return { event, data };
      }
      const { value, done } = await this.#reader.read();
      if (done) return null;
      this.#buffer += value;
    }
  }
  /** The next `data` event's messages (a frame may be an array). */
  async messages(): Promise<Msg[]> {
    const e = await this.next();
    assert.ok(e, "stream ended early");
    assert.equal(e.event, "message", JSON.stringify(e));
    return [JSON.parse(e.data)].flat();
  }
  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

async function newMap(app: ReturnType<typeof setup>["app"]) {
  const res = await app.request("/api/maps", { method: "POST", body: "{}" });
  return await res.json() as { id: string; editKey: string; viewKey: string };
}

const hello = (key: string, name: string) =>
  JSON.stringify({ type: "hello", key, name, color: "#123456" });

Deno.test("fallback: a session streams the welcome, takes frames by POST, echoes edits", async () => {
  await using t = setup();
  const map = await newMap(t.app);
  const res = await t.app.request(`/rt/${map.id}`, {
    method: "POST",
    body: hello(map.editKey, "http"),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  const events = new EventReader(res.body!);
  const first = await events.next();
  assert.equal(first?.event, "session");
  const { session } = JSON.parse(first!.data);
  assert.match(session, /^[A-Za-z0-9_-]{20,}$/);
  const [welcome] = await events.messages();
  assert.equal(welcome.type, "welcome");
  assert.equal((welcome.you as Msg).role, "editor");

  const edit = {
    type: "edit",
    id: "h1",
    ops: [{
      op: "put",
      feature: { type: "Feature", id: "a", geometry: { type: "Point", coordinates: [1, 2] } },
    }],
  };
  const sent = await t.app.request(`/rt/${map.id}/send`, {
    method: "POST",
    headers: { [SESSION_HEADER]: session },
    body: JSON.stringify([edit, { type: "ping", t: 7 }]),
  });
  assert.equal(sent.status, 204);
  const got: Msg[] = [];
  while (got.length < 2) got.push(...await events.messages());
  assert.deepEqual(got.map((m) => m.type), ["edit", "pong"]);
  assert.deepEqual([got[0].seq, got[0].id], [1, "h1"]);

  // The keep-alive comment keeps idle proxies from closing the stream. It is written when the
  // heartbeat falls due, so it comes before the answer to a ping sent afterwards.
  const idle = events.comments;
  t.timers.advance(HEARTBEAT_MS);
  const pinged = await t.app.request(`/rt/${map.id}/send`, {
    method: "POST",
    headers: { [SESSION_HEADER]: session },
    body: JSON.stringify({ type: "ping", t: 8 }),
  });
  assert.equal(pinged.status, 204);
  assert.deepEqual(await events.messages(), [{ type: "pong", t: 8 }]);
  assert.ok(events.comments > idle, "a keep-alive comment arrived while idle");
  const waiting = events.next();

  const wrong = await t.app.request(`/rt/${map.id}/send`, {
    method: "POST",
    headers: { [SESSION_HEADER]: "not-a-session" },
    body: JSON.stringify({ type: "ping" }),
  });
  assert.equal(wrong.status, 404);
  assert.equal(wrong.headers.get("content-type"), "application/problem+json");
  await wrong.body?.cancel();

  const ended = await t.app.request(`/rt/${map.id}`, {
    method: "DELETE",
    headers: { [SESSION_HEADER]: session },
  });
  assert.equal(ended.status, 204);
  const close = await waiting;
  assert.equal(close?.event, "close");
  assert.deepEqual(JSON.parse(close!.data), { code: 1000, reason: "closed by client" });
  assert.equal(await events.next(), null, "the stream ends after the close event");
  assert.equal(t.hub.stats().connections, 0);
});

Deno.test("fallback: a wrong key closes the stream with 1008; a foreign origin is refused", async () => {
  await using t = setup();
  const map = await newMap(t.app);
  const res = await t.app.request(`/rt/${map.id}`, {
    method: "POST",
    body: hello("wrong-key", "x"),
  });
  const events = new EventReader(res.body!);
  assert.equal((await events.next())?.event, "session");
  const close = await events.next();
  assert.equal(close?.event, "close");
  assert.deepEqual(JSON.parse(close!.data), { code: 1008, reason: "unknown map or key" });
  assert.equal(await events.next(), null);

  const foreign = await t.app.request(`/rt/${map.id}`, {
    method: "POST",
    headers: { origin: "https://evil.example", host: "maps.example" },
    body: hello(map.editKey, "x"),
  });
  assert.equal(foreign.status, 403);
  await foreign.body?.cancel();
});

Deno.test("fallback: a client that drops the stream leaves the map", async () => {
  await using t = setup();
  const map = await newMap(t.app);
  const res = await t.app.request(`/rt/${map.id}`, {
    method: "POST",
    body: hello(map.viewKey, "leaver"),
  });
  const events = new EventReader(res.body!);
  assert.equal((await events.next())?.event, "session");
  await events.messages();
  assert.equal(t.hub.stats().peers, 1);
  await events.cancel();
  assert.equal(t.hub.stats().peers, 0);
  assert.equal(t.hub.stats().connections, 0);
});
