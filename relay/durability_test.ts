/** Unit tests of commit tickets: a finished commit releases only the peers waiting for it. */
import assert from "assert";
import { Durability } from "./durability.ts";
import { Peer } from "./peer.ts";
import { FakeSocket } from "./_fake_socket.ts";

const peer = (id: string) => new Peer(id, new FakeSocket(id), "192.0.2.1");

Deno.test("Durability: a commit releases the peers waiting for it or an earlier one, not later ones", () => {
  const d = new Durability();
  const [a, b, c] = [peer("a"), peer("b"), peer("c")];
  const t1 = d.issue();
  const t2 = d.issue();
  d.hold(a, t1);
  d.hold(b, t2);
  d.hold(c, t2);
  const released = new Set<Peer>();
  d.committed(t1, released);
  assert.deepEqual([...released].map((p) => p.id), ["a"], "b and c wait for a later commit");
  released.clear();
  d.release(c);
  d.committed(t2, released);
  assert.deepEqual([...released].map((p) => p.id), ["b"], "c went away");
  released.clear();
  d.committed(t2, released);
  assert.equal(released.size, 0, "nothing is released twice");
});

Deno.test("Durability: a peer held again moves to its new ticket; without one it waits for the next commit", () => {
  const d = new Durability();
  const [a, b] = [peer("a"), peer("b")];
  const t1 = d.issue();
  const t2 = d.issue();
  d.hold(a, t1);
  d.hold(a, t2);
  d.hold(b);
  const released = new Set<Peer>();
  d.committed(t1, released);
  assert.deepEqual([...released].map((p) => p.id), ["b"]);
  released.clear();
  d.committed(t2, released);
  assert.deepEqual([...released].map((p) => p.id), ["a"]);
});
