/** Imports in Chromium: real files (Natural Earth 10m) whole, per-feature reports, big files as several edits with a progress bar. */
import assert from "assert";
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { mixedImport } from "../relay/_import_fixture.ts";
import { ALICE, BOB, launchChromium, newPerson, screenshot, waitLive } from "./_browser.ts";
import { naturalEarthGeoJson, pointsFile } from "./_natural_earth.ts";
import { createMap, startRelay } from "./_relay.ts";
import type {} from "../public/src/debug.ts";

async function importFile(page: Page, name: string, text: string): Promise<void> {
  const chooser = page.waitForEvent("filechooser");
  await page.locator("#import").click();
  await (await chooser).setFiles({
    name,
    mimeType: "application/geo+json",
    buffer: Buffer.from(text),
  });
}

Deno.test("import in Chromium: valid features kept, skipped ones listed; big files as several edits with a progress bar", async (t) => {
  await using relay = await startRelay({ args: ["--memory"] });
  const browser = await launchChromium();
  try {
    const a = await newPerson(browser, ALICE);
    const b = await newPerson(browser, BOB);
    const open = async (title: string) => {
      const map = await createMap(relay.url, title);
      const url = `${relay.url}/m/${map.id}#key=${map.editKey}`;
      await a.page.goto(url);
      await waitLive(a.page);
      await b.page.goto(url);
      await waitLive(b.page);
    };

    await t.step(
      "a file with null geometry, empty coordinates, a holed polygon and bad features",
      async () => {
        await open("Mixed");
        const file = mixedImport();
        await importFile(a.page, "mixed.geojson", file.text);
        const toast = a.page.locator(".toast", { hasText: "mixed.geojson" });
        await toast.waitFor();
        assert.equal(
          (await toast.innerText()).replace(/\s*×$/, ""),
          "Imported 4 of 8 features from mixed.geojson; 4 skipped: " +
            '#3 (id "far"): bad geometry: coordinates: longitude 200 is outside -180..180; ' +
            "#4: bad geometry: coordinates: a position must hold finite numbers; " +
            '#5 (id 7): bad geometry: unknown geometry type "Circle"; ' +
            '#7: not a GeoJSON Feature (its "type" must be "Feature").',
        );
        await b.page.waitForFunction(() => globalThis.duplex?.featureCount() === 4);
        const seen = await b.page.evaluate(() => globalThis.duplex!.features());
        assert.deepEqual(seen.map((f) => f.id).sort(), [...file.kept].sort());
        assert.deepEqual(seen.find((f) => f.id === "holed")?.geometry, {
          type: "Polygon",
          coordinates: [file.holed.outer, file.holed.hole],
        });
        // A feature without geometry has no layer but is kept, and shown in the panel when selected.
        assert.equal(await b.page.evaluate(() => globalThis.duplex!.layerKind("row")), null);
        await b.page.evaluate(() => globalThis.duplex!.select("row"));
        await b.page.locator(".geom-type", { hasText: "No geometry" }).waitFor();
        assert.ok(await b.page.getByLabel("Value of name").isVisible());
        await screenshot(b.page, "import-01-mixed-row-selected");
      },
    );

    await t.step("10 001 points go in as several edits, seen by a second page", async () => {
      await open("Points");
      await importFile(a.page, "points.geojson", pointsFile(10_001));
      await a.page.locator(".toast", { hasText: "Imported 10001 features" }).waitFor();
      await b.page.waitForFunction(() => globalThis.duplex?.featureCount() === 10_001);
      const log = await b.page.evaluate(() => globalThis.duplex!.editLog());
      assert.ok(log.length >= 2, `${log.length} edits`);
    });

    await t.step(
      "Natural Earth 10m countries go in whole, with a progress bar; a second page has every country",
      async () => {
        await open("Countries");
        const text = await naturalEarthGeoJson();
        const names = (JSON.parse(text).features as { properties: { name: string } }[])
          .map((f) => f.properties.name).sort();
        await importFile(a.page, "countries-10m.geojson", text);
        const bar = a.page.locator(".import-progress");
        await bar.waitFor();
        // Part way: some edits acknowledged, some not.
        await a.page.locator(".import-progress", { hasText: /: [1-9]\d* of 255 features/ })
          .waitFor();
        assert.match(
          await bar.innerText(),
          /Importing countries-10m\.geojson: \d+ of 255 features/,
        );
        await screenshot(a.page, "import-02-progress");
        await a.page.locator(".toast", { hasText: "Imported 255 features" }).waitFor({
          timeout: 120_000,
        });
        assert.equal(await bar.count(), 0, "the bar is gone when the import is done");
        await b.page.waitForFunction(() => globalThis.duplex?.featureCount() === 255, null, {
          timeout: 120_000,
        });
        const got = await b.page.evaluate(() =>
          globalThis.duplex!.features().map((f) => String(f.properties.name))
        );
        assert.deepEqual(got.sort(), names);
        await a.page.waitForTimeout(500);
        await screenshot(b.page, "import-03-countries-on-b");
      },
    );
    assert.deepEqual([...a.errors, ...b.errors], []);
  } finally {
    await browser.close();
  }
});
