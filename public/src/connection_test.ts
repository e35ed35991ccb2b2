/** Tests for the reconnecting connection, driven by a fake transport and a fake clock. */
import assert from "assert";
import { type Clock, Connection, type ConnectionStatus, INVALID_LINK } from "./connection.ts";
import type { TransportHandlers } from "./transport.ts";

function fakeClock() {
  const timers = new Map<number, { fn: () => void; ms: number }>();
  let next = 1;
  const clock: Clock = {
    setTimeout: (fn, ms) => {
      timers.set(next, { fn, ms });
      return next++;
    },
    clearTimeout: (id) => void timers.delete(id),
  };
  const fire = (predicate: (ms: number) => boolean) => {
    for (const [id, t] of [...timers]) {
      if (predicate(t.ms)) {
        timers.delete(id);
        t.fn();
        return t.ms;
      }
    }
    return null;
  };
  return { clock, timers, fire };
}

function setup(options: { maxFrameBytes?: number; welcomeTimeoutMs?: number } = {}) {
  const { clock, timers, fire } = fakeClock();
  const opened: {
    handlers: TransportHandlers;
    sent: string[];
    closed: boolean;
  }[] = [];
  const statuses: ConnectionStatus[] = [];
  const messages: string[] = [];
  let since = 0;
  const connection = new Connection({
    target: { origin: "http://x", mapId: "m" },
    transport: (_target, handlers) => {
      const t = { handlers, sent: [] as string[], closed: false };
      opened.push(t);
      return {
        name: "fake",
        send: (text) => void t.sent.push(text),
        close: (code = 1000, reason = "") => {
          t.closed = true;
          handlers.onClose({ code, reason });
        },
      };
    },
    hello: () => ({ type: "hello", since }),
    onMessage: (m) => void messages.push(m.type),
    onStatus: (s) => void statuses.push(s),
    clock,
    random: () => 0,
    ...options,
  });
  return {
    connection,
    opened,
    statuses,
    messages,
    timers,
    fire,
    setSince: (n: number) => since = n,
  };
}

/** The smallest valid messages of their kind. */
const WELCOME = {
  type: "welcome",
  you: { peer: "p1", name: "Ada", color: "#112233", role: "editor" },
  peers: [],
  seq: 0,
  features: { type: "FeatureCollection", features: [] },
};
const JOINED = { type: "joined", peer: "p2", name: "Bo", color: "#445566", role: "viewer" };

Deno.test("hello on open, live on welcome, reconnect with growing delays after closes", () => {
  const s = setup();
  s.connection.start();
  assert.equal(s.statuses.at(-1)?.state, "connecting");
  s.opened[0].handlers.onOpen();
  assert.deepEqual(JSON.parse(s.opened[0].sent[0]), {
    type: "hello",
    since: 0,
  });
  s.opened[0].handlers.onMessage(
    JSON.stringify([WELCOME, JOINED, { type: "joined", peer: 7 }]),
  );
  // The malformed `joined` (a number as peer id) is skipped, not passed on.
  assert.deepEqual(s.messages, ["welcome", "joined"]);
  assert.equal(s.connection.state, "live");
  assert.equal(s.statuses.at(-1)?.transport, "fake");
  assert.ok(s.connection.send({ type: "cursor", at: null }));

  s.opened[0].handlers.onClose({ code: 1006, reason: "" });
  assert.deepEqual(s.statuses.at(-1), {
    state: "offline",
    transport: "fake",
    retryInMs: 250,
  });
  assert.equal(s.connection.send({ type: "cursor", at: null }), false);
  s.fire((ms) => ms === 250);
  s.opened[1].handlers.onClose({ code: 1006, reason: "" });
  assert.equal(s.statuses.at(-1)?.retryInMs, 500);
  s.setSince(7);
  s.fire((ms) => ms === 500);
  s.opened[2].handlers.onOpen();
  assert.deepEqual(JSON.parse(s.opened[2].sent[0]), {
    type: "hello",
    since: 7,
  });
  s.connection.stop();
  assert.equal(s.timers.size, 0);
});

Deno.test("a policy close before welcome is final; a silent link is dropped after a ping", () => {
  const s = setup();
  s.connection.start();
  s.opened[0].handlers.onOpen();
  s.opened[0].handlers.onClose({ code: 1008, reason: "unknown map or key" });
  assert.deepEqual(s.statuses.at(-1), {
    state: "failed",
    transport: "fake",
    reason: INVALID_LINK,
  });
  assert.equal(s.timers.size, 0);

  const t = setup();
  t.connection.start();
  t.opened[0].handlers.onMessage(JSON.stringify(WELCOME));
  t.fire((ms) => ms === 20_000);
  assert.equal(JSON.parse(t.opened[0].sent.at(-1) ?? "").type, "ping");
  t.fire((ms) => ms === 10_000);
  assert.equal(t.opened[0].closed, true);
  assert.equal(t.connection.state, "offline");
  t.connection.stop();
  assert.equal(t.timers.size, 0);
});

Deno.test("a policy close with any other reason (a corporate gateway) is retried, not taken as a wrong key", () => {
  const s = setup();
  s.connection.start();
  s.opened[0].handlers.onOpen();
  s.opened[0].handlers.onClose({ code: 1008, reason: "blocked by policy" });
  assert.equal(s.connection.state, "offline");
  assert.equal(s.fire((ms) => ms === 250), 250, "a retry is scheduled");
  assert.equal(s.opened.length, 2);
  // A close with the relay's words but before the link ever opened did not come from the relay.
  s.opened[1].handlers.onClose({ code: 1008, reason: "unknown map or key" });
  assert.equal(s.connection.state, "offline");
});

Deno.test("no welcome within the welcome timeout (a gateway that buffers frames): the attempt fails and is retried", () => {
  const s = setup({ welcomeTimeoutMs: 3_000 });
  s.connection.start();
  s.opened[0].handlers.onOpen();
  assert.equal(s.statuses.at(-1)?.state, "connecting");
  assert.equal(s.fire((ms) => ms === 3_000), 3_000);
  assert.equal(s.opened[0].closed, true);
  assert.equal(s.connection.state, "offline");
  s.fire((ms) => ms === 250);
  assert.equal(s.opened.length, 2);
  // A welcome in time stops the timer: nothing but the ping is left.
  s.opened[1].handlers.onOpen();
  s.opened[1].handlers.onMessage(JSON.stringify(WELCOME));
  assert.deepEqual([...s.timers.values()].map((t) => t.ms), [20_000]);
  s.connection.stop();
});

Deno.test("a batch that would pass the frame limit goes out as several frames, in order", () => {
  const s = setup({ maxFrameBytes: 200 });
  s.connection.start();
  s.opened[0].handlers.onOpen();
  s.opened[0].handlers.onMessage(JSON.stringify(WELCOME));
  s.opened[0].sent.length = 0;
  const edits = Array.from(
    { length: 6 },
    (_, i) => ({ type: "edit", id: i, note: "é".repeat(30) }),
  );
  assert.ok(s.connection.send(edits));
  const sent = s.opened[0].sent;
  assert.ok(sent.length > 1, "split into several frames");
  for (const frame of sent) assert.ok(new TextEncoder().encode(frame).length <= 200, frame);
  assert.deepEqual(sent.flatMap((f) => JSON.parse(f)), edits);
  s.connection.stop();
});

Deno.test("a relay's close 1012 'moved' reconnects at once with since, without growing the backoff", () => {
  const s = setup();
  s.connection.start();
  s.opened[0].handlers.onOpen();
  s.opened[0].handlers.onMessage(JSON.stringify(WELCOME));
  // One ordinary drop first, so a grown backoff would show.
  s.opened[0].handlers.onClose({ code: 1006, reason: "" });
  assert.equal(s.statuses.at(-1)?.retryInMs, 250);
  s.fire((ms) => ms === 250);
  s.opened[1].handlers.onOpen();
  s.setSince(12);
  s.opened[1].handlers.onClose({ code: 1012, reason: "moved" });
  // random() is 0 here: no wait at all, where the backoff would now wait 500 ms.
  assert.equal(s.statuses.at(-1)?.retryInMs, 0);
  s.fire((ms) => ms === 0);
  s.opened[2].handlers.onOpen();
  assert.deepEqual(JSON.parse(s.opened[2].sent[0]), { type: "hello", since: 12 });
  // The attempt counter did not grow: the next ordinary drop waits what it would have.
  s.opened[2].handlers.onClose({ code: 1006, reason: "" });
  assert.equal(s.statuses.at(-1)?.retryInMs, 500);
  s.fire((ms) => ms === 500);
  // A 1012 with another reason (not the relay's) is an ordinary drop.
  s.opened[3].handlers.onClose({ code: 1012, reason: "service restart" });
  assert.equal(s.statuses.at(-1)?.retryInMs, 1000);
  s.connection.stop();
});

Deno.test("a map bouncing between relays: after a few 'moved' closes in a row the backoff takes over", () => {
  const s = setup();
  s.connection.start();
  const delays: (number | undefined)[] = [];
  for (let i = 0; i < 5; i++) {
    s.opened[i].handlers.onOpen();
    s.opened[i].handlers.onClose({ code: 1012, reason: "moved" });
    delays.push(s.statuses.at(-1)?.retryInMs);
    s.fire(() => true);
  }
  assert.deepEqual(delays, [0, 0, 0, 250, 500]);
  s.connection.stop();
});
