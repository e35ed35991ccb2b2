/** The map client's core browser scenarios in Chromium through HAProxy over https (WebSockets over HTTP/2), trusting the local CA. */
import assert from "assert";
import {
  ALICE,
  BOB,
  drawPolygon,
  expectCursorAndViewport,
  launchChromium,
  newPerson,
  offlineEditsArriveOnce,
  waitLive,
} from "./_browser.ts";
import { chromiumCaHome, startHaproxy } from "./_haproxy.ts";
import { createMap, startRelay } from "./_relay.ts";
import { until } from "./_process.ts";
import type {} from "../public/src/debug.ts";

Deno.test("map client through HAProxy over https (local CA): draw, presence, offline edits", async (t) => {
  await using relay = await startRelay({ args: ["--memory", "--trust-proxy", "127.0.0.1"] });
  await using hp = await startHaproxy({ relayPort: relay.port });
  // The browser trusts the local CA the way a user who imported it does: no ignored errors.
  await using trust = await chromiumCaHome(hp.caFile);
  const created = await createMap(relay.url, "Over TLS");
  const editUrl = `${hp.httpsUrl}/m/${created.id}#key=${created.editKey}`;
  const browser = await launchChromium({ env: trust.env });
  try {
    const a = await newPerson(browser, ALICE);
    const b = await newPerson(browser, BOB);
    for (const p of [a, b]) {
      const response = await p.page.goto(editUrl);
      assert.equal(response?.status(), 200);
      assert.equal(
        (await response?.securityDetails())?.issuer?.startsWith("Duplex Map local CA"),
        true,
        "the page was served with the local CA's certificate",
      );
      await waitLive(p.page);
      assert.equal(
        await p.page.evaluate(() => globalThis.duplex?.status().transport),
        "websocket",
        "HAProxy passes WebSockets, so no fallback is needed",
      );
    }
    await a.page.locator(".peer", { hasText: "Bob" }).waitFor();

    await t.step("A draws a polygon with the mouse and B sees it", async () => {
      await drawPolygon(a, b, "haproxy-01-b-sees-a-polygon");
    });

    await t.step("A's viewport rectangle and cursor appear on B's map", async () => {
      await expectCursorAndViewport(a, ALICE, b, "haproxy-02-b-sees-a-cursor-and-viewport");
    });

    await t.step("A goes offline, edits, comes back; B gets every edit exactly once", async () => {
      await offlineEditsArriveOnce(a, b, {
        offline: "haproxy-03-a-offline-with-unsent-edits",
        online: "haproxy-04-a-back-online",
      });
      assert.equal(
        await a.page.evaluate(() => globalThis.duplex?.status().transport),
        "websocket",
        "going offline is no reason to give up WebSockets",
      );
    });

    // Every WebSocket went through HAProxy's WebSocket backend, and the relay logged the
    // browser's address from X-Forwarded-For (HAProxy is the trusted proxy).
    assert.ok(
      hp.logs.some((l) => / relay_ws\/relay .* 101 /.test(l)),
      `HAProxy logged no WebSocket upgrade:\n${hp.logs.slice(-20).join("\n")}`,
    );
    const connects = relay.logs.filter((l) => l.event === "connect");
    assert.ok(connects.length >= 3, "two joins and a rejoin");
    for (const c of connects) assert.equal(c.addr, "127.0.0.1");
    for (const p of [a, b]) assert.deepEqual(p.errors, []);
  } finally {
    await browser.close();
  }
  // Chromium opened its WebSockets over HTTP/2 (RFC 8441, an extended CONNECT on the page's h2
  // connection), which HAProxy logs as an HTTP/2.0 request with a 101; each tunnel is logged when
  // it ends, so once the browser has closed.
  await until(
    () => hp.logs.some((l) => / relay_ws\/relay .* 101 .*\/ws\/\S+ HTTP\/2\.0"/.test(l)),
    `HAProxy logged no WebSocket over HTTP/2:\n${hp.logs.slice(-20).join("\n")}`,
  );
});
