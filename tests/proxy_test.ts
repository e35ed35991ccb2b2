/** End-to-end: Chromium behind a real forward proxy (tinyproxy) edits a map over wss:// through HAProxy. */
import assert from "assert";
import { launchChromium, screenshot } from "./_browser.ts";
import { chromiumCaHome, startHaproxy, startTinyproxy } from "./_haproxy.ts";
import { createMap, startRelay } from "./_relay.ts";
import { join } from "./_ws.ts";
import type {} from "../public/src/debug.ts";

Deno.test("Chromium through a forward proxy (CONNECT tunnel) edits a map over wss://", async () => {
  await using relay = await startRelay({ args: ["--memory", "--trust-proxy", "127.0.0.1"] });
  await using hp = await startHaproxy({ relayPort: relay.port });
  // The proxy may tunnel only to HAProxy's https port, as a company proxy allows only 443.
  await using proxy = await startTinyproxy({ connectPorts: [hp.httpsPort] });
  await using trust = await chromiumCaHome(hp.caFile);
  const map = await createMap(relay.url, "Through the proxy");
  // Someone already on the map, connected directly, sees the browser's edit arrive.
  const { peer: watcher } = await join(relay.wsUrl, map.id, map.viewKey, { name: "watcher" });
  await using _watcher = watcher;

  const browser = await launchChromium({
    env: trust.env,
    args: [
      `--proxy-server=${proxy.url}`,
      // Chromium never proxies loopback unless told to; the test's "internet" is loopback.
      "--proxy-bypass-list=<-loopback>",
    ],
  });
  try {
    const page = await browser.newPage();
    // A returning user: the page asks a first-time visitor for a name before connecting.
    await page.addInitScript(() =>
      localStorage.setItem(
        "duplexmap.identity",
        JSON.stringify({ name: "Behind a proxy", color: "#2563eb" }),
      )
    );
    const consoleLines: string[] = [];
    page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    const response = await page.goto(`${hp.httpsUrl}/m/${map.id}#key=${map.editKey}`);
    assert.equal(response?.status(), 200);
    // The page trusted HAProxy's certificate through the local CA (no certificate errors ignored).
    assert.equal(
      (await response?.securityDetails())?.issuer?.startsWith("Duplex Map local CA"),
      true,
    );
    await page.waitForFunction(
      () => globalThis.duplex?.status().state === "live",
      undefined,
      { timeout: 15_000 },
    ).catch(async (e) => {
      const status = await page.evaluate(() => globalThis.duplex?.status())
        .catch(() => undefined);
      throw new Error(
        `the map page never went live: ${e}\nstatus: ${JSON.stringify(status)}\n` +
          `console: ${consoleLines.slice(-10).join("\n")}\nhaproxy: ${
            hp.logs.slice(-10).join("\n")
          }`,
      );
    });
    assert.equal(
      await page.evaluate(() => globalThis.duplex?.status().transport),
      "websocket",
    );

    const outcome = await page.evaluate(() =>
      globalThis.duplex!.sendEdit([{
        op: "put",
        feature: {
          type: "Feature",
          id: "through-proxy",
          geometry: { type: "Point", coordinates: [13.4, 52.5] },
          properties: { name: "via tinyproxy" },
        },
      }])
    );
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    const seen = await watcher.nextOf("edit", (m) => m.ops.some((op) => op.op === "put"));
    assert.deepEqual(seen.ops.map((op) => op.op === "put" && op.feature.id), ["through-proxy"]);
    await screenshot(page, "proxy_wss");
  } finally {
    await browser.close();
  }

  // The browser really went through the proxy: tinyproxy opened a tunnel to HAProxy's https port,
  // and HAProxy upgraded a WebSocket that came from it.
  assert.ok(
    proxy.logs.some((l) => l.includes(`CONNECT 127.0.0.1:${hp.httpsPort}`)),
    `tinyproxy logged no CONNECT tunnel:\n${proxy.logs.slice(-20).join("\n")}`,
  );
  assert.ok(
    hp.logs.some((l) => / relay_ws\/relay .* 101 /.test(l)),
    `HAProxy logged no WebSocket upgrade:\n${hp.logs.slice(-20).join("\n")}`,
  );
});
