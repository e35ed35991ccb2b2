/** A loopback gateway for tests that lets the WebSocket upgrade through and then spoils the socket. */

import { concat, indexOf } from "./_ws.ts";

/** What the gateway does to a WebSocket once the relay's `101` has gone through. */
export type GatewayMode =
  /** Holds every frame from the relay (buffers it and never forwards it), as a buffering proxy. */
  | "buffer"
  /** Sends the browser a close 1008 with its own reason (a corporate policy) and hangs up. */
  | "policy-close";

/** A running gateway. */
export interface Gateway {
  /** `http://127.0.0.1:<port>`: open the page here. */
  url: string;
  /** WebSocket upgrades seen so far. */
  readonly upgrades: number;
  /** Bytes from the relay held back after the `101`s (mode "buffer"). */
  readonly heldBytes: number;
  [Symbol.asyncDispose](): Promise<void>;
}

const HEAD_END = new Uint8Array([13, 10, 13, 10]);

/** Reads until the end of an HTTP head; returns everything read (head and any bytes after it). */
async function readHead(conn: Deno.Conn): Promise<{ bytes: Uint8Array; end: number } | null> {
  let bytes: Uint8Array = new Uint8Array(0);
  const chunk = new Uint8Array(16 * 1024);
  while (bytes.length < 64 * 1024) {
    const n = await conn.read(chunk);
    if (n === null) return null;
    bytes = concat(bytes, chunk.subarray(0, n));
    const at = indexOf(bytes, HEAD_END);
    if (at >= 0) return { bytes, end: at + 4 };
  }
  return null;
}

/** An unmasked close frame (server to client) with a code and a short reason. */
function closeFrame(code: number, reason: string): Uint8Array {
  const text = new TextEncoder().encode(reason);
  const frame = new Uint8Array(4 + text.length);
  frame[0] = 0x88;
  frame[1] = 2 + text.length;
  frame[2] = code >> 8;
  frame[3] = code & 0xff;
  frame.set(text, 4);
  return frame;
}

async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  try {
    await from.readable.pipeTo(to.writable, { preventClose: true });
  } catch {
    // One side went away; the other is closed below.
  }
}

/**
 * Starts a TCP gateway on 127.0.0.1 in front of `relayPort`. Plain HTTP requests (the page, its
 * assets, the HTTP fallback's POSTs and event stream) pass both ways untouched. A request with
 * `Upgrade: websocket` is forwarded, and so is the relay's answer head (the `101`); what happens
 * to the relay's WebSocket frames after that depends on `mode`. The browser's frames still reach
 * the relay, as they would through such a gateway.
 */
export function startGateway(relayPort: number, mode: GatewayMode): Gateway {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let upgrades = 0;
  let heldBytes = 0;

  const serve = async (client: Deno.Conn) => {
    let relay: Deno.Conn | null = null;
    try {
      const head = await readHead(client);
      if (head === null) return;
      relay = await Deno.connect({ hostname: "127.0.0.1", port: relayPort });
      open.add(relay);
      const text = new TextDecoder().decode(head.bytes.subarray(0, head.end));
      await relay.write(head.bytes);
      if (!/^upgrade:\s*websocket\s*$/im.test(text)) {
        await Promise.all([pipe(client, relay), pipe(relay, client)]);
        return;
      }
      upgrades++;
      const up = pipe(client, relay);
      const answer = await readHead(relay);
      if (answer === null) return;
      await client.write(answer.bytes.subarray(0, answer.end));
      if (mode === "policy-close") {
        await client.write(closeFrame(1008, "blocked by policy"));
        return;
      }
      heldBytes += answer.bytes.length - answer.end;
      const chunk = new Uint8Array(16 * 1024);
      for (;;) {
        const n = await relay.read(chunk);
        if (n === null) break;
        heldBytes += n;
      }
      await up;
    } catch {
      // A connection that fails here only ends itself.
    } finally {
      for (const c of [client, relay]) {
        if (c === null) continue;
        open.delete(c);
        try {
          c.close();
        } catch {
          // Already closed.
        }
      }
    }
  };

  const accepting = (async () => {
    for await (const client of listener) {
      open.add(client);
      const task = serve(client);
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })().catch(() => {});

  const { port } = listener.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}`,
    get upgrades() {
      return upgrades;
    },
    get heldBytes() {
      return heldBytes;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch {
          // Already closed.
        }
      }
      await accepting;
      await Promise.allSettled([...tasks]);
    },
  };
}
