/** Unit tests of the Deno WebSocket adapter's delayed close, on fake timers (no sleeps). */
import assert from "assert";
import { DenoPeerSocket } from "./deno_socket.ts";
import { FakeTimers } from "./_fake_timers.ts";

/** Just enough of a server-side WebSocket to see when the adapter closes it. */
class RecordingWebSocket {
  closes: { code: number; reason: string; at: number }[] = [];
  readyState: number = WebSocket.OPEN;
  /** Bytes not yet written; every read is counted (in Deno each one is a call into the runtime). */
  unsent = 0;
  reads = 0;
  constructor(readonly timers: FakeTimers) {}
  get bufferedAmount(): number {
    this.reads++;
    return this.unsent;
  }
  send(text: string): void {
    this.unsent += new TextEncoder().encode(text).length;
  }
  close(code: number, reason: string): void {
    this.closes.push({ code, reason, at: this.timers.now() });
    this.readyState = WebSocket.CLOSED;
  }
}

function adapter(): { raw: RecordingWebSocket; socket: DenoPeerSocket; timers: FakeTimers } {
  const timers = new FakeTimers();
  const raw = new RecordingWebSocket(timers);
  return { raw, socket: new DenoPeerSocket(raw as unknown as WebSocket, timers), timers };
}

Deno.test("DenoPeerSocket: close waits until the client has been quiet, then sends its code once", () => {
  const { raw, socket, timers } = adapter();
  socket.close(1008, "rate limit exceeded");
  assert.equal(socket.isOpen, false, "a closing socket takes no more frames");
  socket.close(1011, "second close is ignored");
  timers.advance(50);
  timers.advance(1000);
  assert.deepEqual(raw.closes.map(({ code, reason }) => ({ code, reason })), [
    { code: 1008, reason: "rate limit exceeded" },
  ]);
});

Deno.test("DenoPeerSocket: frames still arriving push the close back; it is never sent in the middle of them", () => {
  const { raw, socket, timers } = adapter();
  socket.close(1009, "frame too large");
  for (let i = 0; i < 10; i++) {
    socket.inbound();
    timers.advance(10);
  }
  const lastInbound = timers.now() - 10;
  timers.advance(39);
  assert.equal(raw.closes.length, 0, "not within 50 ms of the last frame");
  timers.advance(1);
  assert.equal(raw.closes.length, 1, "sent once the client was quiet for 50 ms");
  assert.equal(raw.closes[0].at - lastInbound, 50);
});

Deno.test("DenoPeerSocket: a client that never goes quiet is closed anyway, after at most a second", () => {
  const { raw, socket, timers } = adapter();
  const started = timers.now();
  socket.close(1008, "flood");
  while (raw.closes.length === 0) {
    socket.inbound();
    timers.advance(5);
    assert.ok(timers.now() - started <= 1005, "never closed");
  }
  assert.equal(raw.closes[0].code, 1008);
  assert.ok(raw.closes[0].at - started >= 1000, "not before the second is up");
});

Deno.test("DenoPeerSocket: dispose cancels a pending close (the client closed first)", () => {
  const { raw, socket, timers } = adapter();
  socket.close(1001, "going away");
  socket.dispose();
  timers.advance(2000);
  assert.equal(raw.closes.length, 0);
  assert.equal(timers.pending, 0);
});

Deno.test("DenoPeerSocket: bufferedAbove asks Deno only once what was sent since could exceed the limit, and is exact then", () => {
  const { raw, socket } = adapter();
  assert.equal(socket.bufferedAbove(100), false);
  assert.equal(raw.reads, 0, "nothing sent: nothing can be buffered");
  socket.send("x".repeat(30)); // at most 90 bytes
  assert.equal(socket.bufferedAbove(100), false);
  assert.equal(raw.reads, 0);
  socket.send("é".repeat(20)); // 40 bytes, counted as at most 60: the bound (150) passes 100
  assert.equal(socket.bufferedAbove(100), false, "70 bytes unsent");
  assert.equal(raw.reads, 1);
  raw.unsent = 0; // written out
  socket.send("y".repeat(10));
  assert.equal(socket.bufferedAbove(100), false, "the bound restarted from Deno's answer");
  assert.equal(raw.reads, 1);
  raw.unsent = 500; // a reader that stopped: the network takes nothing more
  socket.send("z".repeat(40));
  assert.equal(socket.bufferedAbove(100), true);
  assert.equal(socket.bufferedAbove(1000), false);
  assert.equal(socket.bufferedAmount, 540);
});
