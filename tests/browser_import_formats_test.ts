/** Imports of KML, zipped Shapefiles and CSV in Chromium, by the Import button and by dropping, seen by a second page. */
import assert from "assert";
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { gdalFixtures } from "../relay/formats/_gdal_fixture.ts";
import { ALICE, BOB, launchChromium, newPerson, screenshot, waitLive } from "./_browser.ts";
import { createMap, startRelay } from "./_relay.ts";
import type {} from "../public/src/debug.ts";

async function pick(page: Page, name: string, bytes: Uint8Array): Promise<void> {
  const chooser = page.waitForEvent("filechooser");
  await page.locator("#import").click();
  await (await chooser).setFiles({ name, mimeType: "", buffer: Buffer.from(bytes) });
}

/** Drops a file on the map the way a browser does: dragover, then drop with a DataTransfer. */
async function drop(page: Page, name: string, bytes: Uint8Array): Promise<void> {
  // (A string, as these tests are type-checked without the DOM library.)
  const transfer = await page.evaluateHandle(`(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(${JSON.stringify([...bytes])})], ${
    JSON.stringify(name)
  }));
    return dt;
  })()`);
  await page.dispatchEvent("#map", "dragover", { dataTransfer: transfer });
  await page.dispatchEvent("#map", "drop", { dataTransfer: transfer });
}

Deno.test("import formats in Chromium: KML and a zipped Shapefile by the button and by drop, a CSV's skipped rows by line; a second page sees them", async (t) => {
  await using relay = await startRelay({ args: ["--memory"] });
  const files = await gdalFixtures();
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
    const seenByB = async (count: number) => {
      await b.page.waitForFunction((n) => globalThis.duplex?.featureCount() === n, count);
      return await b.page.evaluate(() => globalThis.duplex!.features());
    };
    const names = (fs: { properties: Record<string, unknown> }[]) =>
      fs.map((f) => String(f.properties.name)).sort();

    await t.step("a KML by the Import button", async () => {
      await open("KML");
      assert.match(
        await a.page.locator("#import-file").getAttribute("accept") ?? "",
        /\.kml.*\.zip/,
      );
      await pick(a.page, "places.kml", files.kml);
      await a.page.locator(".toast", { hasText: "Imported 3 features from places.kml." }).waitFor();
      const seen = await seenByB(3);
      assert.deepEqual(names(seen), ["Café du Pont", "Park", "Trail"]);
      const park = seen.find((f) => f.properties.name === "Park");
      assert.equal(park?.geometry?.type, "Polygon");
      assert.equal(
        (park?.geometry as { coordinates: unknown[] }).coordinates.length,
        2,
        "the hole is kept",
      );
      // The importer's page zooms to what it imported.
      await a.page.waitForTimeout(300);
      await screenshot(a.page, "import-formats-01-kml-on-a");
    });

    await t.step("a zipped Shapefile in EPSG:2056 by the Import button", async () => {
      await open("Shapefile");
      await pick(a.page, "swiss.zip", files.shp2056);
      await a.page.locator(".toast", { hasText: "Imported 3 features from swiss.zip." }).waitFor();
      const seen = await seenByB(3);
      assert.deepEqual(names(seen), ["Café du Pont", "Park", "Trail"]);
      const cafe = seen.find((f) => f.properties.name === "Café du Pont");
      const [lon, lat] = (cafe?.geometry as { coordinates: number[] }).coordinates;
      assert.ok(Math.abs(lon - 7.4474) < 2e-6 && Math.abs(lat - 46.948) < 2e-6, `${lon} ${lat}`);
    });

    await t.step("a KML and a zipped Shapefile dropped on the map", async () => {
      await open("Dropped");
      await drop(a.page, "dropped.kml", files.kml);
      await a.page.locator(".toast", { hasText: "from dropped.kml" }).waitFor();
      await drop(a.page, "dropped.zip", files.shp);
      await a.page.locator(".toast", { hasText: "from dropped.zip" }).waitFor();
      const seen = await seenByB(6);
      assert.deepEqual(names(seen), [
        "Café du Pont",
        "Café du Pont",
        "Park",
        "Park",
        "Trail",
        "Trail",
      ]);
      await a.page.waitForTimeout(300);
      await screenshot(a.page, "import-formats-02-dropped-on-a");
    });

    await t.step("a CSV whose rows without coordinates are reported by line", async () => {
      await open("CSV");
      await pick(a.page, "points.csv", files.csvXy);
      const toast = a.page.locator(".toast", { hasText: "points.csv" });
      await toast.waitFor();
      assert.equal(
        (await toast.innerText()).replace(/\s*×$/, ""),
        "Imported 1 of 3 features from points.csv; 2 skipped: " +
          "line 3: no coordinates (the Y and X cells are empty); " +
          "line 4: no coordinates (the Y and X cells are empty).",
      );
      assert.deepEqual(names(await seenByB(1)), ["Café du Pont"]);
      await screenshot(a.page, "import-formats-03-csv-report");
    });
    assert.deepEqual([...a.errors, ...b.errors], []);
  } finally {
    await browser.close();
  }
});
