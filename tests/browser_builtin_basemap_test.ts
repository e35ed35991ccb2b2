/** The built-in offline basemap in real Chromium: land by zoom and GeoNames place names, nothing fetched from outside. */
import assert from "assert";
import type { Page } from "playwright-core";
import { ALICE, launchChromium, newPerson, screenshot, waitLive } from "./_browser.ts";
import { createMap, startRelay } from "./_relay.ts";
import type {} from "../public/src/debug.ts";

const LABELS = ".place-labels .place-label";

/** The place names the page shows, as text. */
function labels(page: Page): Promise<string[]> {
  return page.locator(LABELS).allTextContents();
}

/** Moves the map and waits until the labels for the new view are drawn and include `name`. */
async function showAndWaitFor(
  page: Page,
  center: [number, number],
  zoom: number,
  name: string,
): Promise<void> {
  const answered = page.waitForResponse((r) => r.url().includes("/api/places?bbox="));
  await page.evaluate(([c, z]) => globalThis.duplex?.setView(c, z), [center, zoom] as const);
  await answered;
  await page.locator(LABELS).filter({ hasText: new RegExp(`^${name}$`) }).waitFor();
}

/** How many pairs of labels overlap on screen (read in one go, in the page). */
function overlappingLabels(page: Page): Promise<number> {
  return page.evaluate(`(() => {
    const boxes = Array.from(document.querySelectorAll(${JSON.stringify(LABELS)}),
      (e) => e.getBoundingClientRect());
    let pairs = 0;
    boxes.forEach((a, i) => boxes.slice(i + 1).forEach((b) => {
      if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) pairs++;
    }));
    return pairs;
  })()`);
}

// Runs in the page (its PNG decoder is free): distinct colours of a screenshot and how many
// pixels have the land's fill colour. Strings, as the tests are type-checked without the DOM.
const COUNT_PIXELS = `async (data) => {
  const image = new Image();
  image.src = "data:image/png;base64," + data; // the page's CSP allows data: images, not fetches
  await image.decode();
  const canvas = new OffscreenCanvas(image.width, image.height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0);
  const rgba = ctx.getImageData(0, 0, image.width, image.height).data;
  const seen = new Set();
  let land = 0;
  for (let i = 0; i < rgba.length; i += 4) {
    seen.add((rgba[i] << 16) | (rgba[i + 1] << 8) | rgba[i + 2]);
    if (rgba[i] === 0xf4 && rgba[i + 1] === 0xf1 && rgba[i + 2] === 0xea) land++;
  }
  return { distinct: seen.size, land };
}`;

/** Colour counts of a screenshot: how many distinct colours, how many land pixels. */
async function pixels(page: Page, png: Uint8Array): Promise<{ distinct: number; land: number }> {
  const base64 = btoa(Array.from(png, (b) => String.fromCharCode(b)).join(""));
  return await page.evaluate(`(${COUNT_PIXELS})(${JSON.stringify(base64)})`);
}

/** The most populous place in the page's current view, from the relay's own gazetteer. */
async function biggestInView(page: Page, base: string): Promise<string> {
  const bbox = await page.evaluate(() => globalThis.duplex?.view().bbox);
  assert.ok(bbox);
  const res = await fetch(`${base}/api/places?bbox=${bbox.join(",")}&limit=1`);
  return (await res.json()).places[0].name;
}

Deno.test("the built-in basemap shows land by zoom and place names, all from the relay", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const browser = await launchChromium();
  try {
    const created = await createMap(relay.url, "Basemap");
    const person = await newPerson(browser, ALICE);
    const { page } = person;
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(`${relay.url}/m/${created.id}#key=${created.editKey}`);
    await waitLive(page);
    await page.waitForFunction(() =>
      performance.getEntriesByName("duplexmap:basemap-painted").length > 0
    );
    // The world view needs only the coarse scale; the detailed ones wait for the zoom.
    const assetsAtStart = requests.filter((u) => u.includes("/assets/countries-"));
    assert.deepEqual(assetsAtStart.map((u) => new URL(u).pathname), [
      "/assets/countries-110m.json",
    ]);

    // Zoom 3 over Europe: land and sea, and the biggest cities by name.
    await showAndWaitFor(page, [15, 50], 3, "London");
    const europe = await labels(page);
    const biggest = await biggestInView(page, relay.url);
    assert.ok(europe.includes(biggest), `${biggest} in ${europe.join(", ")}`);
    for (const city of ["London", "Paris", "Berlin", "Rome"]) {
      assert.ok(europe.includes(city), `${city} in ${europe.join(", ")}`);
    }
    const atZoom3 = await pixels(page, await page.screenshot());
    await screenshot(page, "basemap-z3-europe");
    assert.ok(atZoom3.land > 10_000, `land pixels at zoom 3: ${atZoom3.land}`);
    assert.ok(atZoom3.distinct > 50, `colours at zoom 3: ${atZoom3.distinct}`);
    assert.ok(requests.some((u) => u.endsWith("/assets/countries-50m.json")));
    assert.ok(!requests.some((u) => u.endsWith("/assets/countries-10m.json")));

    // Zoom 5 on the antimeridian: Fiji's land in one piece, and Apia (at -171.8) east of Nasinu
    // (Fiji, at 178.5), on the same side of the map as the view, not a world away.
    await showAndWaitFor(page, [180, -17], 5, "Apia");
    const pacific = await labels(page);
    assert.ok(pacific.includes("Nasinu"), pacific.join(", "));
    const x = async (name: string) =>
      (await page.locator(LABELS).filter({ hasText: new RegExp(`^${name}$`) }).boundingBox())?.x ??
        NaN;
    const [fijiX, apiaX] = [await x("Nasinu"), await x("Apia")];
    assert.ok(apiaX > fijiX && apiaX - fijiX < 900, `Nasinu at x=${fijiX}, Apia at x=${apiaX}`);
    await screenshot(page, "basemap-z5-antimeridian");
    assert.ok((await pixels(page, await page.screenshot())).land > 500);
    // Samoa's land is drawn around Apia, on the world copy east of 180°.
    const apia = await page.locator(LABELS).filter({ hasText: /^Apia$/ }).boundingBox();
    assert.ok(apia);
    const samoa = await page.screenshot({
      clip: { x: apia.x - 30, y: apia.y - 10, width: 40, height: apia.height + 20 },
    });
    assert.ok((await pixels(page, samoa)).land > 20, "land around Apia");

    // Zoom 10 over Barcelona: the 1:10m coast, the city and its neighbours by name.
    await showAndWaitFor(page, [2.17, 41.39], 10, "Barcelona");
    const city = await labels(page);
    assert.equal(await biggestInView(page, relay.url), "Barcelona");
    assert.ok(city.length >= 5, `labels at zoom 10: ${city.join(", ")}`);
    assert.ok(requests.some((u) => u.endsWith("/assets/countries-10m.json")));
    // Labels never overlap: the decluttering leaves every box apart.
    assert.equal(await overlappingLabels(page), 0);
    const atZoom10 = await pixels(page, await page.screenshot());
    await screenshot(page, "basemap-z10-barcelona");
    assert.ok(atZoom10.land > 10_000, `land pixels at zoom 10: ${atZoom10.land}`);
    assert.ok(atZoom10.distinct > 50, `colours at zoom 10: ${atZoom10.distinct}`);

    // Everything came from the relay.
    const outside = requests.filter((u) =>
      !u.startsWith(`${relay.url}/`) && !u.startsWith("data:") && !u.startsWith("blob:")
    );
    assert.deepEqual(outside, []);
    assert.ok(requests.some((u) => u.includes("/api/places?bbox=")));
    const attribution = await page.locator(".leaflet-control-attribution").textContent();
    assert.match(attribution ?? "", /Natural Earth/);
    assert.match(attribution ?? "", /GeoNames/);
    assert.deepEqual(person.errors, []);
    await person.context.close();
  } finally {
    await browser.close();
  }
});
