/** End-to-end: behind a gateway that strips WebSocket upgrades, two Chromiums edit over the HTTP fallback. */
import assert from "assert";
import type { Page } from "playwright-core";
import { ALICE, BOB, launchChromium, newPerson, screenshot, waitLive } from "./_browser.ts";
import { chromiumCaHome, startHaproxy } from "./_haproxy.ts";
import { createMap, startRelay } from "./_relay.ts";
import type {} from "../public/src/debug.ts";

const RELAY_ARGS = ["--trust-proxy", "127.0.0.1"];

function point(id: string, lng: number, lat: number, properties: Record<string, unknown> = {}) {
  return {
    op: "put" as const,
    feature: {
      type: "Feature" as const,
      id,
      geometry: { type: "Point" as const, coordinates: [lng, lat] },
      properties,
    },
  };
}

/** How many times an edit id appears in the page's log of accepted edits. */
function timesSeen(page: Page, id: string): Promise<number> {
  return page.evaluate(
    (id) => (globalThis.duplex?.editLog() ?? []).filter((e) => e.id === id).length,
    id,
  );
}

/** Edit ids A's page gave its last `n` accepted edits. */
function lastEditIds(page: Page, n: number): Promise<(string | number)[]> {
  return page.evaluate((n) => (globalThis.duplex?.editLog() ?? []).slice(-n).map((e) => e.id), n);
}

Deno.test("through a gateway that strips Upgrade, two browsers edit together over the HTTP fallback, across a relay crash", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "duplexmap-fallback-" });
  let relay = await startRelay({ args: RELAY_ARGS, dataDir });
  try {
    await using hp = await startHaproxy({ relayPort: relay.port, stripUpgrade: true });
    await using trust = await chromiumCaHome(hp.caFile);
    const map = await createMap(relay.url, "Behind the gateway");
    const url = `${hp.stripUpgradeUrl}/m/${map.id}#key=${map.editKey}`;
    const browser = await launchChromium({ env: trust.env });
    try {
      const a = await newPerson(browser, ALICE);
      const b = await newPerson(browser, BOB);

      await t.step("both pages find the WebSocket blocked and go live over HTTP", async () => {
        for (const p of [a, b]) {
          await p.page.goto(url);
          await waitLive(p.page);
          assert.equal(
            await p.page.evaluate(() => globalThis.duplex?.status().transport),
            "http fallback",
          );
          assert.match(await p.page.locator("#status").innerText(), /^Live · http fallback/);
        }
        await a.page.locator(".peer", { hasText: "Bob" }).waitFor();
        // The relay saw two fallback sessions, and the gateway really took WebSockets away:
        // HAProxy logged the relay's 426 answer to the stripped handshakes.
        const connects = relay.logs.filter((l) => l.event === "connect");
        assert.deepEqual(connects.map((l) => l.transport), ["http", "http"]);
        assert.ok(
          hp.logs.some((l) => l.includes("https_strip_upgrade") && / 426 /.test(l)),
          `HAProxy logged no 426 for a stripped upgrade:\n${hp.logs.slice(-20).join("\n")}`,
        );
      });

      await t.step("A's edits reach B exactly once, B's reach A, presence flows", async () => {
        const put = await a.page.evaluate(
          (op) => globalThis.duplex?.sendEdit([op]),
          point("well", 10, 20, { kind: "well" }),
        );
        assert.equal(put?.ok, true, JSON.stringify(put));
        await b.page.waitForFunction(() => globalThis.duplex?.feature("well") !== null);
        const [putId] = await lastEditIds(a.page, 1);
        assert.equal(await timesSeen(b.page, String(putId)), 1);

        const props = await b.page.evaluate(() =>
          globalThis.duplex?.sendEdit([{ op: "props", fid: "well", set: { depth: 40 } }])
        );
        assert.equal(props?.ok, true, JSON.stringify(props));
        await a.page.waitForFunction(() =>
          globalThis.duplex?.feature("well")?.properties.depth === 40
        );

        // A burst from A while earlier POSTs are in flight: batched upstream, all in order.
        const burst = await a.page.evaluate(async () => {
          const d = globalThis.duplex!;
          const outcomes = await Promise.all(
            Array.from(
              { length: 20 },
              (_, i) => d.sendEdit([{ op: "props", fid: "well", set: { n: i } }]),
            ),
          );
          return outcomes.map((o) => o.ok);
        });
        assert.deepEqual(burst, Array(20).fill(true));
        await b.page.waitForFunction(() => globalThis.duplex?.feature("well")?.properties.n === 19);
        const aLog = await a.page.evaluate(() => globalThis.duplex?.editLog() ?? []);
        const bLog = await b.page.evaluate(() => globalThis.duplex?.editLog() ?? []);
        assert.deepEqual(bLog, aLog, "both saw the same edits in the same order, each once");
        assert.equal(new Set(bLog.map((e) => e.id)).size, bLog.length);

        // A's pointer over the map shows up on B's map.
        const box = await a.page.locator("#map").boundingBox();
        assert.ok(box);
        await a.page.mouse.move(box.x + 200, box.y + 200);
        await a.page.mouse.move(box.x + 260, box.y + 230, { steps: 5 });
        await b.page.locator(".peer-cursor span", { hasText: "Alice" }).waitFor({
          state: "visible",
        });
        await b.page.waitForTimeout(300);
        await screenshot(b.page, "fallback-01-b-sees-a-over-http");
      });

      await t.step(
        "the relay is killed (streams cut) and restarted: both reconnect over HTTP, nothing lost",
        async () => {
          await relay.kill();
          await a.page.waitForFunction(() => globalThis.duplex?.status().state !== "live");
          await b.page.waitForFunction(() => globalThis.duplex?.status().state !== "live");
          // Edits made while the relay is away wait on each page.
          await a.page.evaluate(
            (op) => void globalThis.duplex?.sendEdit([op]),
            point("camp", 11, 21),
          );
          await b.page.evaluate(() =>
            void globalThis.duplex?.sendEdit([{ op: "props", fid: "well", set: { checked: true } }])
          );
          assert.equal(await a.page.evaluate(() => globalThis.duplex?.pendingCount()), 1);
          await screenshot(a.page, "fallback-02-a-offline");

          relay = await startRelay({ args: RELAY_ARGS, dataDir, port: relay.port });
          for (const p of [a, b]) {
            await waitLive(p.page, 30_000);
            await p.page.waitForFunction(() => globalThis.duplex?.pendingCount() === 0);
            assert.equal(
              await p.page.evaluate(() => globalThis.duplex?.status().transport),
              "http fallback",
            );
          }
          await b.page.waitForFunction(() => globalThis.duplex?.feature("camp") !== null);
          await a.page.waitForFunction(() =>
            globalThis.duplex?.feature("well")?.properties.checked === true
          );
          const aLog = await a.page.evaluate(() => globalThis.duplex?.editLog() ?? []);
          const bLog = await b.page.evaluate(() => globalThis.duplex?.editLog() ?? []);
          assert.deepEqual(bLog, aLog);
          assert.equal(new Set(bLog.map((e) => e.id)).size, bLog.length, "no edit arrived twice");
          assert.equal(
            aLog.length,
            24,
            "1 put + 1 props + 20 burst + 2 made while the relay was down",
          );
          assert.deepEqual(
            await a.page.evaluate(() => globalThis.duplex?.features()),
            await b.page.evaluate(() => globalThis.duplex?.features()),
          );
          // The new relay serves them over HTTP too (the page remembers that WebSockets are blocked).
          const connects = relay.logs.filter((l) => l.event === "connect");
          assert.deepEqual(connects.map((l) => l.transport), ["http", "http"]);
          await a.page.waitForTimeout(300);
          await screenshot(a.page, "fallback-03-a-after-restart");
        },
      );

      await t.step(
        "B goes offline, edits, comes back over HTTP; A gets each edit once",
        async () => {
          await b.context.setOffline(true);
          await b.page.waitForFunction(() => globalThis.duplex?.status().state !== "live");
          const aSeqBefore = await a.page.evaluate(() => globalThis.duplex?.seq() ?? 0);
          await b.page.evaluate(() => {
            const d = globalThis.duplex!;
            d.sendEdit([{ op: "props", fid: "camp", set: { note: "offline 1" } }]);
            d.sendEdit([{ op: "props", fid: "camp", set: { note: "offline 2" } }]);
          });
          await b.page.locator("#status", { hasText: "Offline · 2 unsent edits" }).waitFor();
          await b.context.setOffline(false);
          await waitLive(b.page, 20_000);
          await b.page.waitForFunction(() => globalThis.duplex?.pendingCount() === 0);
          await a.page.waitForFunction(() =>
            globalThis.duplex?.feature("camp")?.properties.note === "offline 2"
          );
          const fromB = (await a.page.evaluate(() => globalThis.duplex?.editLog() ?? []))
            .filter((e) => e.seq > aSeqBefore);
          assert.equal(fromB.length, 2, `A saw ${JSON.stringify(fromB)}`);
          assert.equal(new Set(fromB.map((e) => e.id)).size, 2, "no edit arrived twice");
          assert.equal(
            await b.page.evaluate(() => globalThis.duplex?.status().transport),
            "http fallback",
          );
          await screenshot(b.page, "fallback-04-b-back-online");
        },
      );

      // Expected console noise: Chromium reports the stripped handshake (426) once per page, and
      // failed requests while the relay was down. Anything else is a bug in the page.
      const expected = /Unexpected response code: 426|Failed to load resource|net::ERR_/;
      for (const p of [a, b]) assert.deepEqual(p.errors.filter((e) => !expected.test(e)), []);
      for (const p of [a, b]) {
        assert.equal(
          p.errors.filter((e) => /Unexpected response code: 426/.test(e)).length,
          1,
          "the WebSocket is tried only once per page",
        );
      }
    } finally {
      await browser.close();
    }
  } finally {
    await relay.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
