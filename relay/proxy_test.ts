/** Unit tests of client address resolution behind proxies. */
import assert from "assert";
import { clientAddress, isTrustedProxy } from "./proxy.ts";

Deno.test("X-Forwarded-For is believed only from a trusted proxy", () => {
  assert.equal(clientAddress("127.0.0.1", "203.0.113.9", ["127.0.0.1"]), "203.0.113.9");
  assert.equal(clientAddress("198.51.100.7", "203.0.113.9", ["127.0.0.1"]), "198.51.100.7");
  assert.equal(clientAddress("127.0.0.1", undefined, ["127.0.0.1"]), "127.0.0.1");
});

Deno.test("the rightmost untrusted hop is the client; a spoofed left part is ignored", () => {
  assert.equal(
    clientAddress("::ffff:127.0.0.1", "6.6.6.6, 203.0.113.9, 10.0.0.2", ["127.0.0.1", "10.0.0.2"]),
    "203.0.113.9",
  );
});

Deno.test("isTrustedProxy compares addresses the way clientAddress does (IPv4-mapped IPv6 too)", () => {
  assert.equal(isTrustedProxy("::ffff:127.0.0.1", ["127.0.0.1"]), true);
  assert.equal(isTrustedProxy("127.0.0.1", ["::ffff:127.0.0.1"]), true);
  assert.equal(isTrustedProxy("10.0.0.2", ["127.0.0.1"]), false);
  assert.equal(isTrustedProxy(undefined, ["127.0.0.1"]), false);
});
