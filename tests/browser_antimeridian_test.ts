/** End-to-end: world countries and shapes drawn across the 180th meridian, in an editor and a viewer over the HTTP fallback. */
import assert from "assert";
import type { Page } from "playwright-core";
import { feature } from "topojson-client";
import countries50 from "world-atlas/countries-50m.json" with { type: "json" };
import {
  ALICE,
  BOB,
  launchChromium,
  newPerson,
  type Person,
  screenshot,
  waitLive,
} from "./_browser.ts";
import { chromiumCaHome, startHaproxy } from "./_haproxy.ts";
import { createMap, startRelay } from "./_relay.ts";
import type {} from "../public/src/debug.ts";
import type { StoredFeature } from "../relay/protocol.ts";

type Topology = Parameters<typeof feature>[0];
type LngLat = [number, number];

/** Natural Earth's countries at 1:50m (241 of them) as GeoJSON features with ids. */
function worldCountries(): StoredFeature[] {
  const topo = countries50 as unknown as Topology;
  const collection = feature(topo, topo.objects.countries);
  assert.equal(collection.type, "FeatureCollection");
  if (collection.type !== "FeatureCollection") return [];
  return collection.features.map((f, i) => ({
    type: "Feature",
    id: `country-${i}`,
    geometry: f.geometry as StoredFeature["geometry"],
    properties: { name: String(f.properties?.name) },
  }));
}

/** Lets Leaflet's canvas repaint (it redraws on the next animation frame). */
async function settle(page: Page): Promise<void> {
  // The test files have no DOM types: the page's own code is given as text.
  await page.evaluate(
    "new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())))",
  );
  await page.waitForTimeout(150);
}

async function setView(page: Page, center: LngLat, zoom: number): Promise<void> {
  await page.evaluate(([c, z]) => globalThis.duplex?.setView(c, z), [center, zoom] as const);
  await settle(page);
}

/**
 * For each `[lng, lat]` (longitudes past ±180 mean the next copy of the world), whether the
 * features paint that pixel: the screenshot there differs from one with the features' canvas
 * hidden (the basemap and the other people's views are drawn elsewhere).
 */
async function painted(page: Page, points: LngLat[]): Promise<boolean[]> {
  const at = await page.evaluate(
    (pts) => pts.map((p) => globalThis.duplex?.pagePoint(p) ?? { x: -1, y: -1 }),
    points,
  );
  // Feature names are labels in a pane of their own: one over a sampled pixel would hide the shape.
  const setLabels = (visibility: string) =>
    page.evaluate(`for (const p of document.querySelectorAll(".leaflet-feature-labels-pane")) {
      p.style.visibility = "${visibility}";
    }`);
  await setLabels("hidden");
  const shown = (await page.screenshot()).toString("base64");
  const setHidden = (hidden: boolean) =>
    page.evaluate(`for (const c of document.querySelectorAll(".leaflet-overlay-pane canvas")) {
      c.style.visibility = ${hidden ? '"hidden"' : '""'};
    }`);
  await setHidden(true);
  const hidden = (await page.screenshot()).toString("base64");
  await setHidden(false);
  await setLabels("");
  // Decoded in a blank page of the same browser: the map page's CSP rightly refuses data: URLs.
  const scratch = await page.context().newPage();
  const diffs: number[] = await scratch.evaluate(`(async () => {
    const pts = ${JSON.stringify(at)};
    const pixels = async (png) => {
      const blob = await (await fetch("data:image/png;base64," + png)).blob();
      const bitmap = await createImageBitmap(blob);
      const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext("2d");
      ctx.drawImage(bitmap, 0, 0);
      return pts.map((p) => [...ctx.getImageData(Math.round(p.x), Math.round(p.y), 1, 1).data]);
    };
    const [a, b] = [await pixels("${shown}"), await pixels("${hidden}")];
    return a.map((p, i) => p.slice(0, 3).reduce((s, v, j) => s + Math.abs(v - b[i][j]), 0));
  })()`);
  await scratch.close();
  return diffs.map((d) => d > 24);
}

/** Asserts which points the features paint, naming the ones that are wrong. */
async function expectPainted(page: Page, expected: [string, LngLat, boolean][]): Promise<void> {
  const got = await painted(page, expected.map(([, p]) => p));
  const wrong = expected.filter(([, , want], i) => got[i] !== want)
    .map(([what, p, want]) => `${what} [${p}] ${want ? "not drawn" : "drawn"}`);
  assert.deepEqual(wrong, []);
}

/** The outer ring of a polygon feature, or null for anything else (a feature may lack geometry). */
function outerRing(f: StoredFeature | null | undefined): number[][] | null {
  const g = f?.geometry;
  return g?.type === "Polygon" ? g.coordinates[0] : null;
}

/** Every ring of a polygon or multipolygon feature. */
function ringsOf(f: StoredFeature): number[][][] {
  const g = f.geometry;
  if (g?.type === "Polygon") return g.coordinates;
  if (g?.type === "MultiPolygon") return g.coordinates.flat();
  return [];
}

async function view(page: Page) {
  const v = await page.evaluate(() => globalThis.duplex?.view());
  assert.ok(v);
  return v;
}

Deno.test("world countries across the antimeridian: one shape each in an editor and in a viewer over the HTTP fallback; export equals the import", async (t) => {
  await using relay = await startRelay({ args: ["--trust-proxy", "127.0.0.1"] });
  await using hp = await startHaproxy({ relayPort: relay.port, stripUpgrade: true });
  await using trust = await chromiumCaHome(hp.caFile);
  const map = await createMap(relay.url, "World");
  const countries = worldCountries();
  const id = (name: string) => countries.find((f) => f.properties.name === name)?.id ?? "";

  const browser = await launchChromium({ env: trust.env });
  try {
    const wide = { width: 1600, height: 900 };
    const editor = await newPerson(browser, ALICE, wide);
    const viewer = await newPerson(browser, BOB, wide);
    await editor.page.goto(`${relay.url}/m/${map.id}#key=${map.editKey}`);
    await viewer.page.goto(`${hp.stripUpgradeUrl}/m/${map.id}#key=${map.viewKey}`);
    for (const p of [editor, viewer]) await waitLive(p.page);
    assert.equal(
      await viewer.page.evaluate(() => globalThis.duplex?.status().transport),
      "http fallback",
    );
    const pages: [string, Person][] = [["editor", editor], ["viewer", viewer]];
    let rectangle: StoredFeature | undefined;

    await t.step("a rectangle drawn across 180 is stored in range and drawn whole", async () => {
      for (const [, p] of pages) await setView(p.page, [180, -35], 4);
      const before = new Set(
        (await viewer.page.evaluate(() => globalThis.duplex?.features()))?.map((f) => f.id),
      );
      await editor.page.locator(".leaflet-pm-icon-rectangle").click();
      const corner = (at: LngLat) =>
        editor.page.evaluate((a) => globalThis.duplex?.pagePoint(a), at);
      const a = await corner([172, -30]);
      const b = await corner([188, -40]);
      assert.ok(a && b);
      await editor.page.mouse.click(a.x, a.y);
      await editor.page.mouse.click(b.x, b.y);
      await viewer.page.waitForFunction(
        (n) => globalThis.duplex?.featureCount() === n,
        1,
      );
      const drawn = (await viewer.page.evaluate(() => globalThis.duplex?.features()))?.find((f) =>
        !before.has(f.id)
      );
      const drawnRing = outerRing(drawn);
      assert.ok(drawn && drawnRing, JSON.stringify(drawn));
      rectangle = drawn;
      const lngs = drawnRing.map((q) => q[0]);
      assert.ok(lngs.every((x) => x >= -180 && x <= 180), `stored in range: ${lngs}`);
      assert.ok(
        lngs.some((x) => Math.abs(x - 172) < 1) && lngs.some((x) => Math.abs(x + 172) < 1),
        `corners at 172 and -172: ${lngs}`,
      );
      for (const [who, p] of pages) {
        assert.equal(
          await p.page.evaluate((fid) => globalThis.duplex?.layerKind(fid), drawn.id),
          "rectangle",
        );
        await screenshot(p.page, `antimeridian-04-rectangle-${who}`);
        await expectPainted(p.page, [
          ["the rectangle west of 180", [176, -35], true],
          ["the rectangle east of 180", [184, -35], true],
          ["outside it", [192, -35], false],
        ]);
      }
    });

    await t.step(
      "a corner of that rectangle dragged with Geoman comes back in the stored form",
      async () => {
        const stored = outerRing(rectangle);
        assert.ok(rectangle && stored);
        // The corner drawn at 172, -40 stays where it was; the one at 188, -30 goes to 190, -28.
        const kept = stored.find((q) => q[0] > 0 && q[1] < -35);
        const from = stored.find((q) => q[0] < 0 && q[1] > -35);
        assert.ok(kept && from, JSON.stringify(stored));
        await editor.page.locator(".leaflet-pm-icon-edit").click();
        const at = (p: LngLat) => editor.page.evaluate((a) => globalThis.duplex?.pagePoint(a), p);
        const a = await at([from[0] + 360, from[1]]);
        const b = await at([190, -28]);
        assert.ok(a && b);
        await editor.page.mouse.move(a.x, a.y);
        await editor.page.mouse.down();
        await editor.page.mouse.move(b.x, b.y, { steps: 8 });
        await editor.page.mouse.up();
        const fid = rectangle.id;
        await viewer.page.waitForFunction(
          ([fid, old]) => JSON.stringify(globalThis.duplex?.feature(fid)?.geometry) !== old,
          [fid, JSON.stringify(rectangle.geometry)] as const,
          { timeout: 15_000 },
        );
        await editor.page.locator(".leaflet-pm-icon-edit").click();
        const edited = await viewer.page.evaluate((fid) => globalThis.duplex?.feature(fid), fid);
        const ring = outerRing(edited);
        assert.ok(ring, JSON.stringify(edited));
        assert.ok(
          ring.every((q) => q[0] >= -180 && q[0] <= 180),
          `in range: ${JSON.stringify(ring)}`,
        );
        assert.ok(
          ring.some((q) => q[0] === kept[0] && q[1] === kept[1]),
          "the corner left alone is as stored",
        );
        assert.ok(
          ring.some((q) => Math.abs(q[0] + 170) < 0.5 && Math.abs(q[1] + 28) < 0.5),
          `moved to 190, -28: ${JSON.stringify(ring)}`,
        );
        for (const [who, p] of pages) {
          assert.equal(
            await p.page.evaluate((fid) => globalThis.duplex?.layerKind(fid), fid),
            "rectangle",
            `${who}: ${JSON.stringify(ring)}`,
          );
          await settle(p.page);
          await screenshot(p.page, `antimeridian-05-rectangle-edited-${who}`);
          await expectPainted(p.page, [
            ["the rectangle grown east", [189, -29], true],
            ["still nothing past it", [192, -35], false],
          ]);
        }
      },
    );

    await t.step("a point at -179.9 is drawn on the copy of the world in view", async () => {
      await editor.page.evaluate(() =>
        globalThis.duplex?.sendEdit([{
          op: "put",
          feature: {
            type: "Feature",
            id: "dateline-point",
            geometry: { type: "Point", coordinates: [-179.9, -10] },
            properties: {},
          },
        }])
      );
      await viewer.page.waitForFunction(() =>
        globalThis.duplex?.feature("dateline-point") !== null
      );
      await setView(viewer.page, [176, -10], 6);
      await expectPainted(viewer.page, [["the point, at 180.1", [180.1, -10], true]]);
      await setView(viewer.page, [-176, -10], 6);
      await expectPainted(viewer.page, [["the point, at -179.9", [-179.9, -10], true]]);
      await screenshot(viewer.page, "antimeridian-06-point");
    });

    // The import replaces the map: the shapes drawn above go, the world's countries come.
    const put = await fetch(`${relay.url}/api/maps/${map.id}/features?key=${map.editKey}`, {
      method: "PUT",
      headers: { "content-type": "application/geo+json" },
      body: JSON.stringify({ type: "FeatureCollection", features: countries }),
    });
    assert.equal(put.status, 200, await put.text());
    for (const [, p] of pages) {
      await p.page.waitForFunction(
        (n) =>
          globalThis.duplex?.featureCount() === n && !globalThis.duplex?.feature("dateline-point"),
        countries.length,
      );
    }

    await t.step(
      "the whole world: no band along Chukotka's or Fiji's latitude; Chukotka beside Russia",
      async () => {
        for (const [who, p] of pages) {
          await setView(p.page, [0, 10], 2);
          await screenshot(p.page, `antimeridian-01-world-${who}`);
          await expectPainted(p.page, [
            ["Siberia", [100, 62], true],
            ["Antarctica", [20, -75], true],
            ["Chukotka, east of 180 beside the rest of Russia", [184, 67], true],
            ["nothing at Chukotka's stored longitude west of the map", [-176, 67], false],
            ["the Norwegian Sea on Russia's band", [0, 67], false],
            ["the Denmark Strait on Russia's band", [-25, 67.5], false],
            ["the Davis Strait on Russia's band", [-58, 67.5], false],
            ["the Pacific on Fiji's band", [-120, -16.51], false],
            ["the Atlantic on Fiji's band", [-20, -16.51], false],
          ]);
        }
      },
    );

    await t.step(
      "at the antimeridian: Russia and Fiji drawn whole on both sides of 180",
      async () => {
        for (const [who, p] of pages) {
          await setView(p.page, [180, 66], 4);
          await screenshot(p.page, `antimeridian-02-chukotka-${who}`);
          await expectPainted(p.page, [
            ["Russia west of 180", [176, 67], true],
            ["Chukotka east of 180", [184, 67], true],
            ["the Chukchi Sea", [191, 68.5], false],
          ]);
          await setView(p.page, [180, -17], 6);
          await screenshot(p.page, `antimeridian-03-fiji-${who}`);
          await expectPainted(p.page, [
            ["Viti Levu", [178, -17.8], true],
            ["the sea between Fiji's islands", [179, -18.5], false],
          ]);
        }
      },
    );

    await t.step(
      "zoom to Russia and to Fiji fits them on their side, not the whole world",
      async () => {
        for (
          const [name, west, east, minZoom] of [["Russia", 60, 150, 2], [
            "Fiji",
            175,
            185,
            5,
          ]] as const
        ) {
          await viewer.page.evaluate((fid) => globalThis.duplex?.select(fid), id(name));
          await viewer.page.locator(".zoom-to").click();
          await viewer.page.waitForFunction(
            ([w, e]) => {
              const lng = globalThis.duplex?.view().center[0] ?? 0;
              return lng > w && lng < e;
            },
            [west, east] as const,
            { timeout: 5_000 },
          ).catch(() => {});
          // A zoom that is still animating drops the next one (Leaflet): let it end.
          await viewer.page.locator(".leaflet-zoom-anim").waitFor({ state: "detached" });
          await settle(viewer.page);
          const v = await view(viewer.page);
          assert.ok(
            v.center[0] > west && v.center[0] < east && v.zoom >= minZoom,
            `zoom to ${name}: ${JSON.stringify(v)}`,
          );
        }
        await viewer.page.evaluate(() => globalThis.duplex?.select(null));
      },
    );

    await t.step("the export is the import, every position exactly as imported", async () => {
      const res = await fetch(`${relay.url}/api/maps/${map.id}/features?key=${map.viewKey}`);
      assert.equal(res.status, 200);
      const exported: { features: StoredFeature[] } = await res.json();
      assert.equal(exported.features.length, countries.length);
      const byId = new Map(exported.features.map((f) => [f.id, f]));
      for (const f of countries) {
        const e = byId.get(f.id);
        const name = String(f.properties.name);
        assert.ok(e, name);
        assert.deepEqual(e.properties, f.properties);
        assert.equal(e.geometry?.type, f.geometry?.type, name);
        // The importer winds rings the RFC 7946 way (import-policy): a ring may come back
        // reversed, but every position is the one imported: none moved by 360°, none split off.
        const [got, want] = [ringsOf(e), ringsOf(f)];
        assert.equal(got.length, want.length, name);
        got.forEach((r, i) => {
          const same = JSON.stringify(r) === JSON.stringify(want[i]) ||
            JSON.stringify(r) === JSON.stringify([...want[i]].reverse());
          assert.ok(same, `${name}: ring ${i} differs from the import`);
        });
      }
    });

    // The viewer's browser logs the stripped WebSocket handshake (426) before it falls back.
    const unexpected = (e: string) => !/426|Upgrade Required/.test(e);
    for (const [who, p] of pages) {
      assert.deepEqual(p.errors.filter(unexpected), [], `${who}'s page logged errors`);
    }
  } finally {
    await browser.close();
  }
});
