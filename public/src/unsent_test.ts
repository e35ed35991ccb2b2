/** Tests for taking over the unsent edits of a closed tab, with fake locks and a fake store. */
import assert from "assert";
import { claimUnsent, clientLockName, type Locks, warnBeforeUnload } from "./unsent.ts";
import { editOfRecord, recordOfEdit, type UnsentGroup } from "./unsent_store.ts";

/** Locks held by other (open) tabs, and those this page takes. */
function fakeLocks(heldElsewhere: string[]) {
  const held = new Set(heldElsewhere.map(clientLockName));
  const taken: string[] = [];
  const locks: Locks = {
    request(name, _options, callback) {
      const free = !held.has(name);
      if (free) {
        held.add(name);
        taken.push(name);
      }
      const result = callback(free ? { name } : null);
      return Promise.resolve(free ? undefined : result);
    },
  };
  return { locks, taken };
}

const store = (groups: UnsentGroup[]) => ({ load: () => Promise.resolve(groups) });
const edit = (id: string) => ({ id, ops: [{ op: "del" as const, fid: id }] });

Deno.test("a new tab takes over the edits of a closed tab, under that tab's client id", async () => {
  const l = fakeLocks([]);
  const claimed = await claimUnsent({
    store: store([{ client: "old", edits: [edit("old-1"), edit("old-2")] }]),
    map: "m",
    tabClient: "new",
    locks: l.locks,
  });
  assert.deepEqual(claimed, { client: "old", edits: [edit("old-1"), edit("old-2")] });
  assert.deepEqual(l.taken, [clientLockName("old")]);
});

Deno.test("edits of a tab that is still open are left to it; this tab's own come first", async () => {
  const busy = fakeLocks(["open"]);
  assert.deepEqual(
    await claimUnsent({
      store: store([{ client: "open", edits: [edit("o-1")] }]),
      map: "m",
      tabClient: "me",
      locks: busy.locks,
    }),
    { client: "me", edits: [] },
  );
  assert.deepEqual(busy.taken, [clientLockName("me")]);

  const mine = fakeLocks([]);
  const claimed = await claimUnsent({
    store: store([{ client: "gone", edits: [edit("g-1")] }, {
      client: "me",
      edits: [edit("m-1")],
    }]),
    map: "m",
    tabClient: "me",
    locks: mine.locks,
  });
  assert.equal(claimed.client, "me");

  // Without Web Locks nobody can tell an open tab from a closed one: only a reload's own edits.
  assert.deepEqual(
    await claimUnsent({
      store: store([{ client: "gone", edits: [edit("g-1")] }]),
      map: "m",
      tabClient: "me",
    }),
    { client: "me", edits: [] },
  );
});

Deno.test("the unload warning is asked for only while edits are unsent", () => {
  const target = new EventTarget();
  let unsent = 0;
  const stop = warnBeforeUnload(target, () => unsent);
  const fire = () => {
    const event = new Event("beforeunload", { cancelable: true });
    target.dispatchEvent(event);
    return event.defaultPrevented;
  };
  assert.equal(fire(), false);
  unsent = 2;
  assert.equal(fire(), true);
  stop();
  assert.equal(fire(), false);
});

Deno.test("an unsent edit's label is stored with it and comes back; older records without one load", () => {
  const labelled = {
    id: "c-1",
    ops: [{ op: "del" as const, fid: "a" }],
    label: "Restored version 'Start'",
  };
  const record = recordOfEdit("m", "c", 1, labelled);
  // IndexedDB keeps a structured clone of the record.
  assert.deepEqual(editOfRecord(structuredClone(record)), labelled);
  const plain = edit("c-2");
  assert.deepEqual(editOfRecord(structuredClone(recordOfEdit("m", "c", 2, plain))), plain);
  // A record written before labels were kept has no `label` field.
  assert.deepEqual(
    editOfRecord({ map: "m", id: "c-3", client: "c", order: 3, ops: JSON.stringify(plain.ops) }),
    { id: "c-3", ops: plain.ops },
  );
  assert.equal(editOfRecord({ map: "m", id: "c-4", client: "c", order: 4, ops: "{" }), null);
});
