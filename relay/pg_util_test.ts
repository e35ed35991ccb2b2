/** Unit tests of telling a lost or refused PostgreSQL connection from an error about the data. */
import assert from "assert";
import { isUnreachable, reachable, redactUrl } from "./pg_util.ts";
import { StoreUnreachableError } from "./map_store.ts";

/** An error as npm:postgres raises it, with a SQLSTATE or client code. */
function pgError(code: string): Error {
  return Object.assign(new Error(`code ${code}`), { code });
}

Deno.test("pg_util: a cut link, a restart, too many clients and a refused login are 'unreachable'; data errors are not", () => {
  for (
    const code of ["08006", "57P01", "53300", "28000", "28P01", "CONNECTION_CLOSED", "ECONNREFUSED"]
  ) {
    assert.ok(isUnreachable(pgError(code)), code);
  }
  for (const code of ["23505", "42P01", "22P02", "40001"]) {
    assert.ok(!isUnreachable(pgError(code)), code);
  }
  assert.ok(!isUnreachable(new Error("no code")));
});

Deno.test("pg_util: reachable() turns a refused login into StoreUnreachableError (try again), not a damaged map", async () => {
  await assert.rejects(reachable(Promise.reject(pgError("28000"))), StoreUnreachableError);
  await assert.rejects(
    reachable(Promise.reject(pgError("23505"))),
    (e) => !(e instanceof StoreUnreachableError),
  );
});

Deno.test("pg_util: URLs lose their password in logs", () => {
  assert.equal(redactUrl("postgres://dm:secret@db:5432/maps"), "postgres://dm:***@db:5432/maps");
});
