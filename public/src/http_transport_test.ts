/** Tests for the HTTP fallback transport against a fake fetch that plays the relay's part. */
import assert from "assert";
import { createHttpTransport, HTTP_TRANSPORT_NAME } from "./http_transport.ts";
import type { TransportHandlers } from "./transport.ts";

interface Request {
  method: string;
  url: string;
  session: string | null;
  body: string;
  resolve: (res: Response) => void;
  reject: (e: Error) => void;
}

/** A fetch whose answers the test gives; the opening POST's stream is fed with `emit`. */
function fakeRelay() {
  const requests: Request[] = [];
  let stream: ReadableStreamDefaultController<Uint8Array> | null = null;
  const encoder = new TextEncoder();
  const fetch = (input: RequestInfo | URL, init?: RequestInit) =>
    new Promise<Response>((resolve, reject) => {
      const headers = new Headers(init?.headers);
      const request: Request = {
        method: init?.method ?? "GET",
        url: String(input),
        session: headers.get("x-duplex-session"),
        body: typeof init?.body === "string" ? init.body : "",
        resolve,
        reject,
      };
      requests.push(request);
      init?.signal?.addEventListener("abort", () => {
        const error = new DOMException("The operation was aborted.", "AbortError");
        reject(error);
        try {
          stream?.error(error);
        } catch {
          // The stream already ended.
        }
      });
    });
  return {
    requests,
    fetch: fetch as typeof globalThis.fetch,
    /** Answers the opening POST with an event stream. */
    openStream(request: Request) {
      const body = new ReadableStream<Uint8Array>({ start: (c) => void (stream = c) });
      request.resolve(
        new Response(body, { headers: { "content-type": "text/event-stream; charset=utf-8" } }),
      );
    },
    emit(text: string) {
      stream?.enqueue(encoder.encode(text));
    },
    endStream() {
      stream?.close();
    },
  };
}

function recorder() {
  const log: string[] = [];
  const handlers: TransportHandlers = {
    onOpen: () => void log.push("open"),
    onMessage: (text) => void log.push(`message ${text}`),
    onClose: ({ code, reason }) => void log.push(`close ${code} ${reason}`),
  };
  return { log, handlers };
}

const turn = () => new Promise((r) => setTimeout(r, 1));
const target = { origin: "https://maps.example", mapId: "m 1" };

Deno.test("http transport: hello is the body of the opening POST; frames follow with the session header", async () => {
  const relay = fakeRelay();
  const { log, handlers } = recorder();
  const t = createHttpTransport({ fetch: relay.fetch })(target, handlers);
  assert.equal(t.name, HTTP_TRANSPORT_NAME);
  assert.deepEqual(log, [], "onOpen comes after the factory returned");
  await turn();
  assert.deepEqual(log, ["open"]);

  t.send('{"type":"hello","key":"secret"}');
  assert.equal(relay.requests.length, 1);
  const [openReq] = relay.requests;
  assert.equal(openReq.method, "POST");
  assert.equal(openReq.url, "https://maps.example/rt/m%201");
  assert.equal(openReq.body, '{"type":"hello","key":"secret"}');
  assert.ok(!openReq.url.includes("secret"), "the key is never in a URL");

  // Sent before the session id is known: held back.
  t.send('{"type":"view","n":1}');
  t.send('{"type":"cursor","n":2}');
  assert.equal(relay.requests.length, 1);

  relay.openStream(openReq);
  relay.emit('event: session\ndata: {"session":"S1"}\n\ndata: {"type":"welcome","seq":0}\n\n');
  await turn();
  assert.deepEqual(log, ["open", 'message {"type":"welcome","seq":0}']);
  assert.equal(relay.requests.length, 2);
  const send1 = relay.requests[1];
  assert.equal(send1.method, "POST");
  assert.equal(send1.url, "https://maps.example/rt/m%201/send");
  assert.equal(send1.session, "S1");
  assert.equal(send1.body, '[{"type":"view","n":1},{"type":"cursor","n":2}]');

  // One POST in flight: the next frames wait and then leave together.
  t.send('{"type":"edit","n":3}');
  t.send('{"type":"ping","n":4}');
  assert.equal(relay.requests.length, 2);
  send1.resolve(new Response(null, { status: 204 }));
  await turn();
  assert.equal(relay.requests.length, 3);
  assert.equal(relay.requests[2].body, '[{"type":"edit","n":3},{"type":"ping","n":4}]');
  relay.requests[2].resolve(new Response(null, { status: 204 }));

  relay.emit(': keep-alive\n\ndata: [{"type":"pong"},{"type":"edit"}]\n\n');
  relay.emit('event: close\ndata: {"code":1001,"reason":"server shutting down"}\n\n');
  relay.endStream();
  await turn();
  assert.deepEqual(log, [
    "open",
    'message {"type":"welcome","seq":0}',
    'message [{"type":"pong"},{"type":"edit"}]',
    "close 1001 server shutting down",
  ]);
  t.send('{"type":"ping"}');
  assert.equal(relay.requests.length, 3, "nothing is sent after close");
});

Deno.test("http transport: a stream that ends without `event: close` is a 1006 close", async () => {
  const relay = fakeRelay();
  const { log, handlers } = recorder();
  const t = createHttpTransport({ fetch: relay.fetch })(target, handlers);
  await turn();
  t.send("{}");
  relay.openStream(relay.requests[0]);
  relay.emit('event: session\ndata: {"session":"S1"}\n\n');
  relay.endStream();
  await turn();
  assert.deepEqual(log, ["open", "close 1006 the event stream ended"]);
});

Deno.test("http transport: a 404 on send (session gone) closes the transport", async () => {
  const relay = fakeRelay();
  const { log, handlers } = recorder();
  const t = createHttpTransport({ fetch: relay.fetch })(target, handlers);
  await turn();
  t.send("{}");
  relay.openStream(relay.requests[0]);
  relay.emit('event: session\ndata: {"session":"S1"}\n\n');
  await turn();
  t.send('{"type":"edit"}');
  relay.requests[1].resolve(new Response("gone", { status: 404 }));
  await turn();
  assert.deepEqual(log, ["open", "close 1006 the relay no longer knows this session"]);
});

Deno.test("http transport: refusals of the opening POST map to close codes with the relay's words", async () => {
  for (
    const [status, code] of [[403, 1008], [503, 1013], [413, 1009], [502, 1006]] as const
  ) {
    const relay = fakeRelay();
    const { log, handlers } = recorder();
    const t = createHttpTransport({ fetch: relay.fetch })(target, handlers);
    await turn();
    t.send("{}");
    relay.requests[0].resolve(
      new Response(JSON.stringify({ status, detail: `nope ${status}` }), {
        status,
        headers: { "content-type": "application/problem+json" },
      }),
    );
    await turn();
    assert.deepEqual(log, ["open", `close ${code} nope ${status}`]);
  }
  // A network error before any answer.
  const relay = fakeRelay();
  const { log, handlers } = recorder();
  const t = createHttpTransport({ fetch: relay.fetch })(target, handlers);
  await turn();
  t.send("{}");
  relay.requests[0].reject(new TypeError("Failed to fetch"));
  await turn();
  assert.deepEqual(log, [
    "open",
    "close 1006 the relay could not be reached (TypeError: Failed to fetch)",
  ]);
});

Deno.test("http transport: close() ends the session with DELETE and reports once", async () => {
  const relay = fakeRelay();
  const { log, handlers } = recorder();
  const t = createHttpTransport({ fetch: relay.fetch })(target, handlers);
  await turn();
  t.send("{}");
  relay.openStream(relay.requests[0]);
  relay.emit('event: session\ndata: {"session":"S9"}\n\n');
  await turn();
  t.close(4000, "offline");
  t.close(1000, "again");
  assert.deepEqual(log, ["open", "close 4000 offline"]);
  const del = relay.requests.at(-1)!;
  assert.equal(del.method, "DELETE");
  assert.equal(del.url, "https://maps.example/rt/m%201");
  assert.equal(del.session, "S9");
  del.resolve(new Response(null, { status: 204 }));
  await turn();
});

Deno.test("http transport: closed before it opened, it never calls onOpen", async () => {
  const relay = fakeRelay();
  const { log, handlers } = recorder();
  const t = createHttpTransport({ fetch: relay.fetch })(target, handlers);
  t.close(1000, "bye");
  await turn();
  assert.deepEqual(log, ["close 1000 bye"]);
  assert.equal(relay.requests.length, 0);
});

Deno.test("http transport: the relay's close 1012 'moved' (the map went to another relay) arrives as it is", async () => {
  const relay = fakeRelay();
  const { log, handlers } = recorder();
  const t = createHttpTransport({ fetch: relay.fetch })(target, handlers);
  await turn();
  t.send("{}");
  relay.openStream(relay.requests[0]);
  relay.emit('event: session\ndata: {"session":"S1"}\n\n');
  relay.emit('event: close\ndata: {"code":1012,"reason":"moved"}\n\n');
  relay.endStream();
  await turn();
  assert.deepEqual(log, ["open", "close 1012 moved"]);
});
