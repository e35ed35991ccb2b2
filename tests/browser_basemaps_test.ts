/** Basemaps in Chromium: a street-level vector file drawn at zoom 3, 10 and 16, the switcher, its memory, the over-zoom line, the scale bar. */
import assert from "assert";
import type { Page } from "playwright-core";
import type {} from "../public/src/debug.ts";
import type { BasemapInfo } from "../public/src/basemap_list.ts";
import { ALICE, launchChromium, mapBox, newPerson, screenshot, waitLive } from "./_browser.ts";
import { createMap, startRelay } from "./_relay.ts";
import { STREET_CENTER, writeTileFixtures } from "./_tiles_fixture.ts";

/** How varied a square of the map looks on screen: distinct colours, and pixels off the commonest one. */
interface Variety {
  colours: number;
  /** Share of pixels whose colour is not the most common one. */
  offDominant: number;
}

/**
 * Screenshots a square of `size` CSS pixels at the map's centre and measures it in the page: the
 * PNG is decoded with createImageBitmap and read back from a canvas.
 */
async function varietyAtCentre(page: Page, size: number): Promise<Variety> {
  const box = await mapBox(page);
  const clip = {
    x: box.x + box.width / 2 - size / 2,
    y: box.y + box.height / 2 - size / 2,
    width: size,
    height: size,
  };
  const png = await page.screenshot({ clip });
  const measured = await page.evaluate(`(${MEASURE_IN_PAGE})(${JSON.stringify([...png])})`);
  return measured as Variety;
}

/**
 * Runs in the page (as text: the tests' type library has no DOM): decodes PNG bytes with
 * createImageBitmap, reads them back from a canvas and counts the colours.
 */
const MEASURE_IN_PAGE = `async (bytes) => {
  const bitmap = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: "image/png" }));
  const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext("2d");
  ctx.drawImage(bitmap, 0, 0);
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const counts = new Map();
  for (let i = 0; i < data.length; i += 4) {
    const c = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  const top = Math.max(...counts.values());
  const total = data.length / 4;
  return { colours: counts.size, offDominant: (total - top) / total };
}`;

/** Waits (bounded) until the centre of the map shows drawn data, and returns how varied it is. */
async function waitForDetail(page: Page, size: number): Promise<Variety> {
  let last: Variety = { colours: 0, offDominant: 0 };
  for (let i = 0; i < 40; i++) {
    last = await varietyAtCentre(page, size);
    if (last.colours >= 8 && last.offDominant >= 0.03) return last;
    await page.waitForTimeout(250);
  }
  return last;
}

/** The basemap the page shows now (the map element's data-basemap). */
async function shownBasemap(page: Page): Promise<string | undefined> {
  return await page.locator("#map").getAttribute("data-basemap") ?? undefined;
}

async function goTo(page: Page, zoom: number): Promise<void> {
  await page.evaluate(
    ([lng, lat, z]) => globalThis.duplex?.setView([lng, lat], z),
    [STREET_CENTER.lon, STREET_CENTER.lat, zoom],
  );
}

Deno.test("basemaps: street vector file at zoom 3/10/16, switcher to raster and back, remembered, over-zoom line, scale bar", async () => {
  await using fx = await writeTileFixtures();
  await using relay = await startRelay({
    args: [
      "--memory",
      "--basemap",
      `streets=${fx.vectorMbtiles}`,
      "--basemap",
      `aerial=${fx.rasterMbtiles}`,
      "--basemap",
      `pm=${fx.pmtiles}`,
    ],
  });
  const { basemaps } = await (await fetch(`${relay.url}/api/basemaps`)).json() as {
    basemaps: BasemapInfo[];
  };
  const aerial = basemaps.find((b) => b.id === "aerial");
  const streets = basemaps.find((b) => b.id === "streets");
  const pm = basemaps.find((b) => b.id === "pm");
  assert.ok(
    aerial?.maxzoom !== undefined && streets?.maxzoom !== undefined && pm,
    "the relay read both files",
  );
  const map = await createMap(relay.url, "Basemaps");
  const browser = await launchChromium();
  try {
    const person = await newPerson(browser, ALICE);
    const { page } = person;
    const outside: string[] = [];
    const failed: string[] = [];
    page.on("response", (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
    page.on("request", (r) => {
      if (!r.url().startsWith(relay.url) && !r.url().startsWith("data:")) outside.push(r.url());
    });
    await page.goto(`${relay.url}/m/${map.id}#key=${map.editKey}`);
    await waitLive(page);

    // The built-in basemap is the default; the switcher lists every basemap the relay offers.
    assert.equal(await shownBasemap(page), "builtin");
    const summary = page.locator(".basemap-switcher summary");
    assert.equal(await summary.textContent(), "Basemap: Offline (built in)");
    await summary.click();
    const group = page.getByRole("group", { name: "Basemap" });
    const radios = await group.getByRole("radio").all();
    assert.deepEqual(
      await Promise.all(radios.map((r) => r.getAttribute("value"))),
      ["builtin", "streets", "aerial", "pm"],
    );

    // The MBTiles file and its PMTiles copy share a metadata name; the switcher tells them apart.
    // The vector file: varied pixels where the fixture has data, at every zoom.
    await group.getByRole("radio", { name: `${streets.name} (streets)`, exact: true }).check();
    assert.equal(await shownBasemap(page), "streets");
    await page.keyboard.press("Escape");
    let streetsAt16: Variety | undefined;
    for (const [zoom, size] of [[3, 300], [10, 40], [16, 400]]) {
      await goTo(page, zoom);
      const variety = await waitForDetail(page, size);
      if (zoom === 16) streetsAt16 = variety;
      const shot = await screenshot(page, `basemaps-streets-z${zoom}`);
      assert.ok(
        variety.colours >= 8 && variety.offDominant >= 0.03,
        `zoom ${zoom}: the street basemap shows detail (${JSON.stringify(variety)}, ${shot})`,
      );
      assert.ok(await page.locator(".basemap-hint").isHidden(), `zoom ${zoom} is within the file`);
    }
    // The built-in basemap at zoom 16 is one flat land colour there, with only a few place
    // labels on it: what the vector file fixes. Measured against the street file at the same
    // place and zoom, since the labels' anti-aliased text varies with where they fall.
    await page.locator(".basemap-switcher summary").click();
    await group.getByRole("radio", { name: "Offline (built in)", exact: true }).check();
    const flat = await varietyAtCentre(page, 400);
    assert.ok(
      streetsAt16 && flat.offDominant * 3 < streetsAt16.offDominant,
      `the built-in basemap is flat at zoom 16 (${JSON.stringify(flat)}) next to the street ` +
        `file there (${JSON.stringify(streetsAt16)})`,
    );
    await screenshot(page, "basemaps-builtin-z16");
    assert.ok(
      await page.locator(".basemap-hint").isVisible(),
      "the built-in one says it has no detail here",
    );

    // The raster file, then back to the vector one.
    await group.getByRole("radio", { name: aerial.name, exact: true }).check();
    assert.equal(await shownBasemap(page), "aerial");
    await goTo(page, Math.min(aerial.maxzoom, 13));
    const raster = await waitForDetail(page, 200);
    await screenshot(page, "basemaps-aerial");
    assert.ok(
      raster.offDominant >= 0.03,
      `the raster basemap shows its tiles (${JSON.stringify(raster)})`,
    );
    assert.ok(
      await page.locator(".leaflet-basemap-pane img[src*='/basemaps/aerial/']").count() > 0,
      "the raster tiles come from the relay",
    );

    // Past the raster's last level (plus one stretched level) the quiet line appears and leads
    // to the switcher; the keyboard changes the basemap there.
    const hint = page.locator(".basemap-hint");
    await goTo(page, aerial.maxzoom + 2);
    await hint.waitFor({ state: "visible" });
    assert.match(await hint.textContent() ?? "", /This basemap has no detail here\./);
    await screenshot(page, "basemaps-aerial-overzoom");
    await hint.getByRole("button", { name: "Choose another basemap ▸" }).click();
    const focused = await page.locator(".basemap-switcher input:focus").getAttribute("value");
    assert.equal(focused, "aerial", "the switcher opens on the current basemap");
    await page.keyboard.press("ArrowUp");
    assert.equal(await shownBasemap(page), "streets", "arrow keys pick a basemap");
    await hint.waitFor({ state: "hidden" });

    // The vector file over-zooms two levels; past that the line says so too.
    await goTo(page, Math.min(19, streets.maxzoom + 3));
    await hint.waitFor({ state: "visible" });
    await goTo(page, 16);
    await hint.waitFor({ state: "hidden" });

    // The choice is remembered in this browser.
    await page.reload();
    await waitLive(page);
    assert.equal(await shownBasemap(page), "streets");
    assert.equal(
      await page.locator(".basemap-switcher input:checked").getAttribute("value"),
      "streets",
    );

    // Scale bar: metric and imperial for en-US (Chromium's default here).
    assert.equal(await page.evaluate(() => navigator.language), "en-US");
    await page.locator(".leaflet-control-scale-line").first().waitFor();
    assert.equal(await page.locator(".leaflet-control-scale-line").count(), 2);
    await screenshot(page, "basemaps-remembered-scale");

    // The same streets from the PMTiles archive draw the same way.
    await page.locator(".basemap-switcher summary").click();
    await page.getByRole("group", { name: "Basemap" }).getByRole("radio", {
      name: `${pm.name} (pm)`,
      exact: true,
    })
      .check();
    await page.keyboard.press("Escape");
    await goTo(page, 16);
    const fromArchive = await waitForDetail(page, 400);
    const pmShot = await screenshot(page, "basemaps-pmtiles-z16");
    assert.ok(
      fromArchive.colours >= 8 && fromArchive.offDominant >= 0.03,
      `the PMTiles basemap shows detail (${JSON.stringify(fromArchive)}, ${pmShot})`,
    );

    // Tiles outside the files' data answer 404, as the relay should; Chromium logs each one.
    const tileMiss = /^404 \/basemaps\/[a-z]+\/\d+\/\d+\/\d+\.(pbf|png)$/;
    assert.deepEqual(failed.filter((f) => !tileMiss.test(f)), []);
    assert.deepEqual(person.errors.filter((e) => !/status of 404/.test(e)), []);
    assert.deepEqual(outside, [], "nothing is fetched from outside the relay");

    // Metric only for a German browser; a new browser starts on the built-in basemap.
    const context = await browser.newContext({ locale: "de-DE" });
    const german = await context.newPage();
    await german.goto(`${relay.url}/m/${map.id}#key=${map.editKey}`);
    await german.locator(".leaflet-control-scale-line").first().waitFor();
    assert.equal(await german.locator(".leaflet-control-scale-line").count(), 1);
    assert.equal(await shownBasemap(german), "builtin");
    await context.close();
  } finally {
    await browser.close();
  }
});
