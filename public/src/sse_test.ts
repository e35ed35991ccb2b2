/** Tests for the server-sent events parser of the HTTP fallback transport. */
import assert from "assert";
import { SseParser } from "./sse.ts";

const STREAM = 'event: session\ndata: {"session":"abc"}\n\n' +
  'data: {"type":"welcome","seq":3}\n\n' +
  ": keep-alive\n\n" +
  'data: [{"type":"edit","seq":4},{"type":"cursor","peer":"p1"}]\n\n' +
  'event: close\ndata: {"code":1001,"reason":"server shutting down"}\n\n';

const EXPECTED = [
  { event: "session", data: '{"session":"abc"}' },
  { event: "message", data: '{"type":"welcome","seq":3}' },
  { event: "message", data: '[{"type":"edit","seq":4},{"type":"cursor","peer":"p1"}]' },
  { event: "close", data: '{"code":1001,"reason":"server shutting down"}' },
];

Deno.test("SseParser reads the relay's stream: session, frames, keep-alive comments, close", () => {
  assert.deepEqual(new SseParser().push(STREAM), EXPECTED);
});

Deno.test("SseParser gives the same events whatever the chunk boundaries", () => {
  for (const size of [1, 2, 3, 7, 16, 50]) {
    const parser = new SseParser();
    const events = [];
    for (let i = 0; i < STREAM.length; i += size) {
      events.push(...parser.push(STREAM.slice(i, i + size)));
    }
    assert.deepEqual(events, EXPECTED, `chunks of ${size}`);
  }
});

Deno.test("SseParser accepts CRLF and CR line ends, even a CRLF split across chunks", () => {
  const crlf = STREAM.replaceAll("\n", "\r\n");
  assert.deepEqual(new SseParser().push(crlf), EXPECTED);
  assert.deepEqual(new SseParser().push(STREAM.replaceAll("\n", "\r")), EXPECTED);
  const parser = new SseParser();
  const events = [];
  // Every split point, including between the CR and the LF of a line end.
  for (let cut = 0; cut <= crlf.length; cut++) {
    const p = new SseParser();
    const got = [...p.push(crlf.slice(0, cut)), ...p.push(crlf.slice(cut))];
    assert.deepEqual(got, EXPECTED, `cut at ${cut}`);
  }
  events.push(...parser.push("data: a\r"), ...parser.push("\n"), ...parser.push("\r\n"));
  assert.deepEqual(events, [{ event: "message", data: "a" }]);
});

Deno.test("SseParser joins data lines, keeps a second space, ignores id/retry and empty events", () => {
  const parser = new SseParser();
  assert.deepEqual(
    parser.push("id: 7\nretry: 100\ndata:one\ndata:  two\n\nevent: x\n\ndata\n\n"),
    [{ event: "message", data: "one\n two" }, { event: "message", data: "" }],
  );
  // An event: without data is not dispatched, and does not leak into the next event.
  assert.deepEqual(parser.push("data: after\n\n"), [{ event: "message", data: "after" }]);
});

Deno.test("SseParser holds an unfinished event until its blank line arrives", () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push('data: {"type":"po'), []);
  assert.deepEqual(parser.push('ng"}\n'), []);
  assert.deepEqual(parser.push("\n"), [{ event: "message", data: '{"type":"pong"}' }]);
});
