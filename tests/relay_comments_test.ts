/** End-to-end: comments on a real relay: live and in order over WebSockets and the event stream, the owner's setting, a restart, the GeoJSON layer. */
import assert from "assert";
import { SESSION_HEADER } from "../relay/protocol.ts";
import { SseParser } from "../public/src/sse.ts";
import { feature, point, put } from "./_fixtures.ts";
import { createMap, startRelay } from "./_relay.ts";
import { connect, type Msg, type TestPeer, withTimeout } from "./_ws.ts";

/** A peer that says in hello that it understands comments, and its welcome. */
async function commenter(
  wsUrl: string,
  mapId: string,
  key: string,
  name: string,
  author?: string,
) {
  const peer = await connect(wsUrl, mapId, { label: name });
  peer.send({ type: "hello", key, name, color: "#3366cc", comments: true, author });
  const welcome: Msg = await peer.nextOf("welcome");
  return { peer, welcome };
}

/** The comment frames a peer has received, as `[ref, id, resolved]`. */
function commentsSeen(peer: TestPeer): unknown[][] {
  return peer.messages.filter((m) => m.type === "comment").map((m) => {
    const c = m.comment as Msg;
    return [m.ref, c.id, c.thread, c.text, c.resolved];
  });
}

/** A client on the event-stream fallback that records its messages. */
async function streamPeer(url: string, mapId: string, key: string) {
  const messages: Msg[] = [];
  const res = await fetch(`${url}/rt/${mapId}`, {
    method: "POST",
    body: JSON.stringify({ type: "hello", key, name: "Stream", color: "#888888", comments: true }),
  });
  assert.equal(res.status, 200);
  const parser = new SseParser();
  let session = "";
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      for (const e of parser.push(value)) {
        if (e.event === "session") session = JSON.parse(e.data).session;
        else if (e.event === "message") messages.push(...[JSON.parse(e.data)].flat());
      }
    }
  })();
  return {
    messages,
    async close() {
      await (await fetch(`${url}/rt/${mapId}`, {
        method: "DELETE",
        headers: { [SESSION_HEADER]: session },
      })).body?.cancel();
      await reading.catch(() => {});
    },
  };
}

Deno.test("comments arrive live and in the same order at every peer (WebSocket and event stream); a viewer is refused until the owner allows it", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url, "Comments");
  const { peer: ann, welcome } = await commenter(relay.wsUrl, map.id, map.editKey, "Ann");
  assert.deepEqual(welcome.comments, []);
  assert.deepEqual(welcome.settings, { viewersMayComment: false });
  const { peer: bob } = await commenter(relay.wsUrl, map.id, map.viewKey, "Bob");
  const stream = await streamPeer(relay.url, map.id, map.viewKey);
  try {
    await withTimeout(
      (async () => {
        while (!stream.messages.some((m) => m.type === "welcome")) {
          await new Promise((r) => setTimeout(r, 20));
        }
      })(),
      10_000,
      "the stream's welcome",
    );
    // Sent in one frame, without waiting: the relay orders them, everyone sees that order.
    ann.send([
      {
        type: "comment",
        ref: "a1",
        op: "add",
        text: "Is this the dam?",
        anchor: { at: [6.1, 46.2] },
      },
      { type: "comment", ref: "a2", op: "reply", thread: "c1", text: "Looks like it" },
      { type: "comment", ref: "a3", op: "add", text: "Second thread", anchor: { at: [6, 46] } },
      { type: "comment", ref: "a4", op: "reply", thread: "c3", text: "On it" },
      { type: "comment", ref: "a5", op: "resolve", thread: "c1", resolved: true },
    ]);
    await ann.waitFor((m) => m.type === "comment" && m.ref === "a5", 10_000, "the ack of a5");
    await bob.waitFor((m) => m.type === "comment" && m.ref === "a5", 10_000, "a5 at Bob");
    const expected = [
      ["a1", "c1", "c1", "Is this the dam?", false],
      ["a2", "c2", "c1", "Looks like it", undefined],
      ["a3", "c3", "c3", "Second thread", false],
      ["a4", "c4", "c3", "On it", undefined],
      ["a5", "c1", "c1", "Is this the dam?", true],
    ];
    assert.deepEqual(commentsSeen(ann), expected);
    assert.deepEqual(commentsSeen(bob), expected);

    // The viewer is refused with a frame of its own kind, never an edit's `rejected`.
    bob.send({ type: "comment", ref: "b1", op: "reply", thread: "c3", text: "Me too" });
    const refused = await bob.waitFor((m) => m.type === "comment_refused", 5000, "the refusal");
    assert.equal(refused.ref, "b1");
    assert.equal(refused.code, "forbidden");
    assert.equal(bob.all("rejected").length, 0);

    // The owner (edit key) allows viewers to comment: everyone is told, then Bob may.
    const patch = (key: string) =>
      fetch(`${relay.url}/api/maps/${map.id}/settings`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${key}` },
        body: JSON.stringify({ viewersMayComment: true }),
      });
    const byViewer = await patch(map.viewKey);
    assert.equal(byViewer.status, 403);
    await byViewer.body?.cancel();
    const byOwner = await patch(map.editKey);
    assert.equal(byOwner.status, 200);
    assert.deepEqual(await byOwner.json(), { viewersMayComment: true });
    await bob.waitFor((m) => m.type === "settings", 5000, "the settings frame");
    bob.send({ type: "comment", ref: "b2", op: "reply", thread: "c3", text: "Me too" });
    const [mine, theirs] = await Promise.all([
      bob.waitFor((m) => m.type === "comment" && m.ref === "b2", 5000, "Bob's echo"),
      ann.waitFor((m) => m.type === "comment" && m.ref === "b2", 5000, "Bob's comment at Ann"),
    ]);
    assert.deepEqual(mine, theirs);
    assert.equal((mine.comment as Msg).name, "Bob");
    await ann.sync();

    // The event-stream client saw exactly what the WebSocket peers saw, in the same order.
    const streamed = stream.messages.filter((m) => m.type === "comment" || m.type === "settings");
    assert.deepEqual(
      streamed.map((m) => m.type === "settings" ? "settings" : (m.comment as Msg).id),
      ["c1", "c2", "c3", "c4", "c1", "settings", "c5"],
    );
  } finally {
    await stream.close();
    await ann.close();
    await bob.close();
  }
});

Deno.test("acknowledged comments survive kill -9 and a restart; GET comments and its GeoJSON layer (read by GDAL) show them", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "duplexmap-comments-" });
  try {
    const map = await (async () => {
      await using relay = await startRelay({ dataDir });
      const map = await createMap(relay.url, "Field trip");
      const { peer: ann } = await commenter(
        relay.wsUrl,
        map.id,
        map.editKey,
        "Ann",
        "ann-browser-0123456789",
      );
      ann.send({
        type: "edit",
        id: "e1",
        ops: [put(feature("dam", point(7, 45), { name: "Dam" }))],
      });
      ann.send({
        type: "comment",
        ref: "a1",
        op: "add",
        text: "Check the dam",
        anchor: { fid: "dam" },
      });
      ann.send({ type: "comment", ref: "a2", op: "reply", thread: "c1", text: "Done" });
      ann.send({ type: "comment", ref: "a3", op: "resolve", thread: "c1", resolved: true });
      ann.send({
        type: "comment",
        ref: "a4",
        op: "add",
        text: "Meet here",
        anchor: { at: [7.5, 45.5] },
      });
      // An edited comment and a deleted one: acknowledged, so they must stay so.
      ann.send({ type: "comment", ref: "a5", op: "add", text: "Boots", anchor: { at: [7, 46] } });
      ann.send({ type: "comment", ref: "a6", op: "edit", id: "c4", text: "Boots and a torch" });
      ann.send({
        type: "comment",
        ref: "a7",
        op: "add",
        text: "Wrong pin",
        anchor: { at: [0, 0] },
      });
      ann.send({ type: "comment", ref: "a8", op: "delete", id: "c5" });
      await ann.waitFor((m) => m.type === "comment" && m.ref === "a8", 10_000, "the ack of a8");
      await relay.kill();
      return map;
    })();

    await using relay = await startRelay({ dataDir });
    const res = await fetch(`${relay.url}/api/maps/${map.id}/comments?key=${map.viewKey}`);
    assert.equal(res.status, 200);
    const { comments } = await res.json();
    assert.deepEqual(comments.map((c: Msg) => [c.id, c.thread, c.text, c.resolved, c.anchor]), [
      ["c1", "c1", "Check the dam", true, { fid: "dam" }],
      ["c2", "c1", "Done", undefined, undefined],
      ["c3", "c3", "Meet here", false, { at: [7.5, 45.5] }],
      ["c4", "c4", "Boots and a torch", false, { at: [7, 46] }],
    ]);
    assert.equal(typeof comments[3].edited, "number", "c4 says it was edited");
    const { peer: late, welcome } = await commenter(relay.wsUrl, map.id, map.viewKey, "Late");
    assert.deepEqual(welcome.comments, comments);
    await late.close();

    const geo = await fetch(
      `${relay.url}/api/maps/${map.id}/comments?key=${map.viewKey}&format=geojson`,
    );
    assert.equal(
      geo.headers.get("content-disposition"),
      'attachment; filename="field-trip-comments.geojson"',
    );
    const path = await Deno.makeTempFile({ suffix: ".geojson" });
    try {
      await Deno.writeTextFile(path, await geo.text());
      const out = await new Deno.Command("ogrinfo", { args: ["-al", "-so", path], stdout: "piped" })
        .output();
      const info = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0);
      assert.match(info, /Geometry: Point/);
      assert.match(info, /Feature Count: 3/);
      assert.match(info, /replies: /);
      const fc = JSON.parse(await Deno.readTextFile(path));
      assert.deepEqual(fc.features[0].geometry, { type: "Point", coordinates: [7, 45] });
      assert.equal(fc.features[0].properties.replies[0].text, "Done");
    } finally {
      await Deno.remove(path);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
