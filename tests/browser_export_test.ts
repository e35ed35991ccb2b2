/** The Export menu in Chromium: each format is a download named from the map title, with real content. */
import assert from "assert";
import { ALICE, launchChromium, newPerson, screenshot, waitLive } from "./_browser.ts";
import { SOURCE, sourceText } from "./_export_fixture.ts";
import { createMap, startRelay } from "./_relay.ts";
import type {} from "../public/src/debug.ts";

Deno.test("Export menu in Chromium: GeoJSON, KML, CSV, Shapefile and GPX downloads named from the title", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url, "Trips of 2026");
  const put = await fetch(`${relay.url}/api/maps/${map.id}/features`, {
    method: "PUT",
    headers: { authorization: `Bearer ${map.editKey}` },
    body: sourceText(),
  });
  assert.equal(put.status, 200, await put.text());
  const browser = await launchChromium();
  try {
    const a = await newPerson(browser, ALICE);
    // A viewer can export too: the menu needs no edit key.
    await a.page.goto(`${relay.url}/m/${map.id}#key=${map.viewKey}`);
    await waitLive(a.page);
    await a.page.waitForFunction((n) => globalThis.duplex?.featureCount() === n, SOURCE.length);
    const expected: Record<string, { name: string; starts: string; has: string }> = {
      geojson: { name: "trips-of-2026.geojson", starts: "{", has: '"San Francisco"' },
      kml: { name: "trips-of-2026.kml", starts: "<kml", has: "<Placemark" },
      csv: { name: "trips-of-2026.csv", starts: "id,WKT,lat,lon,", has: "Attributes only" },
      shp: { name: "trips-of-2026.zip", starts: "PK", has: "polygons.shp" },
      gpx: { name: "trips-of-2026.gpx", starts: "<?xml", has: "<trkseg>" },
    };
    for (const [format, want] of Object.entries(expected)) {
      await a.page.locator("#export").click();
      const item = a.page.locator(`.export-menu [data-format="${format}"]`);
      await item.waitFor();
      if (format === "geojson") await screenshot(a.page, "export-01-menu");
      const download = a.page.waitForEvent("download");
      await item.click();
      const file = await download;
      assert.equal(file.suggestedFilename(), want.name);
      const bytes = await Deno.readFile(await file.path());
      assert.ok(bytes.length > 0, `${format}: empty download`);
      const text = new TextDecoder("latin1").decode(bytes);
      assert.ok(text.startsWith(want.starts), `${format} starts with ${text.slice(0, 20)}`);
      assert.ok(text.includes(want.has), `${format} holds ${want.has}`);
      assert.ok(await a.page.locator(".export-menu").isHidden(), "the menu closes after a pick");
    }
    // What GPX cannot hold is said.
    await a.page.locator(".toast", { hasText: "trips-of-2026.gpx: 3 left out" }).waitFor();
    await screenshot(a.page, "export-02-gpx-note");
  } finally {
    await browser.close();
  }
});
