/** Unit test of the hub on a full disk (real SQLite file): the real cause is logged, nothing is acknowledged. */
import assert from "assert";
import { join } from "node:path";
import { Hub } from "./hub.ts";
import { InlineJournal } from "./journal.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import type { PeerSocket } from "./peer.ts";
import { Store } from "./store.ts";

type Msg = Record<string, unknown>;

function socket(): PeerSocket & { received(): Msg[]; closedWith: number | null } {
  const sent: string[] = [];
  const s = {
    send: (text: string) => void sent.push(text),
    close: (code: number) => {
      s.closedWith = code;
      s.isOpen = false;
    },
    bufferedAmount: 0,
    bufferedAbove: () => false,
    isOpen: true,
    closedWith: null as number | null,
    received: () => sent.flatMap((t) => [JSON.parse(t)].flat() as Msg[]),
  };
  return s;
}

Deno.test("hub on a full disk: logs SQLite's real error, acknowledges nothing, closes the peers with 1011", async () => {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-full-hub-test-" });
  // A database allowed a few pages only: a real SQLITE_FULL, "database or disk is full".
  const store = new Store({ path: join(dir, "maps.db"), maxPages: 12 });
  const logs: Msg[] = [];
  const hub = new Hub({
    store,
    journal: new InlineJournal(store),
    limits: { ...DEFAULT_LIMITS },
    logger: { log: (event, fields) => void logs.push({ event, ...fields }) },
  });
  try {
    const map = await hub.api.createMap("Full");
    const a = socket();
    const b = socket();
    const ca = hub.accept(a, { mapId: map.id, addr: "192.0.2.1", transport: "test" });
    const cb = hub.accept(b, { mapId: map.id, addr: "192.0.2.2", transport: "test" });
    ca.receive(JSON.stringify({ type: "hello", key: map.editKey, name: "a", color: "#111111" }));
    cb.receive(JSON.stringify({ type: "hello", key: map.viewKey, name: "b", color: "#222222" }));
    hub.flush();
    ca.receive(JSON.stringify({
      type: "edit",
      id: "big",
      ops: [{
        op: "put",
        feature: {
          type: "Feature",
          id: "f",
          geometry: { type: "Point", coordinates: [1, 1] },
          properties: { note: "x".repeat(60_000) },
        },
      }],
    }));
    hub.flush();
    await new Promise((resolve) => setTimeout(resolve, 0));
    hub.flush();
    const failed = logs.find((l) => l.event === "store_failed");
    assert.ok(failed, `store_failed was logged: ${JSON.stringify(logs.map((l) => l.event))}`);
    assert.match(String(failed.error), /database or disk is full/);
    assert.doesNotMatch(String(failed.error), /cannot rollback/);
    assert.ok(!a.received().some((m) => m.type === "edit"), "the edit was not acknowledged");
    assert.ok(!b.received().some((m) => m.type === "edit"), "nor sent to anyone");
    assert.equal(a.closedWith, 1011);
    assert.equal(b.closedWith, 1011);
    assert.deepEqual(store.loadMap(map.id, 100)?.tail, [], "nothing of it is stored");
  } finally {
    await hub.close();
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
