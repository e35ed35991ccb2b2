/** Styling, labels and "Changed by" in Chromium against a real relay: what a second page sees. */
import assert from "assert";
import type { Page } from "playwright-core";
import { ALICE, BOB, launchChromium, newPerson, screenshot, waitLive } from "./_browser.ts";
import { createMap, startRelay } from "./_relay.ts";
import type {} from "../public/src/debug.ts";
import type { StoredFeature } from "../relay/protocol.ts";

const feature = (
  id: string,
  geometry: StoredFeature["geometry"],
  properties: Record<string, unknown>,
): StoredFeature => ({ type: "Feature", id, geometry, properties });

const HARBOUR = feature("harbour", {
  type: "Polygon",
  coordinates: [[[9.98, 49.99], [10.02, 49.99], [10.02, 50.01], [9.98, 50.01], [9.98, 49.99]]],
}, { name: "Harbour" });
const FEATURES = [
  HARBOUR,
  feature("kiosk", { type: "Point", coordinates: [10.05, 50.0] }, { name: "Kiosk" }),
  feature("pier", {
    type: "LineString",
    coordinates: [[9.96, 50.02], [10.03, 50.025]],
  }, { title: "North pier" }),
  // Two buoys a few metres apart: their labels would overlap, so only one may show.
  feature("buoy-1", { type: "Point", coordinates: [9.95, 49.985] }, { name: "Buoy one" }),
  feature("buoy-2", { type: "Point", coordinates: [9.9502, 49.9851] }, { name: "Buoy two" }),
];
/** Inside the harbour, away from its label in the middle. */
const IN_HARBOUR: [number, number] = [9.985, 49.995];

// Runs in the page (its PNG decoder is free): the RGB of one pixel of a screenshot. A string, as
// the tests are type-checked without the DOM's types.
const PIXEL_AT = `async ([data, x, y]) => {
  const image = new Image();
  image.src = "data:image/png;base64," + data;
  await image.decode();
  const canvas = new OffscreenCanvas(image.width, image.height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0);
  const [r, g, b] = ctx.getImageData(x, y, 1, 1).data;
  return "#" + [r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("");
}`;

/** The colour of the screenshot `name` at a page point (CSS pixels, device scale 1). */
async function pixel(page: Page, name: string, at: { x: number; y: number }): Promise<string> {
  await screenshot(page, name);
  const png = await page.screenshot();
  const base64 = btoa(Array.from(png, (b) => String.fromCharCode(b)).join(""));
  return await page.evaluate(
    `(${PIXEL_AT})(${JSON.stringify([base64, Math.round(at.x), Math.round(at.y)])})`,
  ) as string;
}

/** Whether two `#rrggbb` colours are within `tolerance` per channel. */
function near(a: string, b: string, tolerance = 6): boolean {
  const channels = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  const [x, y] = [channels(a), channels(b)];
  return x.every((v, i) => Math.abs(v - y[i]) <= tolerance);
}

async function pagePoint(page: Page, at: [number, number]): Promise<{ x: number; y: number }> {
  const p = await page.evaluate((at) => globalThis.duplex?.pagePoint(at), at);
  assert.ok(p);
  return p;
}

/** Waits until page's copy of a feature has `key` equal to `value` (absent for `undefined`). */
async function propIs(page: Page, fid: string, key: string, value: unknown): Promise<void> {
  await page.waitForFunction(
    ([fid, key, value]) => {
      const f = globalThis.duplex?.feature(fid);
      return f !== null && f !== undefined && JSON.stringify(f.properties[key]) === value;
    },
    [fid, key, JSON.stringify(value)] as const,
  );
}

Deno.test("style and labels in Chromium: A's style editor restyles B's map live, undo restores it, labels and 'Changed by'", async (t) => {
  await using relay = await startRelay({ args: ["--memory"] });
  const browser = await launchChromium();
  try {
    const created = await createMap(relay.url, "Style test");
    const a = await newPerson(browser, ALICE);
    const b = await newPerson(browser, BOB);
    await a.page.goto(`${relay.url}/m/${created.id}#key=${created.editKey}`);
    await b.page.goto(`${relay.url}/m/${created.id}#key=${created.viewKey}`);
    await Promise.all([waitLive(a.page), waitLive(b.page)]);
    await a.page.evaluate(
      (fs) => globalThis.duplex?.sendEdit(fs.map((feature) => ({ op: "put", feature }))),
      FEATURES,
    );
    await b.page.waitForFunction(() => globalThis.duplex?.featureCount() === 5);
    for (const p of [a.page, b.page]) {
      await p.evaluate(() => globalThis.duplex?.setView([10, 50], 12));
    }

    await t.step("named features are labelled on B's map, never overlapping", async () => {
      await b.page.waitForFunction(() => (globalThis.duplex?.labels?.() ?? []).length >= 4);
      const shown = (await b.page.evaluate(() => globalThis.duplex?.labels?.() ?? [])).sort();
      assert.deepEqual(shown.filter((f) => !f.startsWith("buoy")), ["harbour", "kiosk", "pier"]);
      assert.equal(shown.filter((f) => f.startsWith("buoy")).length, 1, "one buoy label of two");
      const texts = await b.page.locator(".feature-label").allInnerTexts();
      assert.ok(texts.includes("Harbour") && texts.includes("North pier"), texts.join());
      const boxes = await Promise.all(
        (await b.page.locator(".feature-label").all()).map((l) => l.boundingBox()),
      );
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const [p, q] = [boxes[i]!, boxes[j]!];
          const apart = p.x + p.width <= q.x || q.x + q.width <= p.x ||
            p.y + p.height <= q.y || q.y + q.height <= p.y;
          assert.ok(apart, `labels ${texts[i]} and ${texts[j]} overlap`);
        }
      }
      await screenshot(b.page, "style-01-labels");
    });

    await t.step("each style change in A's editor is one props edit that B draws", async () => {
      const before = (await b.page.evaluate(() => globalThis.duplex?.editLog() ?? [])).length;
      await a.page.evaluate(() => globalThis.duplex?.select("harbour"));
      // A slider moved to its end: one edit, however many input events the move makes.
      await a.page.locator("#style-fill-opacity").fill("1");
      await propIs(b.page, "harbour", "fill-opacity", 1);
      await a.page.evaluate(() => globalThis.duplex?.select("kiosk"));
      await a.page.locator("#style-marker-color").fill("#00aa55");
      await propIs(b.page, "kiosk", "marker-color", "#00aa55");
      await a.page.evaluate(() => globalThis.duplex?.select("harbour"));
      await a.page.locator("#style-fill").fill("#ff8800");
      await propIs(b.page, "harbour", "fill", "#ff8800");
      await a.page.waitForFunction(() => globalThis.duplex?.pendingCount() === 0);
      const log = await b.page.evaluate(() => globalThis.duplex?.editLog() ?? []);
      assert.equal(log.length - before, 3, "three changes, three edits");

      await b.page.locator(".feature-pin").waitFor();
      const fill = await pixel(b.page, "style-02-b-orange", await pagePoint(b.page, IN_HARBOUR));
      assert.ok(near(fill, "#ff8800"), `B's pixel in the harbour is ${fill}, not #ff8800`);
      // The pin's head, left of its white dot: the marker colour.
      const tip = await pagePoint(b.page, [10.05, 50.0]);
      const head = await pixel(b.page, "style-02-b-orange", { x: tip.x - 6, y: tip.y - 20 });
      assert.ok(near(head, "#00aa55", 12), `B's pin is ${head}, not #00aa55`);
    });

    await t.step("undo on A gives B the old colour back", async () => {
      await a.page.locator("#undo").click();
      await propIs(b.page, "harbour", "fill", undefined);
      await b.page.waitForTimeout(100); // one frame for the canvas to repaint
      const fill = await pixel(b.page, "style-03-b-undone", await pagePoint(b.page, IN_HARBOUR));
      assert.ok(near(fill, "#2563eb"), `after undo B's pixel is ${fill}, not the default blue`);
    });

    await t.step(
      "B sees who changed a feature: on hover and in the panel (read-only)",
      async () => {
        const inside = await pagePoint(b.page, IN_HARBOUR);
        await b.page.mouse.move(inside.x, inside.y);
        await b.page.mouse.move(inside.x + 2, inside.y + 1);
        const hover = b.page.locator(".feature-hover");
        await hover.waitFor();
        const text = await hover.innerText();
        assert.match(text, /Harbour/);
        assert.match(text, /Changed by Alice, (just now|\d+ s ago)/);
        await screenshot(b.page, "style-04-b-hover");
        await b.page.evaluate(() => globalThis.duplex?.select("harbour"));
        assert.match(await b.page.locator(".changed-by").innerText(), /^Changed by Alice/);
        assert.equal(
          await b.page.locator("#style-fill").isDisabled(),
          true,
          "a viewer only sees it",
        );
        assert.equal(await b.page.locator("#style-fill").inputValue(), "#2563eb");
        await screenshot(b.page, "style-05-b-panel");
      },
    );
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
  } finally {
    await browser.close();
  }
});
