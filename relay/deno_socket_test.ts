import assert from "assert";
import { DenoPeerSocket } from "./deno_socket.ts";

/** Just enough of a server-side WebSocket to see when the adapter closes it. */
class RecordingWebSocket {
  closes: { code: number; reason: string; at: number }[] = [];
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  send(_text: string): void {}
  close(code: number, reason: string): void {
    this.closes.push({ code, reason, at: performance.now() });
    this.readyState = WebSocket.CLOSED;
  }
}

function adapter(): { raw: RecordingWebSocket; socket: DenoPeerSocket } {
  const raw = new RecordingWebSocket();
  return { raw, socket: new DenoPeerSocket(raw as unknown as WebSocket) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    assert.ok(performance.now() < end, `timed out waiting for ${what}`);
    await sleep(5);
  }
}

Deno.test("DenoPeerSocket: close waits until the client has been quiet, then sends its code once", async () => {
  const { raw, socket } = adapter();
  socket.close(1008, "rate limit exceeded");
  assert.equal(socket.isOpen, false, "a closing socket takes no more frames");
  socket.close(1011, "second close is ignored");
  await until(() => raw.closes.length > 0, "the close");
  await sleep(100);
  assert.deepEqual(raw.closes.map(({ code, reason }) => ({ code, reason })), [
    { code: 1008, reason: "rate limit exceeded" },
  ]);
});

Deno.test("DenoPeerSocket: frames still arriving push the close back; it is never sent in the middle of them", async () => {
  const { raw, socket } = adapter();
  socket.close(1009, "frame too large");
  const inbound: number[] = [];
  for (let i = 0; i < 10; i++) {
    socket.inbound();
    inbound.push(performance.now());
    await sleep(10);
  }
  await until(() => raw.closes.length > 0, "the close after the client went quiet");
  // Whenever it came (a stalled machine may stretch the pauses), the close followed a quiet
  // period: no frame arrived in the 50 ms before it.
  const before = inbound.filter((t) => t <= raw.closes[0].at);
  assert.ok(raw.closes[0].at - before[before.length - 1] >= 50);
});

Deno.test("DenoPeerSocket: a client that never goes quiet is closed anyway, after at most a second", async () => {
  const { raw, socket } = adapter();
  socket.close(1008, "flood");
  const started = performance.now();
  while (raw.closes.length === 0) {
    socket.inbound();
    await sleep(5);
    assert.ok(performance.now() - started < 10_000, "never closed");
  }
  assert.equal(raw.closes[0].code, 1008);
});

Deno.test("DenoPeerSocket: dispose cancels a pending close (the client closed first)", async () => {
  const { raw, socket } = adapter();
  socket.close(1001, "going away");
  socket.dispose();
  await sleep(150);
  assert.equal(raw.closes.length, 0);
});
