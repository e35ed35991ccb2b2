/** Unit tests of a peer's outbox: one frame per flush, newest-wins presence, slow-peer policy. */
import assert from "assert";
import { FakeSocket } from "./_fake_socket.ts";
import { FrameCache, Peer } from "./peer.ts";

const MAX = 1000;

function setup(): { peer: Peer; socket: FakeSocket } {
  const socket = new FakeSocket();
  return { peer: new Peer("p1", socket, "127.0.0.1"), socket };
}

Deno.test("flush with nothing queued sends nothing", () => {
  const { peer, socket } = setup();
  assert.equal(peer.pending, false);
  assert.deepEqual(peer.flush(MAX), {
    frames: 0,
    messages: 0,
    dropped: 0,
    tooSlow: false,
    held: false,
  });
  assert.deepEqual(socket.sent, []);
});

Deno.test("one queued message goes out as itself", () => {
  const { peer, socket } = setup();
  peer.enqueue('{"type":"pong"}');
  assert.equal(peer.pending, true);
  assert.deepEqual(peer.flush(MAX), {
    frames: 1,
    messages: 1,
    dropped: 0,
    tooSlow: false,
    held: false,
  });
  assert.deepEqual(socket.sent, ['{"type":"pong"}']);
  assert.equal(peer.pending, false);
});

Deno.test("several messages go out as one frame: a JSON array, ordered ones first", () => {
  const { peer, socket } = setup();
  peer.enqueue('{"type":"edit","seq":1}');
  peer.enqueuePresence("cursor:p2", '{"type":"cursor","peer":"p2","at":[1,1]}');
  peer.enqueue('{"type":"edit","seq":2}');
  const result = peer.flush(MAX);
  assert.deepEqual(result, { frames: 1, messages: 3, dropped: 0, tooSlow: false, held: false });
  assert.equal(socket.sent.length, 1);
  assert.deepEqual(JSON.parse(socket.sent[0]), [
    { type: "edit", seq: 1 },
    { type: "edit", seq: 2 },
    { type: "cursor", peer: "p2", at: [1, 1] },
  ]);
  // The outbox is empty afterwards.
  assert.deepEqual(peer.flush(MAX).frames, 0);
  assert.equal(socket.sent.length, 1);
});

Deno.test("presence is newest-wins per peer and kind", () => {
  const { peer, socket } = setup();
  for (let i = 0; i < 5; i++) {
    peer.enqueuePresence("cursor:p2", JSON.stringify({ type: "cursor", peer: "p2", at: [i, i] }));
  }
  peer.enqueuePresence("view:p2", '{"type":"view","peer":"p2"}');
  peer.enqueuePresence("cursor:p3", '{"type":"cursor","peer":"p3","at":null}');
  peer.flush(MAX);
  assert.deepEqual(JSON.parse(socket.sent[0]), [
    { type: "cursor", peer: "p2", at: [4, 4] },
    { type: "view", peer: "p2" },
    { type: "cursor", peer: "p3", at: null },
  ]);
  // A replaced presence message moves behind the others: it is the newest.
  peer.enqueuePresence("cursor:p2", '"c2-old"');
  peer.enqueuePresence("cursor:p3", '"c3"');
  peer.enqueuePresence("cursor:p2", '"c2-new"');
  peer.flush(MAX);
  assert.equal(socket.sent[1], '["c3","c2-new"]');
});

Deno.test("forgetPresenceOf drops that peer's unsent cursor and view only", () => {
  const { peer, socket } = setup();
  peer.enqueuePresence("cursor:p2", '"c2"');
  peer.enqueuePresence("view:p2", '"v2"');
  peer.enqueuePresence("cursor:p3", '"c3"');
  peer.forgetPresenceOf("p2");
  peer.flush(MAX);
  assert.deepEqual(socket.sent, ['"c3"']);
});

Deno.test("above half of maxBuffered, presence is dropped but ordered messages still go", () => {
  const { peer, socket } = setup();
  socket.buffered = MAX / 2 + 1;
  peer.enqueue('"edit"');
  peer.enqueuePresence("cursor:p2", '"c2"');
  peer.enqueuePresence("view:p2", '"v2"');
  assert.deepEqual(peer.flush(MAX), {
    frames: 1,
    messages: 1,
    dropped: 2,
    tooSlow: false,
    held: false,
  });
  assert.deepEqual(socket.sent, ['"edit"']);
  // At exactly half nothing is dropped.
  socket.buffered = MAX / 2;
  peer.enqueuePresence("cursor:p2", '"c2"');
  assert.deepEqual(peer.flush(MAX), {
    frames: 1,
    messages: 1,
    dropped: 0,
    tooSlow: false,
    held: false,
  });
});

Deno.test("above maxBuffered the peer is too slow: nothing is sent, everything discarded", () => {
  const { peer, socket } = setup();
  socket.buffered = MAX + 1;
  peer.enqueue('"edit"');
  peer.enqueuePresence("cursor:p2", '"c2"');
  assert.deepEqual(peer.flush(MAX), {
    frames: 0,
    messages: 0,
    dropped: 1,
    tooSlow: true,
    held: false,
  });
  assert.deepEqual(socket.sent, []);
  assert.equal(peer.pending, false);
  // At exactly the limit it is not too slow yet.
  socket.buffered = MAX;
  peer.enqueue('"edit"');
  assert.equal(peer.flush(MAX).tooSlow, false);
  assert.deepEqual(socket.sent, ['"edit"']);
});

Deno.test("a closed socket is not written to; discard empties the outbox", () => {
  const { peer, socket } = setup();
  peer.enqueue('"a"');
  socket.isOpen = false;
  assert.equal(peer.flush(MAX).frames, 0);
  assert.deepEqual(socket.sent, []);
  socket.isOpen = true;
  peer.enqueue('"b"');
  peer.enqueuePresence("cursor:x", '"c"');
  peer.discard();
  assert.equal(peer.pending, false);
  assert.equal(peer.flush(MAX).frames, 0);
});

Deno.test("info gives the peer as others see it, with view and cursor only when known", () => {
  const { peer } = setup();
  peer.name = "Ada";
  peer.color = "#abcdef";
  peer.role = "editor";
  assert.deepEqual(peer.info(), { peer: "p1", name: "Ada", color: "#abcdef", role: "editor" });
  peer.view = { bbox: [0, 0, 1, 1], zoom: 2 };
  peer.cursor = null;
  assert.deepEqual(peer.info(), {
    peer: "p1",
    name: "Ada",
    color: "#abcdef",
    role: "editor",
    view: { bbox: [0, 0, 1, 1], zoom: 2 },
    cursor: null,
  });
});

Deno.test("messages wait for their commit ticket; presence waits behind them", () => {
  const { peer, socket } = setup();
  peer.enqueue(JSON.stringify({ type: "joined", peer: "x" }));
  peer.enqueue(JSON.stringify({ type: "edit", seq: 1 }), 1);
  peer.enqueue(JSON.stringify({ type: "left", peer: "x" }));
  peer.enqueuePresence("cursor:y", JSON.stringify({ type: "cursor", peer: "y", at: null }));
  const first = peer.flush(MAX, 0);
  assert.equal(first.held, true);
  assert.deepEqual(socket.sent.map((t) => JSON.parse(t)), [{ type: "joined", peer: "x" }]);
  const second = peer.flush(MAX, 1);
  assert.equal(second.held, false);
  assert.deepEqual(JSON.parse(socket.sent[1]), [
    { type: "edit", seq: 1 },
    { type: "left", peer: "x" },
    { type: "cursor", peer: "y", at: null },
  ]);
});

Deno.test("peers flushed with one FrameCache each get their own messages, shared or not", () => {
  const frames = new FrameCache();
  const peers = ["a", "b", "c", "d"].map((id) => {
    const socket = new FakeSocket();
    return { peer: new Peer(id, socket, "127.0.0.1"), socket };
  });
  const echo1 = '{"type":"edit","seq":1}';
  const echo2 = '{"type":"edit","seq":2}';
  // a and b get the same two echoes; c gets them plus a cursor; d gets them in another order.
  for (const { peer } of peers) {
    if (peer.id === "d") {
      peer.enqueue(echo2);
      peer.enqueue(echo1);
    } else {
      peer.enqueue(echo1);
      peer.enqueue(echo2);
    }
  }
  peers[2].peer.enqueuePresence("cursor:a", '{"type":"cursor","peer":"a","at":null}');
  for (const { peer } of peers) peer.flush(MAX, Infinity, frames);
  const sent = peers.map(({ socket }) => socket.sent);
  assert.deepEqual(sent[0], [`[${echo1},${echo2}]`]);
  assert.deepEqual(sent[1], [`[${echo1},${echo2}]`]);
  assert.deepEqual(sent[2], [`[${echo1},${echo2},{"type":"cursor","peer":"a","at":null}]`]);
  assert.deepEqual(sent[3], [`[${echo2},${echo1}]`]);
  // The next turn's messages are not mistaken for the last turn's.
  peers[0].peer.enqueue(echo1);
  peers[0].peer.enqueue('{"type":"edit","seq":3}');
  peers[0].peer.flush(MAX, Infinity, frames);
  assert.equal(peers[0].socket.sent[1], `[${echo1},{"type":"edit","seq":3}]`);
});
