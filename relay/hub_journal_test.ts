/** Unit tests of the hub with a journal that commits when told: echoes wait, nothing else does. */
import assert from "assert";
import { Hub } from "./hub.ts";
import { InlineJournal } from "./journal.ts";
import type { JournalBatch } from "./journal.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import type { PeerSocket } from "./peer.ts";
import { Store } from "./store.ts";

type Msg = Record<string, unknown>;

/** A journal whose appends stay pending until `release()`. */
class GatedJournal extends InlineJournal {
  waiting: (() => void)[] = [];
  override append(batches: JournalBatch[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push(() => super.append(batches).then(resolve, reject));
    });
  }
  release(): void {
    for (const go of this.waiting.splice(0)) go();
  }
}

function socket(): PeerSocket & { received(): Msg[] } {
  const sent: string[] = [];
  return {
    send: (text) => void sent.push(text),
    close: () => {},
    bufferedAmount: 0,
    bufferedAbove: () => false,
    isOpen: true,
    received: () => sent.flatMap((t) => [JSON.parse(t)].flat()),
  };
}

Deno.test("hub: an echo waits for its commit, and so does what is queued behind it", async () => {
  const store = new Store({ path: ":memory:" });
  const journal = new GatedJournal(store);
  const hub = new Hub({ store, journal, limits: { ...DEFAULT_LIMITS } });
  try {
    const map = await hub.api.createMap("Gated");
    const a = socket();
    const b = socket();
    const ca = hub.accept(a, { mapId: map.id, addr: "192.0.2.1", transport: "test" });
    const cb = hub.accept(b, { mapId: map.id, addr: "192.0.2.2", transport: "test" });
    ca.receive(JSON.stringify({ type: "hello", key: map.editKey, name: "a", color: "#111111" }));
    cb.receive(JSON.stringify({ type: "hello", key: map.editKey, name: "b", color: "#222222" }));
    hub.flush();
    ca.receive(JSON.stringify({
      type: "edit",
      id: "e1",
      ops: [{
        op: "put",
        feature: { type: "Feature", id: "f", geometry: { type: "Point", coordinates: [1, 1] } },
      }],
    }));
    hub.flush();
    assert.equal(journal.waiting.length, 1, "the edit was handed to the journal");
    assert.ok(!b.received().some((m) => m.type === "edit"), "no echo before the commit");
    // B's cursor does not reach A yet either: it is queued behind A's held echo, in order.
    cb.receive(JSON.stringify({ type: "cursor", at: [2, 2] }));
    hub.flush();
    assert.ok(!a.received().some((m) => m.type === "edit" || m.type === "cursor"));
    // A new joiner's welcome shows the edit, so it waits for the commit too.
    const c = socket();
    const cc = hub.accept(c, { mapId: map.id, addr: "192.0.2.3", transport: "test" });
    cc.receive(JSON.stringify({ type: "hello", key: map.viewKey, name: "c", color: "#333333" }));
    hub.flush();
    assert.deepEqual(c.received(), []);
    journal.release();
    await hub.settled();
    for (const s of [a, b]) {
      const edit = s.received().find((m) => m.type === "edit");
      assert.deepEqual(edit && [edit.seq, edit.id], [1, "e1"]);
    }
    assert.deepEqual(a.received().filter((m) => m.type === "cursor").map((m) => m.at), [[2, 2]]);
    const welcome = c.received()[0];
    assert.equal(welcome.type, "welcome");
    assert.equal(welcome.seq, 1);
  } finally {
    journal.release();
    await hub.close();
    store.close();
  }
});
