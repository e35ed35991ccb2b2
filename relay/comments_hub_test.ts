/** Unit tests of comments through the hub and the HTTP app, with fake sockets and an in-memory store. */
import assert from "assert";
import { appFixture } from "./_app_fixture.ts";
import { FakeSocket } from "./_fake_socket.ts";
import { FakeTimers } from "./_fake_timers.ts";
import type { Hub } from "./hub.ts";

type Msg = Record<string, unknown> & { type: string };

/** A fake client on `hub`; `messages()` unpacks batched frames. */
function client(hub: Hub, mapId: string, name: string) {
  const socket = new FakeSocket(name);
  const conn = hub.accept(socket, { mapId, addr: "192.0.2.1", transport: "test" });
  let read = 0;
  return {
    socket,
    conn,
    send: (message: unknown) => conn.receive(JSON.stringify(message)),
    /** Messages received since the last call. */
    take(): Msg[] {
      const all = socket.sent.flatMap((t) => [JSON.parse(t)].flat()) as Msg[];
      const fresh = all.slice(read);
      read = all.length;
      return fresh;
    },
  };
}

async function setup() {
  const timers = new FakeTimers(1_796_212_800_000);
  const fixture = appFixture({}, { timers });
  const { id, editKey, viewKey } = await fixture.hub.api.createMap("Dams");
  return {
    hub: fixture.hub,
    app: fixture.app,
    id,
    editKey,
    viewKey,
    timers,
    [Symbol.asyncDispose]: () => fixture[Symbol.asyncDispose](),
  };
}

Deno.test("comments reach every peer that understands them, after the commit; others never see them", async () => {
  await using s = await setup();
  const { hub, id, editKey, viewKey } = s;
  const ann = client(hub, id, "Ann");
  const bob = client(hub, id, "Bob");
  const old = client(hub, id, "Old");
  ann.send({ type: "hello", key: editKey, name: "Ann", color: "#E11D48", comments: true });
  bob.send({ type: "hello", key: viewKey, name: "Bob", color: "#17bebb", comments: true });
  old.send({ type: "hello", key: viewKey, name: "Old", color: "#000000" });
  await hub.settled();
  const welcome = bob.take().find((m) => m.type === "welcome")!;
  assert.deepEqual(welcome.comments, []);
  assert.deepEqual(welcome.settings, { viewersMayComment: false });
  assert.equal("comments" in old.take().find((m) => m.type === "welcome")!, false);
  ann.take();

  ann.send({ type: "comment", ref: "a1", op: "add", text: "Dam here?", anchor: { at: [2, 48] } });
  ann.send({ type: "comment", ref: "a2", op: "reply", thread: "c1", text: "Checking" });
  hub.flush();
  assert.deepEqual(bob.take(), [], "nothing before the commit is durable");
  await hub.settled();
  const comment = {
    id: "c1",
    thread: "c1",
    text: "Dam here?",
    name: "Ann",
    color: "#e11d48",
    created: 1_796_212_800_000,
    resolved: false,
    anchor: { at: [2, 48] },
  };
  const seen = ann.take();
  assert.deepEqual(bob.take(), seen, "the viewer sees the very frames the author does");
  assert.deepEqual(seen.map((m) => [m.type, m.ref, (m.comment as Msg).id]), [
    ["comment", "a1", "c1"],
    ["comment", "a2", "c2"],
  ]);
  assert.deepEqual(seen[0].comment, comment);
  assert.deepEqual(old.take().filter((m) => m.type === "comment"), []);
  // A client that did not opt in would never see an answer: it is told what to do.
  old.send({ type: "comment", ref: "o1", op: "reply", thread: "c1", text: "hi" });
  await hub.settled();
  assert.deepEqual(old.take(), [{
    type: "comment_refused",
    ref: "o1",
    code: "invalid_comment",
    message: 'say "comments": true in hello to use comments',
  }]);

  // A viewer is refused with its own frame, not an edit's `rejected`, and nobody else hears of it.
  bob.send({ type: "comment", ref: "b1", op: "reply", thread: "c1", text: "me too" });
  await hub.settled();
  assert.deepEqual(bob.take(), [{
    type: "comment_refused",
    ref: "b1",
    code: "forbidden",
    message: "this link is view-only and the map's owner has not allowed viewers to comment",
  }]);
  assert.deepEqual(ann.take(), []);

  // A later joiner gets the comments in its welcome.
  const cat = client(hub, id, "Cat");
  cat.send({ type: "hello", key: viewKey, name: "Cat", color: "#123456", comments: true });
  await hub.settled();
  const catWelcome = cat.take().find((m) => m.type === "welcome")!;
  assert.deepEqual((catWelcome.comments as Msg[]).map((c) => c.id), ["c1", "c2"]);
});

Deno.test("the owner's setting: PATCH with the edit key lets viewers comment, told live; view key 403", async () => {
  await using s = await setup();
  const { hub, app, id, editKey, viewKey } = s;
  const bob = client(hub, id, "Bob");
  bob.send({ type: "hello", key: viewKey, name: "Bob", color: "#17bebb", comments: true });
  await hub.settled();
  bob.take();
  const patch = (key: string, body: string) =>
    app.request(`/api/maps/${id}/settings?key=${key}`, { method: "PATCH", body });
  const viewer = await patch(viewKey, '{"viewersMayComment":true}');
  assert.equal(viewer.status, 403);
  assert.match((await viewer.json()).detail, /only the edit key/);
  for (
    const bad of ["nope", "{}", '{"viewersMayComment":"yes"}', '{"viewersMayComment":true,"x":1}']
  ) {
    const res = await patch(editKey, bad);
    assert.equal(res.status, 400, bad);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    await res.body?.cancel();
  }
  const wrong = await patch("nope", '{"viewersMayComment":true}');
  assert.equal(wrong.status, 404);
  await wrong.body?.cancel();
  const ok = await patch(editKey, '{"viewersMayComment":true}');
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { viewersMayComment: true });
  await hub.settled();
  assert.deepEqual(bob.take(), [{ type: "settings", viewersMayComment: true }]);
  const read = await app.request(`/api/maps/${id}/settings?key=${viewKey}`);
  assert.deepEqual(await read.json(), { viewersMayComment: true });

  bob.send({
    type: "comment",
    ref: "b1",
    op: "add",
    text: "From a viewer",
    anchor: { at: [0, 0] },
  });
  await hub.settled();
  const [echo] = bob.take();
  assert.equal(echo.type, "comment");
  assert.equal((echo.comment as Msg).name, "Bob");
});

Deno.test("bad comment requests get comment_refused with the reason; the rate is limited per connection", async () => {
  await using s = await setup();
  const { hub, id, editKey } = s;
  const ann = client(hub, id, "Ann");
  ann.send({ type: "hello", key: editKey, name: "Ann", color: "#e11d48", comments: true });
  await hub.settled();
  ann.take();
  ann.send({ type: "comment", ref: "x1", op: "add", text: "", anchor: { at: [0, 0] } });
  ann.send({ type: "comment", ref: "x2", op: "add", text: "on f9", anchor: { fid: "f9" } });
  ann.send({ type: "comment", ref: "x3", op: "reply", thread: "c7", text: "hi" });
  ann.send({ type: "comment", ref: "x4", op: "resolve", thread: "c7", resolved: true });
  await hub.settled();
  assert.deepEqual(ann.take().map((m) => [m.type, m.ref, m.code]), [
    ["comment_refused", "x1", "invalid_comment"],
    ["comment_refused", "x2", "unknown_feature"],
    ["comment_refused", "x3", "unknown_thread"],
    ["comment_refused", "x4", "unknown_thread"],
  ]);
  // Ten at once (three were already taken above), then the rate of 30 a minute.
  for (let i = 0; i < 10; i++) {
    ann.send({ type: "comment", ref: `r${i}`, op: "add", text: `n${i}`, anchor: { at: [0, 0] } });
  }
  await hub.settled();
  const answers = ann.take();
  assert.deepEqual(answers.map((m) => m.type), [
    ...Array(7).fill("comment"),
    ...Array(3).fill("comment_refused"),
  ]);
  assert.equal(answers[9].code, "rate_limited");
  s.timers.advance(2_000);
  ann.send({ type: "comment", ref: "later", op: "add", text: "later", anchor: { at: [0, 0] } });
  await hub.settled();
  assert.equal(ann.take()[0].type, "comment");
});

Deno.test("GET comments: JSON oldest first, the GeoJSON layer at the feature's point; same 404 for a wrong key", async () => {
  await using s = await setup();
  const { hub, app, id, editKey, viewKey } = s;
  const ann = client(hub, id, "Ann");
  ann.send({ type: "hello", key: editKey, name: "Ann", color: "#e11d48", comments: true });
  ann.send({
    type: "edit",
    id: 1,
    ops: [{
      op: "put",
      feature: {
        type: "Feature",
        id: "dam",
        geometry: { type: "Point", coordinates: [5, 6] },
        properties: {},
      },
    }],
  });
  ann.send({ type: "comment", ref: "a", op: "add", text: "On the dam", anchor: { fid: "dam" } });
  ann.send({ type: "comment", ref: "b", op: "reply", thread: "c1", text: "Yes" });
  ann.send({ type: "comment", ref: "c", op: "resolve", thread: "c1", resolved: true });
  await hub.settled();
  const json = await app.request(`/api/maps/${id}/comments?key=${viewKey}`);
  assert.equal(json.headers.get("content-type"), "application/json");
  const { comments } = await json.json();
  assert.deepEqual(comments.map((c: Msg) => [c.id, c.thread, c.resolved]), [
    ["c1", "c1", true],
    ["c2", "c1", undefined],
  ]);
  const geo = await app.request(`/api/maps/${id}/comments?key=${viewKey}&format=geojson`);
  assert.equal(geo.headers.get("content-type"), "application/geo+json");
  assert.equal(
    geo.headers.get("content-disposition"),
    'attachment; filename="dams-comments.geojson"',
  );
  const fc = await geo.json();
  assert.equal(fc.features.length, 1);
  assert.deepEqual(fc.features[0].geometry, { type: "Point", coordinates: [5, 6] });
  assert.deepEqual(fc.features[0].properties.replies.map((r: Msg) => r.text), ["Yes"]);
  // Comments are never in the features or their exports.
  const features = await (await app.request(`/api/maps/${id}/features?key=${viewKey}`)).json();
  assert.deepEqual(features.features.map((f: Msg) => f.id), ["dam"]);
  const wrong = await app.request(`/api/maps/${id}/comments?key=wrong`);
  const unknown = await app.request(`/api/maps/AAAAAAAAAAAAAAAA/comments?key=${viewKey}`);
  assert.equal(wrong.status, 404);
  assert.deepEqual(await wrong.json(), await unknown.json());
  const badFormat = await app.request(`/api/maps/${id}/comments?key=${viewKey}&format=kml`);
  assert.equal(badFormat.status, 400);
  await badFormat.body?.cancel();
});

Deno.test("edit and delete: a browser's own comments by its author key, across reconnects; editors delete any; everyone sees it", async () => {
  await using s = await setup();
  const { hub, app, id, editKey, viewKey } = s;
  const annKey = "ann-browser-0123456789";
  const hello = (key: string, name: string, author?: string) => ({
    type: "hello",
    key,
    name,
    color: "#e11d48",
    comments: true,
    ...(author ? { author } : {}),
  });
  const allowed = await app.request(`/api/maps/${id}/settings?key=${editKey}`, {
    method: "PATCH",
    body: '{"viewersMayComment":true}',
  });
  assert.equal(allowed.status, 200);
  await allowed.body?.cancel();
  const ann = client(hub, id, "Ann");
  const bob = client(hub, id, "Bob");
  ann.send(hello(editKey, "Ann", annKey));
  bob.send(hello(viewKey, "Bob", "bob-browser-0123456789"));
  await hub.settled();
  const annId = (ann.take().find((m) => m.type === "welcome")!.you as Msg).author;
  const bobId = (bob.take().find((m) => m.type === "welcome")!.you as Msg).author;
  assert.equal(typeof annId, "string");
  assert.notEqual(annId, bobId);
  assert.equal(JSON.stringify(ann.socket.sent).includes(annKey), false, "the key is never sent");

  ann.send({ type: "comment", ref: "a1", op: "add", text: "Dam herre?", anchor: { at: [2, 48] } });
  ann.send({ type: "comment", ref: "a2", op: "reply", thread: "c1", text: "Checking" });
  await hub.settled();
  assert.equal((ann.take()[0].comment as Msg).author, annId);
  bob.take();

  // Ann's page reloads: a new connection, the same browser's key; it may edit what it wrote.
  ann.conn.closed(1001, "reload");
  const again = client(hub, id, "Ann again");
  again.send(hello(editKey, "Ann", annKey));
  await hub.settled();
  again.take();
  bob.take();
  again.send({ type: "comment", ref: "e1", op: "edit", id: "c1", text: "Dam here?" });
  await hub.settled();
  const [edited] = again.take();
  assert.deepEqual(bob.take(), [edited], "the viewer sees the edit as the author does");
  assert.equal(edited.ref, "e1");
  assert.deepEqual(
    [(edited.comment as Msg).text, (edited.comment as Msg).edited],
    ["Dam here?", 1_796_212_800_000],
  );

  // The same text again (a double Save): acknowledged, and nothing else on the map waits for it.
  again.send({ type: "comment", ref: "e2", op: "edit", id: "c1", text: "Dam here?" });
  await hub.settled();
  assert.deepEqual(again.take().map((m) => [m.type, m.ref]), [["comment", "e2"]]);
  bob.send({ type: "cursor", at: [1, 1] });
  await hub.settled();
  assert.deepEqual(again.take().map((m) => m.type), ["cursor"]);
  bob.take();

  // Bob's browser did not write c1: it may neither edit nor delete it; only Bob hears why.
  bob.send({ type: "comment", ref: "b1", op: "edit", id: "c1", text: "Mine now" });
  bob.send({ type: "comment", ref: "b2", op: "delete", id: "c2" });
  bob.send({ type: "comment", ref: "b3", op: "delete", id: "c9" });
  await hub.settled();
  assert.deepEqual(bob.take().map((m) => [m.type, m.ref, m.code, m.message]), [
    ["comment_refused", "b1", "forbidden", "only the browser that wrote a comment can edit it"],
    [
      "comment_refused",
      "b2",
      "forbidden",
      "only the browser that wrote a comment, or an editor, can delete it",
    ],
    ["comment_refused", "b3", "unknown_comment", 'there is no comment "c9" on this map'],
  ]);
  assert.deepEqual(again.take(), []);

  // An editor's connection (another browser, no key) deletes the thread: gone for everyone.
  const cat = client(hub, id, "Cat");
  cat.send(hello(editKey, "Cat"));
  await hub.settled();
  cat.take();
  bob.take();
  cat.send({ type: "comment", ref: "d1", op: "delete", id: "c1" });
  await hub.settled();
  const [deleted] = bob.take();
  assert.equal(deleted.type, "comment");
  assert.deepEqual(
    [(deleted.comment as Msg).id, (deleted.comment as Msg).deleted, (deleted.comment as Msg).text],
    ["c1", true, ""],
  );
  assert.deepEqual(cat.take(), [deleted]);
  const read = await (await app.request(`/api/maps/${id}/comments?key=${viewKey}`)).json();
  assert.deepEqual(read.comments, []);
  const late = client(hub, id, "Late");
  late.send(hello(viewKey, "Late"));
  await hub.settled();
  assert.deepEqual(late.take().find((m) => m.type === "welcome")!.comments, []);
  // The keys themselves never leave the relay: not in any frame, nor over HTTP.
  for (const peer of [ann, bob, again, cat, late]) {
    const sent = peer.socket.sent.join("");
    assert.ok(!sent.includes(annKey) && !sent.includes("bob-browser-0123456789"), peer.socket.name);
  }
});

Deno.test("a reconnect that says commentsAt gets only the comments changed since; one that cannot be caught up gets all", async () => {
  await using s = await setup();
  const { hub, id, editKey } = s;
  const hello = (extra: Record<string, unknown> = {}) => ({
    type: "hello",
    key: editKey,
    name: "Ann",
    color: "#e11d48",
    comments: true,
    ...extra,
  });
  const ann = client(hub, id, "Ann");
  ann.send(hello());
  await hub.settled();
  ann.send({ type: "comment", ref: "a1", op: "add", text: "One", anchor: { at: [1, 1] } });
  ann.send({ type: "comment", ref: "a2", op: "add", text: "Two", anchor: { at: [2, 2] } });
  await hub.settled();
  const frames = ann.take().filter((m) => m.type === "comment");
  const at = frames.at(-1)!.commentsAt as string;
  assert.equal(typeof at, "string");
  ann.conn.closed(1006, "network");

  // While Ann is away: a reply, a resolve, a deletion.
  const bob = client(hub, id, "Bob");
  bob.send(hello({ name: "Bob" }));
  await hub.settled();
  bob.send({ type: "comment", ref: "b1", op: "reply", thread: "c1", text: "Yes" });
  bob.send({ type: "comment", ref: "b2", op: "resolve", thread: "c1", resolved: true });
  bob.send({ type: "comment", ref: "b3", op: "delete", id: "c2" });
  await hub.settled();
  const bobAt = bob.take().filter((m) => m.type === "comment").at(-1)!.commentsAt;

  const back = client(hub, id, "Ann again");
  back.send(hello({ commentsAt: at }));
  await hub.settled();
  const welcome = back.take().find((m) => m.type === "welcome")!;
  assert.equal("comments" in welcome, false, "not the whole list");
  assert.deepEqual(
    (welcome.commentsChanged as Msg[]).map((c) => [c.id, c.text, c.resolved, c.deleted]),
    [
      ["c1", "One", true, undefined],
      ["c2", "", undefined, true],
      ["c3", "Yes", undefined, undefined],
    ],
  );
  assert.equal(welcome.commentsAt, bobAt, "where the others stand");

  // A position from another copy of the map (say, before a restart): the whole list.
  const other = client(hub, id, "Other");
  other.send(hello({ commentsAt: "elsewhere.3" }));
  await hub.settled();
  const full = other.take().find((m) => m.type === "welcome")!;
  assert.deepEqual((full.comments as Msg[]).map((c) => c.id), ["c1", "c3"]);
  assert.equal("commentsChanged" in full, false);
});
