/** End-to-end: the relay behind real HAProxy (haproxy/haproxy.cfg): TLS, redirects, WebSockets, limits. */
import assert from "assert";
import {
  freePort,
  type HaproxyProcess,
  type ProxiedWebSocketOptions,
  run,
  startHaproxy,
} from "./_haproxy.ts";
import { createMap, startRelay } from "./_relay.ts";
import {
  type EditMsg,
  type Msg,
  openedPeer,
  type ServerMsgs,
  type TestPeer,
  type WireOp,
} from "./_ws.ts";
import { feature, point } from "./_fixtures.ts";
import { sleep } from "./_process.ts";

/** Relay flags for running behind HAProxy on loopback. */
const BEHIND_PROXY = ["--memory", "--trust-proxy", "127.0.0.1"];

/** Opens a WebSocket to `/ws/<mapId>` through HAProxy and waits until it is open. */
async function openPeer(
  hp: HaproxyProcess,
  mapId: string,
  options: { label?: string } & ProxiedWebSocketOptions = {},
): Promise<TestPeer> {
  const ws = hp.webSocket(`/ws/${mapId}`, { protocols: ["duplexmap.v1"], ...options });
  return await openedPeer(ws, options.label ?? "peer");
}

/** Whether a WebSocket through HAProxy opens (true) or is refused (false). */
async function tryOpen(hp: HaproxyProcess, mapId: string, localAddress: string): Promise<boolean> {
  try {
    const peer = await openPeer(hp, mapId, { localAddress });
    await peer.close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("wss:// with the duplexmap.v1 subprotocol through HAProxy, with HSTS", async () => {
  await using relay = await startRelay({ args: BEHIND_PROXY });
  await using hp = await startHaproxy({ relayPort: relay.port });

  const created = await hp.fetch("/api/maps", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ title: "Over TLS" }),
  });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get("strict-transport-security"), "max-age=63072000");
  const map = await created.json() as { id: string; editKey: string };

  // Two HTTP/1.1 WebSocket clients (Deno's, npm ws); Chromium's WebSocket over HTTP/2 (RFC 8441)
  // through HAProxy is tested in tests/browser_haproxy_test.ts.
  await using a = await openPeer(hp, map.id, { label: "a" });
  await using b = await openPeer(hp, map.id, { label: "b", nodeWs: true });
  assert.equal(a.ws.protocol, "duplexmap.v1");
  assert.equal(b.ws.protocol, "duplexmap.v1");
  await a.hello(map.editKey);
  await b.hello(map.editKey);
  a.send({ type: "edit", id: "e1", ops: [{ op: "put", feature: feature("f1", point(2, 48)) }] });
  const ack = await a.nextOf("edit", (m) => m.id === "e1");
  const seen = await b.nextOf("edit", (m) => m.seq === ack.seq);
  assert.deepEqual(seen.ops, ack.ops);

  const page = await hp.fetch(`/m/${map.id}`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /text\/html/);
  await page.body?.cancel();
});

Deno.test("http:// is redirected to the same URL on https://", async () => {
  await using relay = await startRelay({ args: BEHIND_PROXY });
  await using hp = await startHaproxy({ relayPort: relay.port });

  const res = await fetch(`${hp.httpUrl}/m/abc?x=1`, { redirect: "manual" });
  await res.body?.cancel();
  assert.equal(res.status, 301);
  assert.equal(res.headers.get("location"), `${hp.httpsUrl}/m/abc?x=1`);

  const followed = await fetch(`${hp.httpUrl}/healthz`, { client: hp.client });
  assert.equal(followed.status, 200);
  assert.equal(followed.url, `${hp.httpsUrl}/healthz`);
  await followed.body?.cancel();
});

Deno.test("TLS 1.0 and 1.1 are refused by HAProxy; TLS 1.2 and 1.3 are accepted", async () => {
  await using relay = await startRelay({ args: BEHIND_PROXY });
  await using hp = await startHaproxy({ relayPort: relay.port });

  const handshake = async (version: string, extra: string[] = []) => {
    const out = await run("openssl", [
      "s_client",
      "-connect",
      `127.0.0.1:${hp.httpsPort}`,
      "-servername",
      "localhost",
      `-${version}`,
      "-CAfile",
      hp.caFile,
      "-verify_return_error",
      ...extra,
    ], { stdin: "" });
    return `${out.stdout}\n${out.stderr}`;
  };

  // SECLEVEL=0 lets this openssl offer TLS 1.0/1.1 at all (Debian's default refuses them on the
  // client side), so the refusal seen is the server's: a protocol_version alert.
  for (const old of ["tls1", "tls1_1"]) {
    const text = await handshake(old, ["-cipher", "DEFAULT@SECLEVEL=0"]);
    assert.doesNotMatch(text, /no protocols available/, `${old}: openssl did not even offer it`);
    assert.match(text, /alert protocol version/, `${old} should be refused by HAProxy:\n${text}`);
    assert.match(text, /no peer certificate available/);
    assert.match(text, /Cipher is \(NONE\)/);
  }
  const tls12 = await handshake("tls1_2");
  assert.match(tls12, /Protocol\s*: TLSv1\.2/, tls12);
  assert.match(tls12, /Verify return code: 0 \(ok\)/);
  // Intermediate profile: forward-secret AEAD ciphers only, no session tickets.
  assert.match(tls12, /Cipher\s*: ECDHE-ECDSA-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20)/);
  assert.doesNotMatch(tls12, /TLS session ticket:/);
  const tls13 = await handshake("tls1_3");
  assert.match(tls13, /New, TLSv1\.3/, tls13);
  assert.match(tls13, /Verify return code: 0 \(ok\)/);

  const weak = await handshake("tls1_2", [
    "-cipher",
    "AES128-SHA:AES256-SHA:ECDHE-ECDSA-AES128-SHA",
  ]);
  assert.match(
    weak,
    /handshake failure|no shared cipher/,
    `a CBC cipher must be refused:\n${weak}`,
  );
});

Deno.test("the relay logs the client's address from X-Forwarded-For set by HAProxy", async () => {
  await using relay = await startRelay({ args: BEHIND_PROXY });
  await using hp = await startHaproxy({ relayPort: relay.port });
  const map = await createMap(relay.url);

  // Clients at 127.0.0.2 (npm ws) and 127.0.0.3 (Deno) that also try to claim another
  // address in their own header: HAProxy drops it and sets the address it saw.
  for (const [addr, nodeWs] of [["127.0.0.2", true], ["127.0.0.3", false]] as const) {
    await using peer = await openPeer(hp, map.id, {
      localAddress: addr,
      nodeWs,
      headers: { "X-Forwarded-For": "203.0.113.66" },
    });
    const welcome = await peer.hello(map.editKey, { name: `from-${addr}` });
    const line = await relay.waitForLog((l) =>
      l.event === "connect" && l.peer === welcome.you.peer
    );
    assert.equal(line.addr, addr);
  }
});

Deno.test("a WebSocket idle for longer than HAProxy's client timeout stays open", async () => {
  await using relay = await startRelay({ args: BEHIND_PROXY });
  await using hp = await startHaproxy({
    relayPort: relay.port,
    env: {
      DM_TIMEOUT_CLIENT: "1s",
      DM_TIMEOUT_SERVER: "1s",
      DM_TIMEOUT_HTTP_REQUEST: "1s",
      DM_TIMEOUT_TUNNEL: "60s",
    },
  });
  const map = await createMap(relay.url);
  await using peer = await openPeer(hp, map.id, { label: "deno" });
  await peer.hello(map.editKey);
  await using peer1 = await openPeer(hp, map.id, { label: "ws", nodeWs: true });
  await peer1.hello(map.editKey);

  // Proof that the short timeout is in force: a TLS connection that sends nothing after the
  // WebSocket went quiet is closed by HAProxy...
  const idle = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: hp.httpsPort,
    caCerts: [hp.caPem],
  });
  const buffer = new Uint8Array(1024);
  let read: number | null = 0;
  for (let i = 0; i < 20 && read !== null; i++) read = await idle.read(buffer);
  idle.close();
  assert.equal(read, null, "HAProxy should close a silent connection after its timeout");
  // ...then the WebSockets, silent for at least as long and then some, still work.
  await sleep(1500);
  for (const p of [peer, peer1]) {
    assert.equal(p.open, true);
    p.send({ type: "ping", t: "still-there" });
    await p.nextOf("pong", (m) => m.t === "still-there");
  }
});

/**
 * A raw protocol client that does what docs/PROTOCOL.md says a client does when its connection
 * drops: reconnect with `hello.since` = the last `seq` seen and its stable `client` id, apply the
 * catch-up, and resend the edits it did not find acknowledged there; the relay answers
 * `rejected`/`duplicate` to a resend of an edit it had applied, which counts as the ack.
 */
class ReconnectingClient {
  readonly features = new Map<string, unknown>();
  /** Every seq applied, in order. */
  readonly seqs: number[] = [];
  reconnects = 0;
  #lastSeq = 0;
  #pending = new Map<string, WireOp[]>();
  #myPeers = new Set<string>();
  #peer: TestPeer | undefined;
  #stopped = false;
  #loop: Promise<void>;
  #nextId = 0;
  #clientId = crypto.randomUUID();
  /** What makes waiting pointless (a rejected edit, a gap in seq); until() throws it. */
  #failure: Error | undefined;
  #changed: Array<() => void> = [];

  constructor(
    private readonly open: () => Promise<TestPeer>,
    private readonly key: string,
    readonly name: string,
  ) {
    this.#loop = this.#run();
  }

  edit(ops: WireOp[]): void {
    const id = `${this.name}-${++this.#nextId}`;
    this.#pending.set(id, ops);
    if (this.#peer?.open) this.#peer.send({ type: "edit", id, ops });
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** The last seq applied. */
  get seq(): number {
    return this.#lastSeq;
  }

  get connected(): boolean {
    return this.#peer?.open ?? false;
  }

  /** Resolves when `check()` holds; rejects after `timeoutMs`. */
  async until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (this.#failure) throw this.#failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: not ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 200));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#changed.push(done);
      });
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#peer?.close();
    await this.#loop;
  }

  async #run(): Promise<void> {
    for (let attempt = 0; !this.#stopped && attempt < 200; attempt++) {
      let peer: TestPeer;
      try {
        peer = await this.open();
      } catch {
        await sleep(100);
        continue;
      }
      this.#peer = peer;
      try {
        await this.#session(peer);
      } catch {
        // Dropped: reconnect below.
      }
      await peer.close();
      this.#peer = undefined;
      if (!this.#stopped) this.reconnects++;
      this.#notify();
    }
  }

  async #session(peer: TestPeer): Promise<void> {
    peer.send({
      type: "hello",
      key: this.key,
      name: this.name,
      color: "#112233",
      client: this.#clientId,
      ...(this.#lastSeq > 0 ? { since: this.#lastSeq } : {}),
    });
    const welcome = await peer.nextOf("welcome") as ServerMsgs["welcome"];
    this.#myPeers.add(welcome.you.peer);
    if (welcome.features) {
      this.features.clear();
      for (const f of welcome.features.features) this.features.set(f.id, f);
      this.#lastSeq = welcome.seq;
    }
    for (const edit of welcome.ops ?? []) this.#apply(edit);
    for (const [id, ops] of this.#pending) peer.send({ type: "edit", id, ops });
    this.#notify();
    for (;;) {
      const m: Msg = await peer.next(
        (m) => m.type === "edit" || m.type === "rejected",
        60_000,
        "an edit",
      );
      if (m.type === "edit") this.#apply(m as EditMsg);
      else this.#rejected(m as ServerMsgs["rejected"]);
    }
  }

  #apply(edit: EditMsg): void {
    if (edit.seq <= this.#lastSeq) return;
    if (edit.seq !== this.#lastSeq + 1) {
      this.#failure = new Error(`${this.name}: gap: seq ${edit.seq} after ${this.#lastSeq}`);
      throw this.#failure;
    }
    this.#lastSeq = edit.seq;
    this.seqs.push(edit.seq);
    for (const op of edit.ops) {
      if (op.op === "put") this.features.set(op.feature.id, op.feature);
      if (op.op === "del") this.features.delete(op.fid);
    }
    if (this.#myPeers.has(edit.by)) this.#pending.delete(String(edit.id));
    this.#notify();
  }

  #rejected(m: ServerMsgs["rejected"]): void {
    if (m.code !== "duplicate") {
      this.#failure = new Error(`${this.name}: edit ${m.id} rejected: ${m.code} ${m.message}`);
    }
    this.#pending.delete(String(m.id));
    this.#notify();
  }

  #notify(): void {
    const waiting = this.#changed;
    this.#changed = [];
    for (const done of waiting) done();
  }
}

Deno.test("HAProxy restarted under live clients: they reconnect, catch up, and lose nothing", async () => {
  await using relay = await startRelay({ args: BEHIND_PROXY });
  await using hp = await startHaproxy({ relayPort: relay.port });
  const map = await createMap(relay.url);
  const open = (label: string, nodeWs: boolean) => () => openPeer(hp, map.id, { label, nodeWs });
  const a = new ReconnectingClient(open("a", false), map.editKey, "a");
  const b = new ReconnectingClient(open("b", true), map.editKey, "b");
  try {
    await a.until(() => a.connected, "connected");
    await b.until(() => b.connected, "connected");
    for (let i = 0; i < 20; i++) a.edit([{ op: "put", feature: feature(`a${i}`, point(i, 1)) }]);
    for (let i = 0; i < 20; i++) b.edit([{ op: "put", feature: feature(`b${i}`, point(i, 2)) }]);
    await a.until(() => a.features.size === 40, "caught up before restart");

    const restarted = hp.restart();
    // Edits made while HAProxy is down are queued by the clients and sent after reconnecting.
    for (let i = 20; i < 40; i++) {
      a.edit([{ op: "put", feature: feature(`a${i}`, point(i, 1)) }]);
      b.edit([{ op: "put", feature: feature(`b${i}`, point(i, 2)) }]);
      await sleep(10);
    }
    await restarted;
    for (let i = 40; i < 60; i++) a.edit([{ op: "put", feature: feature(`a${i}`, point(i, 1)) }]);

    for (const c of [a, b]) {
      await c.until(() => c.features.size === 100 && c.pending === 0, "converged after restart");
    }
    // Every edit applied exactly once: 100 puts, 100 seqs, seen by both.
    for (const c of [a, b]) await c.until(() => c.seq === 100, "at seq 100");
    assert.ok(a.reconnects >= 1 && b.reconnects >= 1, "both clients lost their connection");
    // Every accepted edit was seen by both, in seq order, without a gap.
    assert.deepEqual(a.seqs, b.seqs);
    assert.deepEqual(a.seqs, a.seqs.map((_, i) => i + 1));
    assert.deepEqual([...a.features.keys()].sort(), [...b.features.keys()].sort());
  } finally {
    await a.stop();
    await b.stop();
  }
});

Deno.test("a client address over the connection cap is refused while others are served", async () => {
  await using relay = await startRelay({ args: BEHIND_PROXY });
  await using hp = await startHaproxy({
    relayPort: relay.port,
    env: { DM_MAX_CONN_PER_ADDR: "3", DM_MAX_CONN_RATE_PER_ADDR: "1000" },
  });
  const map = await createMap(relay.url);

  const held: TestPeer[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      held.push(await openPeer(hp, map.id, { localAddress: "127.0.0.2", label: `held${i}` }));
    }
    await held[0].hello(map.editKey);
    assert.equal(await tryOpen(hp, map.id, "127.0.0.2"), false, "4th connection from 127.0.0.2");
    // Another address is served as usual, and the capped one's open connections keep working.
    assert.equal(await tryOpen(hp, map.id, "127.0.0.3"), true, "127.0.0.3 must be served");
    const res = await hp.fetch("/healthz");
    assert.equal(res.status, 200);
    await res.body?.cancel();
    await held[0].sync();
    // The cap is on concurrent connections: closing one frees a slot.
    await held.pop()!.close();
    let reopened = false;
    for (let i = 0; i < 20 && !reopened; i++) {
      reopened = await tryOpen(hp, map.id, "127.0.0.2");
      if (!reopened) await sleep(100);
    }
    assert.equal(reopened, true, "a slot freed by closing must be usable again");
  } finally {
    for (const p of held) await p.close();
  }
});

Deno.test("a client address over the connection rate cap is refused while others are served", async () => {
  await using relay = await startRelay({ args: BEHIND_PROXY });
  await using hp = await startHaproxy({
    relayPort: relay.port,
    env: { DM_MAX_CONN_RATE_PER_ADDR: "5", DM_CONN_RATE_PERIOD: "60s" },
  });
  const map = await createMap(relay.url);
  const results: boolean[] = [];
  for (let i = 0; i < 8; i++) results.push(await tryOpen(hp, map.id, "127.0.0.4"));
  assert.deepEqual(results, [true, true, true, true, true, false, false, false]);
  assert.equal(await tryOpen(hp, map.id, "127.0.0.5"), true, "127.0.0.5 must be served");
});

Deno.test("HAProxy's own error answers carry HSTS too (503 while the relay is down)", async () => {
  // Nothing listens on the relay's port: every request gets HAProxy's own 503.
  await using hp = await startHaproxy({ relayPort: await freePort(), waitHealthy: false });
  const res = await hp.fetch("/");
  assert.equal(res.status, 503);
  await res.body?.cancel();
  assert.equal(res.headers.get("strict-transport-security"), "max-age=63072000");
});

Deno.test("/metrics through HAProxy is served to the allow-list only, however the path is spelt", async () => {
  await using relay = await startRelay({ args: BEHIND_PROXY });
  await using hp = await startHaproxy({ relayPort: relay.port });
  const from = async (localAddress: string, path: string) => {
    const client = Deno.createHttpClient({ caCerts: [hp.caPem], localAddress });
    try {
      const res = await fetch(`${hp.httpsUrl}${path}`, { client });
      return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
    } finally {
      client.close();
    }
  };
  // 127.0.0.1 is on the default allow-list (loopback: the server itself).
  const allowed = await from("127.0.0.1", "/metrics");
  assert.equal(allowed.status, 200);
  assert.match(allowed.body, /duplexmap_/);
  // Any other address is refused, in every spelling the relay's router would accept.
  for (const path of ["/metrics", "/%6detrics", "//metrics", "/metrics?x=1"]) {
    const refused = await from("127.0.0.2", path);
    assert.equal(refused.status, 403, path);
    assert.equal(refused.type, "application/problem+json", path);
    assert.doesNotMatch(refused.body, /duplexmap_/, path);
  }
  // The rest of the relay is served to that address as usual.
  assert.equal((await from("127.0.0.2", "/healthz")).status, 200);
});

Deno.test("DM_METRICS_ALLOW extends the /metrics allow-list", async () => {
  await using relay = await startRelay({ args: BEHIND_PROXY });
  await using hp = await startHaproxy({
    relayPort: relay.port,
    env: { DM_METRICS_ALLOW: "127.0.0.1 127.0.0.8/29" },
  });
  for (const [addr, status] of [["127.0.0.9", 200], ["127.0.0.20", 403]] as const) {
    const client = Deno.createHttpClient({ caCerts: [hp.caPem], localAddress: addr });
    try {
      const res = await fetch(`${hp.httpsUrl}/metrics`, { client });
      await res.body?.cancel();
      assert.equal(res.status, status, addr);
    } finally {
      client.close();
    }
  }
});

Deno.test("a client sending its request headers slowly is cut off by HAProxy with 408", async () => {
  await using relay = await startRelay({ args: BEHIND_PROXY });
  await using hp = await startHaproxy({
    relayPort: relay.port,
    env: { DM_TIMEOUT_HTTP_REQUEST: "1s" },
  });
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: hp.httpsPort,
    caCerts: [hp.caPem],
  });
  const encoder = new TextEncoder();
  // Slowloris: a header line started, then one more byte now and then, never the blank line.
  await conn.write(encoder.encode("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
  let answer = "";
  const reading = (async () => {
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) return;
      answer += new TextDecoder().decode(buf.subarray(0, n));
    }
  })();
  for (let i = 0; i < 50 && answer === ""; i++) {
    await conn.write(encoder.encode("a")).catch(() => 0);
    await sleep(200);
  }
  await reading;
  conn.close();
  assert.match(answer, /^HTTP\/1\.1 408 /);
  // (No HSTS on this one: HAProxy writes errors of the earliest request parsing before any
  // http-after-response rule runs; docs/DEPLOY.md says so.)
});
