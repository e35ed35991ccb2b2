/** Measures what WebSocket connections that never say hello cost the relay: its RSS while each sends one big frame. */

// Usage: deno run -A bench/no_hello.ts [--conns N] [--mib S] [--stall] [--relay-arg FLAG]...
//
// Starts the relay (`main.ts --memory` on a free loopback port), opens N raw WebSocket connections
// to /ws/<id> that never send `hello`, and on each writes one text frame announcing S MiB, then
// its payload (all of it, or with --stall all but the last byte, and then waits). It prints the
// relay's RSS before, at its peak while the frames arrive, and after, and how each connection
// ended (close code, or 1006 when the TCP connection dropped without a close frame) and when.
// Raw frames on Deno.connect rather than a WebSocket client, so nothing on the sending side
// buffers or fragments the frame.

import { readProc } from "./proc.ts";

const MiB = 1 << 20;

function flag(name: string, fallback: string): string {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : fallback;
}
const conns = Number(flag("--conns", "8"));
const mib = Number(flag("--mib", "60"));
const stall = Deno.args.includes("--stall");
const relayArgs = Deno.args.flatMap((a, i) => Deno.args[i - 1] === "--relay-arg" ? [a] : []);

const relay = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    new URL("../main.ts", import.meta.url).pathname,
    "--memory",
    "--port",
    "0",
    ...relayArgs,
  ],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const lines = relay.stdout.pipeThrough(new TextDecoderStream()).getReader();
let port = 0;
let pending = "";
while (!port) {
  const { value, done } = await lines.read();
  if (done) throw new Error("relay exited before listening");
  pending += value;
  const m = pending.match(/"event":"listening"[^\n]*"port":(\d+)/);
  if (m) port = Number(m[1]);
}
// Keep draining the relay's log so it never blocks on a full pipe.
(async () => {
  while (!(await lines.read()).done) { /* drain */ }
})();

const rss = () => readProc(relay.pid).rssBytes / MiB;
let peak = rss();
const before = peak;
const sampler = setInterval(() => peak = Math.max(peak, rss()), 20);

/** Opens one upgraded connection once the 101 has been read, or answers the refusal's status line. */
async function upgrade(): Promise<Deno.TcpConn | string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(
      `GET /ws/nohello HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: duplexmap.v1\r\n\r\n",
    ),
  );
  const buf = new Uint8Array(4096);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("closed during the upgrade");
    head += new TextDecoder().decode(buf.subarray(0, n));
  }
  if (!head.startsWith("HTTP/1.1 101")) {
    conn.close();
    return head.split("\r\n")[0];
  }
  return conn;
}

/** Writes one masked text frame header for `length` bytes (mask key 0: the payload is as sent). */
function frameHeader(length: number): Uint8Array {
  const h = new Uint8Array(14);
  const view = new DataView(h.buffer);
  h[0] = 0x81;
  h[1] = 0x80 | 127;
  view.setBigUint64(2, BigInt(length));
  return h; // bytes 10..13: the zero mask key
}

/** Reads until the server closes; the close frame's code, or 1006 for none. */
async function ending(conn: Deno.TcpConn): Promise<number> {
  const buf = new Uint8Array(65536);
  let got = new Uint8Array(0);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      got = new Uint8Array([...got, ...buf.subarray(0, n)]).slice(-65536);
      const i = got.findIndex((b, j) => b === 0x88 && j + 3 < got.length);
      if (i >= 0) return (got[i + 2] << 8) | got[i + 3];
    }
  } catch {
    // Reset by the relay.
  }
  return 1006;
}

const started = performance.now();
const chunk = new Uint8Array(MiB).fill(0x61);
const opened = await Promise.all(Array.from({ length: conns }, upgrade));
const sockets = opened.filter((s): s is Deno.TcpConn => typeof s !== "string");
const refused = opened.filter((s): s is string => typeof s === "string");
const endings = sockets.map(async (conn) => {
  const code = await ending(conn);
  return { code, afterMs: Math.round(performance.now() - started) };
});
await Promise.all(sockets.map(async (conn) => {
  const length = mib * MiB;
  try {
    await conn.write(frameHeader(length));
    let left = stall ? length - 1 : length;
    while (left > 0) left -= await conn.write(chunk.subarray(0, Math.min(left, MiB)));
  } catch {
    // The relay dropped the connection while we were sending.
  }
}));
const sentAt = performance.now();
const afterSend = rss();
const results = await Promise.race([
  Promise.all(endings),
  new Promise<null>((r) => setTimeout(() => r(null), 120_000)),
]);
clearInterval(sampler);
const after = rss();
console.log(JSON.stringify({
  conns,
  mib,
  stall,
  relayArgs,
  rssMiB: {
    before: Math.round(before),
    afterSend: Math.round(afterSend),
    peak: Math.round(peak),
    afterClose: Math.round(after),
  },
  upgraded: sockets.length,
  refused,
  perConnMiB: Math.round((peak - before) / Math.max(1, sockets.length)),
  sendMs: Math.round(sentAt - started),
  endings: results ?? "still open after 120 s",
}));
for (const s of sockets) {
  try {
    s.close();
  } catch { /* closed */ }
}
relay.kill("SIGTERM");
await relay.status;
