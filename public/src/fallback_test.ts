/** Tests for the transport policy: WebSocket first, HTTP once upgrades are known to be blocked. */
import assert from "assert";
import { createFallbackTransport, STRIKES_AFTER_WORKED } from "./fallback.ts";
import type { TransportFactory, TransportHandlers } from "./transport.ts";

/** A fake transport factory; the test opens or fails each attempt through its handlers. */
function fakeFactory(name: string) {
  const attempts: { handlers: TransportHandlers; sent: string[]; closed: boolean }[] = [];
  const factory: TransportFactory = (_target, handlers) => {
    const a = { handlers, sent: [] as string[], closed: false };
    attempts.push(a);
    return {
      name,
      send: (text) => void a.sent.push(text),
      close: (code = 1000, reason = "") => {
        if (a.closed) return;
        a.closed = true;
        handlers.onClose({ code, reason });
      },
    };
  };
  return { attempts, factory };
}

function setup(initiallyReachable: boolean) {
  let reachable = initiallyReachable;
  const ws = fakeFactory("websocket");
  const http = fakeFactory("http fallback");
  const probes: string[] = [];
  let fallbacks = 0;
  const make = createFallbackTransport({
    primary: ws.factory,
    fallback: http.factory,
    probe: (target) => {
      probes.push(target.mapId);
      return Promise.resolve(reachable);
    },
    onFallback: () => void fallbacks++,
  });
  const log: string[] = [];
  const handlers: TransportHandlers = {
    onOpen: () => void log.push("open"),
    onMessage: (text) => void log.push(`message ${text}`),
    onClose: ({ code }) => void log.push(`close ${code}`),
  };
  return {
    ws,
    http,
    probes,
    make,
    log,
    handlers,
    fallbacks: () => fallbacks,
    /** The network changes: from now on the probe finds the relay reachable or not. */
    setReachable: (value: boolean) => void (reachable = value),
  };
}

const turn = () => new Promise((r) => setTimeout(r, 0));
const target = { origin: "https://x", mapId: "m" };

Deno.test("fallback: a WebSocket that works is used as it is, with no probe", () => {
  const s = setup(true);
  const t = s.make(target, s.handlers);
  assert.equal(t.name, "websocket");
  s.ws.attempts[0].handlers.onOpen();
  t.send("hello");
  s.ws.attempts[0].handlers.onMessage("welcome");
  s.ws.attempts[0].handlers.onClose({ code: 1006, reason: "" });
  assert.deepEqual(s.log, ["open", "message welcome", "close 1006"]);
  assert.deepEqual(s.ws.attempts[0].sent, ["hello"]);
  assert.deepEqual(s.probes, [], "a WebSocket that had opened is not a blocked one");
});

Deno.test("fallback: WebSocket fails before opening and the relay answers HTTP: the same attempt goes on over HTTP", async () => {
  const s = setup(true);
  const t = s.make(target, s.handlers);
  s.ws.attempts[0].handlers.onClose({ code: 1006, reason: "" });
  await turn();
  assert.deepEqual(s.probes, ["m"]);
  assert.equal(s.fallbacks(), 1);
  assert.equal(s.http.attempts.length, 1);
  assert.equal(t.name, "http fallback", "the indicator can tell which transport is in use");
  assert.deepEqual(s.log, [], "the owner saw no close");
  s.http.attempts[0].handlers.onOpen();
  t.send("hello");
  assert.deepEqual(s.http.attempts[0].sent, ["hello"]);
  s.http.attempts[0].handlers.onMessage("welcome");
  t.close(4000, "offline");
  assert.deepEqual(s.log, ["open", "message welcome", "close 4000"]);
  // Every later attempt of this page goes straight to HTTP.
  const again = s.make(target, s.handlers);
  assert.equal(again.name, "http fallback");
  assert.equal(s.ws.attempts.length, 1);
  assert.equal(s.http.attempts.length, 2);
  assert.deepEqual(s.probes, ["m"]);
});

Deno.test("fallback: WebSocket fails and the relay is unreachable: an ordinary close, WebSocket again next time", async () => {
  const s = setup(false);
  const t = s.make(target, s.handlers);
  s.ws.attempts[0].handlers.onClose({ code: 1006, reason: "" });
  await turn();
  assert.deepEqual(s.log, ["close 1006"]);
  assert.equal(t.name, "websocket");
  assert.equal(s.http.attempts.length, 0);
  assert.equal(s.make(target, s.handlers).name, "websocket");
  assert.equal(s.fallbacks(), 0);
});

Deno.test("fallback: closed by its owner while connecting or probing: one close, no HTTP attempt", async () => {
  const s = setup(true);
  const t = s.make(target, s.handlers);
  t.close(4000, "offline");
  await turn();
  assert.deepEqual(s.log, ["close 4000"]);
  assert.deepEqual(s.probes, [], "the owner's own close is no sign of a blocked WebSocket");

  const s2 = setup(true);
  const t2 = s2.make(target, s2.handlers);
  s2.ws.attempts[0].handlers.onClose({ code: 1006, reason: "" });
  t2.close(4000, "offline"); // while the probe is out
  await turn();
  assert.deepEqual(s2.log, ["close 4000"]);
  assert.equal(s2.http.attempts.length, 0);
});

Deno.test("fallback: a WebSocket that opens but never delivers (a buffering gateway) sends later attempts to HTTP", async () => {
  const s = setup(true);
  const t = s.make(target, s.handlers);
  s.ws.attempts[0].handlers.onOpen();
  t.send("hello");
  // The connection gives up waiting for welcome and closes; the owner hears at once.
  t.close(4002, "no welcome in time");
  assert.deepEqual(s.log, ["open", "close 4002"]);
  // The next attempt starts while the probe is still out: it waits for the answer, then uses HTTP.
  const next = s.make(target, s.handlers);
  await turn();
  assert.deepEqual(s.probes, ["m"]);
  assert.equal(s.fallbacks(), 1);
  assert.equal(next.name, "http fallback");
  assert.equal(s.ws.attempts.length, 1);
  assert.equal(s.http.attempts.length, 1);
  s.http.attempts[0].handlers.onOpen();
  next.send("hello");
  assert.deepEqual(s.http.attempts[0].sent, ["hello"]);
});

Deno.test("fallback: a gateway that accepts the upgrade and closes it at once sends later attempts to HTTP", async () => {
  const s = setup(true);
  s.make(target, s.handlers);
  s.ws.attempts[0].handlers.onOpen();
  s.ws.attempts[0].handlers.onClose({ code: 1008, reason: "blocked by policy" });
  assert.deepEqual(s.log, ["open", "close 1008"]);
  await turn();
  assert.equal(s.make(target, s.handlers).name, "http fallback");

  // Where the relay cannot be reached either, the WebSocket is tried again.
  const u = setup(false);
  u.make(target, u.handlers);
  u.ws.attempts[0].handlers.onOpen();
  u.ws.attempts[0].handlers.onClose({ code: 1008, reason: "blocked by policy" });
  await turn();
  assert.equal(u.make(target, u.handlers).name, "websocket");
});

Deno.test("fallback: the relay's own refusal of the key over the WebSocket is passed on, with no probe", async () => {
  const s = setup(true);
  s.make(target, s.handlers);
  s.ws.attempts[0].handlers.onOpen();
  s.ws.attempts[0].handlers.onClose({ code: 1008, reason: "unknown map or key" });
  await turn();
  assert.deepEqual(s.log, ["open", "close 1008"]);
  assert.deepEqual(s.probes, []);
  assert.equal(s.make(target, s.handlers).name, "websocket");
});

Deno.test("fallback: once a WebSocket has worked, a failure while the network comes back is an outage; only repeated ones switch", async () => {
  const s = setup(false);
  const first = s.make(target, s.handlers);
  s.ws.attempts[0].handlers.onOpen();
  s.ws.attempts[0].handlers.onMessage("welcome");
  s.ws.attempts[0].handlers.onClose({ code: 1006, reason: "" });
  assert.equal(first.name, "websocket");
  // Offline: the next attempt fails and so does the probe.
  s.make(target, s.handlers);
  s.ws.attempts[1].handlers.onClose({ code: 1006, reason: "" });
  await turn();
  // The network comes back between an attempt's failure and its probe: the relay answers HTTP,
  // yet WebSockets passed here a moment ago, so this is no proxy.
  s.setReachable(true);
  const racing = s.make(target, s.handlers);
  s.ws.attempts[2].handlers.onClose({ code: 1006, reason: "" });
  await turn();
  assert.equal(racing.name, "websocket");
  assert.equal(s.http.attempts.length, 0);
  assert.equal(s.fallbacks(), 0);
  assert.deepEqual(s.log.slice(-3), ["close 1006", "close 1006", "close 1006"]);
  // It works again: the count starts over.
  s.make(target, s.handlers);
  s.ws.attempts[3].handlers.onOpen();
  s.ws.attempts[3].handlers.onMessage("welcome");
  s.ws.attempts[3].handlers.onClose({ code: 1006, reason: "" });
  // The page moves onto a network whose proxy strips upgrades while the relay answers HTTP: each
  // WebSocket fails; after STRIKES_AFTER_WORKED in a row the page goes on over HTTP.
  let last = s.make(target, s.handlers);
  for (let i = 1; i < STRIKES_AFTER_WORKED; i++) {
    s.ws.attempts.at(-1)!.handlers.onClose({ code: 1006, reason: "" });
    await turn();
    assert.equal(last.name, "websocket", `still a WebSocket after ${i} failures`);
    last = s.make(target, s.handlers);
  }
  const closes = s.log.length;
  s.ws.attempts.at(-1)!.handlers.onClose({ code: 1006, reason: "" });
  await turn();
  assert.equal(s.fallbacks(), 1);
  assert.equal(last.name, "http fallback", "the same attempt goes on over HTTP");
  assert.equal(s.log.length, closes, "the owner saw no close for it");
  assert.equal(s.make(target, s.handlers).name, "http fallback");
  assert.equal(s.ws.attempts.length, 4 + STRIKES_AFTER_WORKED);
});
