/** Measuring and drawing polish in Chromium: panel values, the measure tool, Esc, circles, snapping. */
import assert from "assert";
import type { Page } from "playwright-core";
import { ALICE, BOB, launchChromium, newPerson, screenshot, waitLive } from "./_browser.ts";
import { createMap, startRelay } from "./_relay.ts";
import type {} from "../public/src/debug.ts";

const BOX = { type: "Polygon" as const, coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]] };
const LINE = { type: "LineString" as const, coordinates: [[20, 10], [21, 10.5]] };

/** Where `[lng, lat]` is on the page now. */
async function at(page: Page, lngLat: [number, number]): Promise<{ x: number; y: number }> {
  return await page.evaluate((p) => globalThis.duplex!.pagePoint(p), lngLat);
}

/** Clicks the map at `[lng, lat]`, moving there first as a hand would (Geoman snaps on moves). */
async function clickAt(page: Page, lngLat: [number, number], dx = 0, dy = 0): Promise<void> {
  const p = await at(page, lngLat);
  await page.mouse.move(p.x + dx + 30, p.y + dy + 30, { steps: 4 });
  await page.mouse.move(p.x + dx, p.y + dy, { steps: 8 });
  // Geoman refreshes its list of layers to snap to at most every 100 ms.
  await page.waitForTimeout(150);
  await page.mouse.click(p.x + dx, p.y + dy);
  await page.waitForTimeout(80);
}

/** The number in a readout such as "Distance: 111 km (68.7 mi)", in its first unit. */
function firstNumber(text: string): number {
  const m = /([\d,]+(?:\.\d+)?)/.exec(text);
  assert.ok(m, `no number in "${text}"`);
  return Number(m[1].replaceAll(",", ""));
}

Deno.test("measuring and drawing in Chromium: panel values, a measure tool that sends nothing, Esc, circles, snapping", async (t) => {
  await using relay = await startRelay({ args: ["--memory"] });
  const browser = await launchChromium();
  try {
    const created = await createMap(relay.url, "Measures");
    const editUrl = `${relay.url}/m/${created.id}#key=${created.editKey}`;
    const a = await newPerson(browser, ALICE);
    const b = await newPerson(browser, BOB);
    const v = await newPerson(browser, { name: "Vera", color: "#16a34a" });
    // Every edit frame A's page sends, over WebSocket.
    const sentEdits: string[] = [];
    a.page.on("websocket", (ws) =>
      ws.on("framesent", (f) => {
        if (typeof f.payload === "string" && f.payload.includes('"edit"')) {
          sentEdits.push(f.payload);
        }
      }));
    await a.page.goto(editUrl);
    await waitLive(a.page);
    await b.page.goto(editUrl);
    await waitLive(b.page);

    await t.step(
      "the empty panel speaks to editors as editors and to viewers as viewers",
      async () => {
        await a.page.locator("#props-body .hint", {
          hasText:
            "Click a feature to edit its properties, or draw one with the tools on the left.",
        }).waitFor();
        await v.page.goto(`${relay.url}/m/${created.id}#key=${created.viewKey}`);
        await waitLive(v.page);
        assert.equal(
          await v.page.locator("#props-body .hint").innerText(),
          "Click a feature to see its properties.",
        );
      },
    );

    await t.step(
      "the panel shows a selected polygon's area and perimeter, a line's length",
      async () => {
        await a.page.evaluate(async ([box, line]) => {
          await globalThis.duplex!.sendEdit([
            { op: "put", feature: { type: "Feature", id: "box", geometry: box, properties: {} } },
            { op: "put", feature: { type: "Feature", id: "line", geometry: line, properties: {} } },
          ]);
        }, [BOX, LINE] as const);
        await a.page.evaluate(() => {
          globalThis.duplex!.setView([0.5, 0.5], 8);
          globalThis.duplex!.select("box");
        });
        // Chromium's language here is en-US, which measures in miles too (the scale bar's rule).
        const area = await a.page.locator('[data-measure="area"]').innerText();
        assert.equal(area, "12,309 km² (4,752 mi²)");
        assert.equal(
          await a.page.locator('[data-measure="perimeter"]').innerText(),
          "444 km (276 mi)",
        );
        await screenshot(a.page, "measure-01-panel-area");
        await a.page.evaluate(() => globalThis.duplex!.select("line"));
        assert.match(await a.page.locator('[data-measure="length"]').innerText(), /^1\d\d km \(/);
        await a.page.evaluate(() => globalThis.duplex!.select(null));
      },
    );

    await t.step(
      "the measure tool measures a known distance and area, and adds and sends nothing",
      async () => {
        const count = await a.page.evaluate(() => globalThis.duplex!.featureCount());
        const log = await a.page.evaluate(() => globalThis.duplex!.editLog().length);
        const sent = sentEdits.length;
        await a.page.locator(".measure-button").click();
        // Over the box feature: measuring takes the clicks, nothing gets selected.
        await clickAt(a.page, [0, 0]);
        await clickAt(a.page, [0, 1]);
        const distance = await a.page.locator(".measure-readout").innerText();
        assert.match(distance, /^Distance: /);
        // 110.57 km on WGS84, within a pixel at this zoom (~0.6 km).
        const km = firstNumber(distance);
        assert.ok(km >= 110 && km <= 111, distance);
        await clickAt(a.page, [1, 1]);
        await clickAt(a.page, [1, 0]);
        await clickAt(a.page, [0, 0]);
        const area = await a.page.locator(".measure-readout").innerText();
        assert.match(area, /^Area: [\d,]+ km² .* · Perimeter: /);
        const km2 = firstNumber(area);
        assert.ok(Math.abs(km2 - 12_309) < 150, area);
        await screenshot(a.page, "measure-02-tool-area");
        assert.equal(await a.page.evaluate(() => globalThis.duplex!.selected()), null);
        await a.page.keyboard.press("Escape");
        assert.equal(await a.page.locator(".measure-readout").isVisible(), false);
        assert.equal(await a.page.locator("#map.measuring").count(), 0);
        await a.page.waitForTimeout(300);
        assert.equal(await a.page.evaluate(() => globalThis.duplex!.featureCount()), count);
        assert.equal(await a.page.evaluate(() => globalThis.duplex!.editLog().length), log);
        assert.equal(await a.page.evaluate(() => globalThis.duplex!.pendingCount()), 0);
        assert.equal(sentEdits.length, sent, "no edit frame was sent while measuring");
      },
    );

    await t.step("Esc during a polygon draw leaves no feature and ends the drawing", async () => {
      const count = await a.page.evaluate(() => globalThis.duplex!.featureCount());
      await a.page.evaluate(() => globalThis.duplex!.setView([40.5, 40.5], 8));
      const tool = await a.page.locator(".leaflet-pm-icon-polygon").boundingBox();
      assert.ok(tool);
      await a.page.locator(".leaflet-pm-icon-polygon").click();
      // A shape started just right of the toolbar, where Geoman puts its action bar by default.
      const spots = [[120, 0], [120, 200], [320, 200]].map(([dx, dy]) => ({
        x: tool.x + tool.width + dx,
        y: tool.y + tool.height / 2 + dy,
      }));
      const bar = await a.page.locator(".button-container.active .leaflet-pm-actions-container")
        .boundingBox();
      assert.ok(bar, "the action bar is shown while drawing");
      for (const { x, y } of spots) {
        const inside: boolean = x >= bar.x && x <= bar.x + bar.width && y >= bar.y &&
          y <= bar.y + bar.height;
        assert.ok(!inside, `the action bar covers ${x},${y}`);
        await a.page.mouse.move(x, y, { steps: 4 });
        await a.page.mouse.click(x, y);
        await a.page.waitForTimeout(100);
      }
      await screenshot(a.page, "measure-03-drawing-action-bar");
      await a.page.keyboard.press("Escape");
      // Clicks after Esc draw nothing: were the tool still on, they would close a polygon.
      for (const { x, y } of [{ x: spots[0].x, y: spots[2].y - 100 }, spots[0]]) {
        await a.page.mouse.click(x, y);
        await a.page.waitForTimeout(100);
      }
      await a.page.waitForTimeout(300);
      assert.equal(await a.page.evaluate(() => globalThis.duplex!.featureCount()), count);
      assert.equal(await a.page.locator(".leaflet-pm-toolbar .button-container.active").count(), 0);
    });

    await t.step(
      "a circle is stored as a Polygon with its centre and radius, seen so by a second page",
      async () => {
        await a.page.evaluate(() => globalThis.duplex!.setView([60.5, 30], 8));
        await a.page.locator(".leaflet-pm-icon-circle").click();
        await clickAt(a.page, [60.5, 30]);
        await clickAt(a.page, [60.5, 30.5]);
        await b.page.waitForFunction(() =>
          globalThis.duplex!.features().some((f) => f.properties["circle-radius-m"] !== undefined)
        );
        const circle = (await b.page.evaluate(() => globalThis.duplex!.features())).find((f) =>
          f.properties["circle-radius-m"] !== undefined
        )!;
        const g = circle.geometry;
        assert.equal(g?.type === "Polygon" && g.coordinates[0].length, 65);
        const [lng, lat] = circle.properties["circle-center"] as number[];
        assert.ok(Math.abs(lng - 60.5) < 0.02 && Math.abs(lat - 30) < 0.02, `centre ${lng},${lat}`);
        // Half a degree of latitude north: about 55.4 km.
        const r = circle.properties["circle-radius-m"] as number;
        assert.ok(Math.abs(r - 55_400) < 1_000, `radius ${r}`);
        await b.page.evaluate((fid) => {
          globalThis.duplex!.setView([60.5, 30], 8);
          globalThis.duplex!.select(fid);
        }, circle.id);
        await b.page.waitForTimeout(300);
        await screenshot(b.page, "measure-04-circle-second-page");
      },
    );

    await t.step("a stored circle is moved as a circle: the centre property follows", async () => {
      const before = (await a.page.evaluate(() => globalThis.duplex!.features())).find((f) =>
        f.properties["circle-radius-m"] !== undefined
      )!;
      const [lng, lat] = before.properties["circle-center"] as number[];
      await a.page.evaluate(() => globalThis.duplex!.setView([60.5, 30], 8));
      await a.page.locator(".leaflet-pm-icon-drag").click();
      const from = await at(a.page, [lng, lat]);
      await a.page.mouse.move(from.x, from.y);
      await a.page.mouse.down();
      await a.page.mouse.move(from.x + 120, from.y, { steps: 10 });
      await a.page.mouse.up();
      await a.page.locator(".leaflet-pm-icon-drag").click();
      await b.page.waitForFunction(
        ([fid, was]) => {
          const c = globalThis.duplex!.feature(fid)?.properties["circle-center"];
          return Array.isArray(c) && c[0] !== was;
        },
        [before.id, lng] as const,
      );
      const after = (await b.page.evaluate((fid) => globalThis.duplex!.feature(fid), before.id))!;
      const [lng2, lat2] = after.properties["circle-center"] as number[];
      assert.ok(lng2 - lng > 0.3 && Math.abs(lat2 - lat) < 0.02, `moved to ${lng2},${lat2}`);
      assert.equal(after.properties["circle-radius-m"], before.properties["circle-radius-m"]);
      const g = after.geometry;
      assert.equal(g?.type === "Polygon" && g.coordinates[0].length, 65);
    });

    await t.step(
      "snapping: a new line's end placed near an existing vertex ends exactly on it",
      async () => {
        await a.page.evaluate(() => globalThis.duplex!.setView([20.5, 10.5], 8));
        const before = new Set(
          (await a.page.evaluate(() => globalThis.duplex!.features())).map((f) => f.id),
        );
        await a.page.locator(".leaflet-pm-icon-polyline").click();
        await clickAt(a.page, [20.2, 11]);
        // 6 px off the line's end vertex (21, 10.5): within the 20 px snap distance.
        await clickAt(a.page, [21, 10.5], 6, -4);
        // Clicking the last vertex again finishes the line.
        await clickAt(a.page, [21, 10.5], 6, -4);
        await b.page.waitForFunction(
          (n) => globalThis.duplex!.featureCount() === n,
          before.size + 1,
        );
        const made = (await b.page.evaluate(() => globalThis.duplex!.features())).find((f) =>
          !before.has(f.id)
        )!;
        const g = made.geometry;
        assert.equal(g?.type, "LineString");
        const coords = g?.type === "LineString" ? g.coordinates : [];
        assert.deepEqual(coords[coords.length - 1], [21, 10.5]);
        await b.page.evaluate((fid) => {
          globalThis.duplex!.setView([20.7, 10.6], 9);
          globalThis.duplex!.select(fid);
        }, made.id);
        await b.page.waitForTimeout(300);
        await screenshot(b.page, "measure-05-snapped-line");
      },
    );

    for (const p of [a, b, v]) assert.deepEqual(p.errors, []);
  } finally {
    await browser.close();
  }
});
