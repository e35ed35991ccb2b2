import assert from "assert";
import { Admission } from "./admission.ts";

Deno.test("Admission refuses an address over its cap with 429, and others still get in", () => {
  const admission = new Admission({ maxPending: 10, maxPendingPerAddr: 2 });
  const a1 = admission.admit("a");
  const a2 = admission.admit("a");
  assert.ok(a1.ok && a2.ok);
  const a3 = admission.admit("a");
  assert.equal(a3.ok, false);
  assert.equal(a3.ok ? 0 : a3.status, 429);
  assert.ok(admission.admit("b").ok);
  assert.equal(admission.pending, 3);
});

Deno.test("Admission refuses over the total with 503; a released slot is free again, once", () => {
  const admission = new Admission({ maxPending: 2, maxPendingPerAddr: 2 });
  const a = admission.admit("a");
  const b = admission.admit("b");
  assert.ok(a.ok && b.ok);
  const c = admission.admit("c");
  assert.equal(c.ok ? 0 : c.status, 503);
  a.slot.release();
  a.slot.release(); // twice counts once
  assert.equal(admission.pending, 1);
  assert.ok(admission.admit("c").ok);
  assert.equal(admission.admit("d").ok, false);
});

Deno.test("Admission checks its options", () => {
  assert.throws(
    () => new Admission({ maxPending: 0, maxPendingPerAddr: 1 }),
    /'maxPending' must be an integer >= 1: received 0/,
  );
});
