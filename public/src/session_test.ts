/** Tests for the session's edit bookkeeping, over a fake transport and a fake clock. */
import assert from "assert";
import type { Clock } from "./clock.ts";
import type { TransportHandlers } from "./transport.ts";
import { Session } from "./session.ts";

function setup(options: { maxFrameBytes?: number } = {}) {
  const timers = new Map<number, () => void>();
  let next = 1;
  const clock: Clock = {
    setTimeout: (fn) => {
      timers.set(next, fn);
      return next++;
    },
    clearTimeout: (id) => void timers.delete(id),
  };
  const links: { handlers: TransportHandlers; sent: unknown[] }[] = [];
  const notices: string[] = [];
  let n = 0;
  const session = new Session({
    origin: "http://x",
    mapId: "m",
    key: "k",
    name: "Ada",
    color: "#112233",
    clientId: "c",
    nextEditId: () => `c-${++n}`,
    transport: (_target, handlers) => {
      const link = { handlers, sent: [] as unknown[] };
      links.push(link);
      return {
        name: "fake",
        send: (text) => void link.sent.push(...[JSON.parse(text)].flat()),
        close: () => {},
      };
    },
    clock,
    random: () => 0,
    onNotice: (m) => void notices.push(m),
    ...options,
  });
  /** Opens the newest link and welcomes it with `features` at `seq`. */
  const welcome = (seq: number, features: unknown[] = []) => {
    const link = links.at(-1)!;
    link.handlers.onOpen();
    link.handlers.onMessage(JSON.stringify({
      type: "welcome",
      you: { peer: "p1", name: "Ada", color: "#112233", role: "editor" },
      peers: [],
      seq,
      features: { type: "FeatureCollection", features },
    }));
    return link;
  };
  /** Drops the link and lets the retry timer fire. */
  const reconnect = () => {
    links.at(-1)!.handlers.onClose({ code: 1006, reason: "" });
    for (const [id, fn] of [...timers]) {
      timers.delete(id);
      fn();
    }
  };
  return { session, links, notices, welcome, reconnect };
}

const pointA = {
  type: "Feature" as const,
  id: "a",
  geometry: { type: "Point" as const, coordinates: [1, 2] },
  properties: {},
};

Deno.test("an edit the relay already had (`duplicate`, after a snapshot welcome) is done, not refused", async () => {
  const t = setup();
  t.session.start();
  t.welcome(0);
  const outcome = t.session.edit([{ op: "put", feature: pointA }]);
  // The link drops before the echo; so many edits happen meanwhile that the catch-up is too old
  // and the relay answers with a full snapshot that holds the edit.
  t.reconnect();
  const link = t.welcome(500, [pointA]);
  assert.deepEqual(
    link.sent.filter((m) => (m as { type: string }).type === "edit").map((m) =>
      (m as { id: string }).id
    ),
    ["c-1"],
    "the pending edit is sent again",
  );
  link.handlers.onMessage(JSON.stringify({
    type: "rejected",
    id: "c-1",
    code: "duplicate",
    message: "already applied",
  }));
  assert.deepEqual(await outcome, { ok: true, id: "c-1", seq: 500 });
  assert.deepEqual(t.notices, [], "no 'your change was undone' for a change that was kept");
  assert.equal(t.session.doc.pending.length, 0);
  assert.deepEqual(t.session.doc.features.get("a"), pointA);
  assert.equal(t.session.canUndo, true, "still undoable");
});

Deno.test("an edit over the relay's frame limit is refused at once, with a notice, and never sent", async () => {
  const t = setup({ maxFrameBytes: 1000 });
  t.session.start();
  const link = t.welcome(0);
  const big = { ...pointA, properties: { note: "x".repeat(2000) } };
  const outcome = await t.session.edit([{ op: "put", feature: big }]);
  assert.equal(outcome.ok, false);
  assert.equal(!outcome.ok && outcome.code, "too_large");
  assert.deepEqual(t.notices, [
    "This change is 3 KB; the relay takes at most 1 KB in one change. Nothing was changed.",
  ]);
  assert.equal(link.sent.filter((m) => (m as { type: string }).type === "edit").length, 0);
  assert.equal(t.session.doc.pending.length, 0);
  assert.equal(t.session.doc.features.size, 0);
  assert.equal(t.session.canUndo, false);
  // A small one still goes.
  t.session.edit([{ op: "put", feature: pointA }]);
  assert.equal(link.sent.filter((m) => (m as { type: string }).type === "edit").length, 1);
});
