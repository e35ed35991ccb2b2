/** The map client's core browser scenarios in Chromium through HAProxy over https, trusting the local CA. */
import assert from "assert";
import { chromium, type Page } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, newPerson, screenshot, waitLive } from "./_browser.ts";
import { chromiumCaHome, startHaproxy } from "./_haproxy.ts";
import { createMap, startRelay } from "./_relay.ts";
import type {} from "../public/src/debug.ts";

const ALICE = { name: "Alice", color: "#e11d48" };
const BOB = { name: "Bob", color: "#2563eb" };

async function mapBox(page: Page) {
  const box = await page.locator("#map").boundingBox();
  assert.ok(box, "the map element is on the page");
  return box;
}

function features(page: Page) {
  return page.evaluate(() => globalThis.duplex?.features() ?? []);
}

Deno.test("map client through HAProxy over https (local CA): draw, presence, offline edits", async (t) => {
  await using relay = await startRelay({ args: ["--memory", "--trust-proxy", "127.0.0.1"] });
  await using hp = await startHaproxy({ relayPort: relay.port });
  // The browser trusts the local CA the way a user who imported it does: no ignored errors.
  await using trust = await chromiumCaHome(hp.caFile);
  const created = await createMap(relay.url, "Over TLS");
  const editUrl = `${hp.httpsUrl}/m/${created.id}#key=${created.editKey}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    env: trust.env,
  });
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
      const box = await mapBox(a.page);
      const cx = box.x + box.width / 2;
      const cy = box.y + box.height / 2;
      await a.page.locator(".leaflet-pm-icon-polygon").click();
      const corners = [[-90, -60], [90, -70], [100, 60], [-80, 70]];
      for (const [dx, dy] of corners) {
        await a.page.mouse.click(cx + dx, cy + dy);
        await a.page.waitForTimeout(60);
      }
      await a.page.mouse.click(cx + corners[0][0], cy + corners[0][1]);
      await b.page.waitForFunction(() =>
        globalThis.duplex?.features().some((f) => f.geometry.type === "Polygon")
      );
      const [polygon] = await features(b.page);
      const ring = polygon.geometry.type === "Polygon" ? polygon.geometry.coordinates[0] : [];
      assert.equal(ring.length, 5, "four corners plus the closing one");
      assert.deepEqual(await features(a.page), [polygon]);
      await a.page.waitForTimeout(300);
      await screenshot(b.page, "haproxy-01-b-sees-a-polygon");
    });

    await t.step("A's viewport rectangle and cursor appear on B's map", async () => {
      const box = await mapBox(a.page);
      await a.page.keyboard.press("Escape");
      await a.page.mouse.move(box.x + 120, box.y + 120);
      await a.page.mouse.move(box.x + 160, box.y + 140, { steps: 5 });
      await b.page.locator(".peer-cursor span", { hasText: "Alice" }).waitFor({
        state: "visible",
      });
      await b.page.locator(`path.peer-view[stroke="${ALICE.color}"]`).waitFor({
        state: "attached",
      });
      const aView = await a.page.evaluate(() => globalThis.duplex?.view());
      const seen = await b.page.evaluate(() =>
        globalThis.duplex?.peers().find((p) => p.name === "Alice")
      );
      assert.deepEqual(seen?.view?.bbox, aView?.bbox);
      assert.ok(seen?.cursor, "B knows where A's pointer is");
      await b.page.locator(".leaflet-control-zoom-out").click();
      await b.page.waitForTimeout(400);
      await screenshot(b.page, "haproxy-02-b-sees-a-cursor-and-viewport");
      await b.page.locator(".leaflet-control-zoom-in").click();
    });

    await t.step("A goes offline, edits, comes back; B gets every edit exactly once", async () => {
      const fid = (await features(a.page))[0].id;
      await a.context.setOffline(true);
      await a.page.waitForFunction(() => globalThis.duplex?.status().state !== "live");
      const pending = await a.page.evaluate((fid) => {
        const d = globalThis.duplex;
        if (!d) return -1;
        d.sendEdit([{ op: "props", fid, set: { visited: true } }]);
        d.sendEdit([{
          op: "put",
          feature: {
            type: "Feature",
            id: "offline-point",
            geometry: { type: "Point", coordinates: [10, 10] },
            properties: { note: "added offline" },
          },
        }]);
        d.sendEdit([{ op: "props", fid: "offline-point", set: { note: "changed offline" } }]);
        return d.pendingCount();
      }, fid);
      assert.equal(pending, 3);
      await a.page.locator("#status", { hasText: "Offline · 3 unsent edits" }).waitFor();
      await screenshot(a.page, "haproxy-03-a-offline-with-unsent-edits");
      const bSeqBefore = await b.page.evaluate(() => globalThis.duplex?.seq() ?? 0);
      await a.context.setOffline(false);
      await waitLive(a.page, 20_000);
      await a.page.waitForFunction(() => globalThis.duplex?.pendingCount() === 0);
      await b.page.waitForFunction(() =>
        globalThis.duplex?.feature("offline-point")?.properties.note === "changed offline"
      );
      const log = await b.page.evaluate(() => globalThis.duplex?.editLog() ?? []);
      const fromA = log.filter((e) => e.seq > bSeqBefore);
      assert.equal(fromA.length, 3, `B saw ${JSON.stringify(fromA)}`);
      assert.equal(new Set(fromA.map((e) => e.id)).size, 3, "no edit arrived twice");
      assert.deepEqual(await features(a.page), await features(b.page));
      assert.equal(
        await a.page.evaluate(() => globalThis.duplex?.status().transport),
        "websocket",
        "going offline is no reason to give up WebSockets",
      );
      await screenshot(a.page, "haproxy-04-a-back-online");
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
});
