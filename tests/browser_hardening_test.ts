/** The map client in Chromium against hostile networks and data: buffering gateways, bad links, deep properties. */
import assert from "assert";
import type { Browser } from "playwright-core";
import {
  ALICE,
  BOB,
  excuseOfflineErrors,
  launchChromium,
  newPerson,
  type Person,
  screenshot,
  waitLive,
} from "./_browser.ts";
import { startGateway } from "./_gateway.ts";
import { createMap, startRelay } from "./_relay.ts";
import type {} from "../public/src/debug.ts";
import type { Geometry } from "../relay/protocol.ts";

/**
 * The errors a page may log here: Chromium logs the fallback's probe (`GET /ws/<id>` without an
 * upgrade, answered 426 by the relay) as a failed resource, and a refused WebSocket as an error.
 */
function unexpected(errors: string[]): string[] {
  return errors.filter((e) => !/status of 426|WebSocket connection to/.test(e));
}

/** A short welcome timeout for the pages behind a gateway, so the tests do not wait 10 s. */
const WELCOME_TIMEOUT = "?welcomeTimeoutMs=2000";

async function withBrowser(run: (browser: Browser) => Promise<void>): Promise<void> {
  const browser = await launchChromium();
  try {
    await run(browser);
  } finally {
    await browser.close();
  }
}

/** A's edit reaches B and B's reaches A. */
async function editsFlow(a: Person, b: Person): Promise<void> {
  await a.page.evaluate(() =>
    globalThis.duplex?.sendEdit([{
      op: "put",
      feature: {
        type: "Feature",
        id: "from-a",
        geometry: { type: "Point", coordinates: [5, 5] },
        properties: {},
      },
    }])
  );
  await b.page.waitForFunction(() => globalThis.duplex?.feature("from-a") !== null);
  await b.page.evaluate(() =>
    globalThis.duplex?.sendEdit([{ op: "props", fid: "from-a", set: { seen: "by B" } }])
  );
  await a.page.waitForFunction(() =>
    globalThis.duplex?.feature("from-a")?.properties.seen === "by B"
  );
}

Deno.test("behind a gateway that passes the 101 and buffers frames, the page goes live over HTTP", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  await using gateway = startGateway(relay.port, "buffer");
  const map = await createMap(relay.url, "Buffered");
  await withBrowser(async (browser) => {
    const a = await newPerson(browser, ALICE);
    const b = await newPerson(browser, BOB);
    await a.page.goto(`${gateway.url}/m/${map.id}${WELCOME_TIMEOUT}#key=${map.editKey}`);
    await waitLive(a.page);
    assert.equal(
      await a.page.evaluate(() => globalThis.duplex?.status().transport),
      "http fallback",
    );
    assert.ok(gateway.upgrades >= 1, "the page tried the WebSocket through the gateway first");
    assert.ok(gateway.heldBytes > 0, "the gateway held the relay's welcome back");
    await b.page.goto(`${relay.url}/m/${map.id}#key=${map.editKey}`);
    await waitLive(b.page);
    await editsFlow(a, b);
    await a.page.locator(".peer", { hasText: "Bob" }).waitFor();
    await screenshot(a.page, "h12-buffering-gateway-live-over-http");
    assert.deepEqual(unexpected([...a.errors, ...b.errors]), []);
  });
});

Deno.test("a gateway's own policy close (1008, another reason) is not a bad link: the page goes live over HTTP", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  await using gateway = startGateway(relay.port, "policy-close");
  const map = await createMap(relay.url, "Policy");
  await withBrowser(async (browser) => {
    const a = await newPerson(browser, ALICE);
    await a.page.goto(`${gateway.url}/m/${map.id}${WELCOME_TIMEOUT}#key=${map.editKey}`);
    await waitLive(a.page);
    assert.equal(
      await a.page.evaluate(() => globalThis.duplex?.status().transport),
      "http fallback",
    );
    assert.equal(await a.page.locator("#link-invalid").isVisible(), false);
    assert.equal(await a.page.locator("#share").isEnabled(), true);
    assert.ok(gateway.upgrades >= 1);
    await screenshot(a.page, "h12-policy-close-live-over-http");
    assert.deepEqual(unexpected(a.errors), []);
  });
});

Deno.test("a page whose WebSocket worked stays on it when the network returns while it checks for a proxy", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url, "Flaky");
  await withBrowser(async (browser) => {
    const a = await newPerson(browser, ALICE);
    await a.page.goto(`${relay.url}/m/${map.id}#key=${map.editKey}`);
    await waitLive(a.page);
    const from = a.errors.length;
    await a.context.setOffline(true);
    await a.page.waitForFunction(() => globalThis.duplex?.status().state !== "live");
    // The next WebSocket fails (offline) and the page asks whether the relay answers plain HTTP;
    // the network comes back just as that question goes out, so the answer is yes.
    let probes = 0;
    await a.page.route(`**/ws/${map.id}`, async (route) => {
      probes++;
      await a.context.setOffline(false);
      await route.continue();
    });
    await a.page.waitForFunction(() => globalThis.duplex?.status().state === "live", null, {
      timeout: 30_000,
    });
    assert.ok(probes >= 1, "the page asked the relay over HTTP after the WebSocket failed");
    assert.equal(
      await a.page.evaluate(() => globalThis.duplex?.status().transport),
      "websocket",
      "a failure while offline is no proxy: the page is back on its WebSocket",
    );
    excuseOfflineErrors(a, from);
    assert.deepEqual(unexpected(a.errors), []);
  });
});

Deno.test("a link with a wrong key shows one clear 'not valid' state, with nothing to edit or share, and stops", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url, "Secret");
  await withBrowser(async (browser) => {
    const a = await newPerson(browser, ALICE);
    let sockets = 0;
    a.page.on("websocket", () => sockets++);
    await a.page.goto(`${relay.url}/m/${map.id}#key=wrongkey`);
    const message = a.page.locator("#link-invalid");
    await message.waitFor({ state: "visible" });
    assert.match(
      await message.innerText(),
      /This link is not valid: the map does not exist or the key is wrong\. Ask for a new link\./,
    );
    assert.equal(await a.page.locator("#map-title").innerText(), "Link not valid");
    assert.equal(await a.page.locator("#status").innerText(), "Link not valid");
    for (const id of ["#import", "#share", "#undo", "#redo"]) {
      assert.equal(await a.page.locator(id).isEnabled(), false, `${id} is disabled`);
    }
    assert.equal(await a.page.locator(".leaflet-pm-toolbar").count(), 0, "no drawing tools");
    // A file handed to the (disabled) import imports nothing, not even into the page's own copy.
    // (A string, as these tests are type-checked without the DOM library.)
    await a.page.evaluate(`{
      const data = new DataTransfer();
      data.items.add(new File(['{"type":"Point","coordinates":[1,2]}'], "p.geojson"));
      const input = document.getElementById("import-file");
      input.files = data.files;
      input.dispatchEvent(new Event("change"));
    }`);
    // Long enough for several reconnects had the page kept trying (the first backoff is < 1 s).
    await a.page.waitForTimeout(3_000);
    assert.equal(sockets, 1, "one WebSocket attempt, no reconnect loop");
    assert.equal(await a.page.evaluate(() => globalThis.duplex?.featureCount()), 0);
    assert.equal(await a.page.evaluate(() => globalThis.duplex?.status().state), "failed");
    await screenshot(a.page, "h13-wrong-key-link-not-valid");
    assert.deepEqual(unexpected(a.errors), []);
  });
});

Deno.test("export of a property nested 20 000 levels deep, and 'Zoom to' on empty geometries, throw nothing", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url, "Deep");
  await withBrowser(async (browser) => {
    const a = await newPerson(browser, ALICE);
    await a.page.goto(`${relay.url}/m/${map.id}#key=${map.editKey}`);
    await waitLive(a.page);
    const empty: [string, Geometry][] = [
      ["empty-multipoint", { type: "MultiPoint", coordinates: [] }],
      ["empty-collection", { type: "GeometryCollection", geometries: [] }],
    ];
    for (const [id, geometry] of empty) {
      const outcome = await a.page.evaluate(
        ([id, geometry]) =>
          globalThis.duplex?.sendEdit([{
            op: "put",
            feature: { type: "Feature", id, geometry, properties: {} },
          }]),
        [id, geometry] as [string, Geometry],
      );
      assert.equal(outcome?.ok, true, JSON.stringify(outcome));
    }
    for (const fid of ["empty-multipoint", "empty-collection"]) {
      await a.page.evaluate((fid) => globalThis.duplex?.select(fid), fid);
      const zoom = a.page.locator("#props-body button.zoom-to");
      assert.equal(await zoom.isEnabled(), false, `Zoom to is off for ${fid}`);
      assert.equal(await zoom.getAttribute("title"), "This feature has no location");
      // Even a forced click (past the disabled state) must not throw.
      await a.page.evaluate(`{
        const button = document.querySelector("#props-body button.zoom-to");
        button.disabled = false;
        button.click();
      }`);
    }
    await screenshot(a.page, "h14-zoom-to-empty-geometry");

    // The deep property stays in this page's copy (offline), whatever the relay would say of it.
    const offlineFrom = a.errors.length;
    await a.context.setOffline(true);
    await a.page.evaluate(() => {
      let deep: unknown = "bottom";
      for (let i = 0; i < 20_000; i++) deep = { down: deep };
      globalThis.duplex?.sendEdit([{
        op: "put",
        feature: {
          type: "Feature",
          id: "deep",
          geometry: { type: "Point", coordinates: [3, 4] },
          properties: { deep },
        },
      }]);
    });
    const download = a.page.waitForEvent("download");
    await a.page.locator("#export").click();
    await a.page.locator('.export-menu [data-format="geojson"]').click();
    const file = await download;
    const exported = JSON.parse(await Deno.readTextFile(await file.path()));
    const deep = exported.features.find((f: { id: string }) => f.id === "deep");
    let v = deep.properties.deep;
    let levels = 0;
    while (typeof v === "object") {
      v = v.down;
      levels++;
    }
    assert.deepEqual([levels, v], [20_000, "bottom"]);
    assert.equal(exported.features.length, 3);
    excuseOfflineErrors(a, offlineFrom);
    assert.deepEqual(a.errors, []);
  });
});
