/** The map client in real Chromium against a real relay: drawing, presence, follow, viewers, offline. */
import assert from "assert";
import { Buffer } from "node:buffer";
import {
  ALICE,
  BOB,
  drawPolygon,
  expectCursorAndViewport,
  features,
  launchChromium,
  mapBox,
  newPerson,
  offlineEditsArriveOnce,
  screenshot,
  waitLive,
} from "./_browser.ts";
import { createMap, startRelay } from "./_relay.ts";
import type {} from "../public/src/debug.ts";
import type { StoredFeature } from "../relay/protocol.ts";

Deno.test("map client in Chromium: two editors, a viewer, offline edits, undo, import/export", async (t) => {
  await using relay = await startRelay({ args: ["--memory"] });
  const browser = await launchChromium();
  try {
    const created = await createMap(relay.url, "Lakes survey");
    const editUrl = `${relay.url}/m/${created.id}#key=${created.editKey}`;
    const viewUrl = `${relay.url}/m/${created.id}#key=${created.viewKey}`;

    // A has never been here: the first visit asks for a name and colour.
    const a = await newPerson(browser, null);
    const b = await newPerson(browser, BOB);
    await a.page.goto(editUrl);
    await a.page.locator("#identity-name").fill(ALICE.name);
    await a.page.locator("#identity-color").fill(ALICE.color);
    await a.page.locator("#identity-save").click();
    await waitLive(a.page);
    await b.page.goto(editUrl);
    await waitLive(b.page);
    await a.page.locator(".peer", { hasText: "Bob" }).waitFor();
    assert.deepEqual(
      await a.page.locator(".peer.me").innerText().then((s) => s.split(/\s+/)),
      ["Alice", "editor", "you"],
    );

    await t.step("A draws a polygon with the mouse and B sees it", async () => {
      const polygon = await drawPolygon(a, b, "01-b-sees-a-polygon");
      assert.equal(polygon.geometry?.type, "Polygon");
    });

    await t.step(
      "B adds and edits a property in the panel and A sees it",
      async () => {
        const box = await mapBox(b.page);
        await b.page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
        await b.page.locator("#new-prop-key").waitFor();
        await b.page.locator("#new-prop-key").fill("name");
        await b.page.locator("#new-prop-value").fill("Lake");
        await b.page.getByRole("button", { name: "Add", exact: true }).click();
        await a.page.waitForFunction(() =>
          globalThis.duplex?.features()[0]?.properties.name === "Lake"
        );
        const value = b.page.getByLabel("Value of name");
        await value.fill("Blue lake");
        await value.press("Enter");
        await b.page.locator("#new-prop-key").fill("depth");
        await b.page.locator("#new-prop-value").fill("12");
        await b.page.locator("#new-prop-value").press("Enter");
        await a.page.waitForFunction(() =>
          globalThis.duplex?.features()[0]?.properties.depth === 12
        );
        assert.deepEqual((await features(a.page))[0].properties, {
          name: "Blue lake",
          depth: 12,
        });
        // A opens the same feature and sees the values in its own panel.
        const aBox = await mapBox(a.page);
        await a.page.mouse.click(
          aBox.x + aBox.width / 2,
          aBox.y + aBox.height / 2,
        );
        assert.equal(
          await a.page.getByLabel("Value of name").inputValue(),
          "Blue lake",
        );
        await screenshot(b.page, "02-b-edits-properties");
        await screenshot(a.page, "02-a-sees-properties");
      },
    );

    await t.step("A's viewport rectangle and cursor appear on B's map", async () => {
      await expectCursorAndViewport(a, ALICE, b, "03-b-sees-a-cursor-and-viewport");
    });

    await t.step(
      "B follows A; A pans; B's map follows until B presses Esc",
      async () => {
        await b.page.getByRole("button", { name: "Follow Alice" }).click();
        assert.equal(await b.page.locator("#follow-banner").isVisible(), true);
        const box = await mapBox(a.page);
        // A pans by dragging the map (towards the west and south).
        await a.page.mouse.move(box.x + 300, box.y + 300);
        await a.page.mouse.down();
        await a.page.mouse.move(box.x + 500, box.y + 200, { steps: 8 });
        await a.page.mouse.up();
        // Leaflet's inertia keeps the map gliding after the drag; read the view where it stops.
        await a.page.waitForTimeout(1000);
        const target = await a.page.evaluate(() => globalThis.duplex?.view().center);
        assert.ok(target);
        await b.page.waitForFunction(
          ([lng, lat]) => {
            const c = globalThis.duplex?.view().center;
            // Compare longitudes modulo 360: the same place may be shown on another world copy.
            const dLng = Math.abs(
              (((c?.[0] ?? 0) - lng) % 360 + 540) % 360 - 180,
            );
            return !!c && dLng < 8 && Math.abs(c[1] - lat) < 8;
          },
          target,
          { timeout: 30_000 },
        );
        await screenshot(b.page, "04-b-follows-a");
        await b.page.keyboard.press("Escape");
        assert.equal(
          await b.page.evaluate(() => globalThis.duplex?.following()),
          null,
        );
        assert.equal(await b.page.locator("#follow-banner").isVisible(), false);
      },
    );

    await t.step(
      "B presses Follow while A's views keep coming: the press is not lost",
      async () => {
        await b.page.getByRole("button", { name: "Follow Alice" }).hover();
        await b.page.mouse.down();
        // A moves while B holds the button; B's people list hears of every view.
        const moves: [number, number, number][] = [[5, 45, 5], [6, 46, 6], [7, 47, 4]];
        for (const [lng, lat, zoom] of moves) {
          await a.page.evaluate(
            ([x, y, z]) => globalThis.duplex!.setView([x, y], z),
            [lng, lat, zoom],
          );
          await b.page.waitForFunction(
            (z) => globalThis.duplex!.peers().find((p) => p.name === "Alice")?.view?.zoom === z,
            zoom,
          );
        }
        await b.page.mouse.up();
        const alice = await a.page.evaluate(() => globalThis.duplex!.you()!.peer);
        assert.equal(await b.page.evaluate(() => globalThis.duplex!.following()), alice);
        await b.page.keyboard.press("Escape");
        assert.equal(await b.page.evaluate(() => globalThis.duplex!.following()), null);
      },
    );

    await t.step(
      "a view-only page (phone width) has no tools, and a console edit is rejected",
      async () => {
        const v = await newPerson(browser, { name: "Vera", color: "#16a34a" }, {
          width: 390,
          height: 844,
        });
        try {
          await v.page.goto(viewUrl);
          await waitLive(v.page);
          assert.equal(
            await v.page.evaluate(() => globalThis.duplex?.you()?.role),
            "viewer",
          );
          assert.equal(await v.page.locator(".leaflet-pm-toolbar").count(), 0);
          for (const id of ["#undo", "#redo", "#import"]) {
            assert.equal(
              await v.page.locator(id).isVisible(),
              false,
              `${id} is hidden for viewers`,
            );
          }
          assert.equal(
            await v.page.locator(".view-only-badge").isVisible(),
            true,
          );
          const before = await features(v.page);
          const outcome = await v.page.evaluate(() =>
            globalThis.duplex?.sendEdit([{
              op: "del",
              fid: globalThis.duplex.features()[0].id,
            }])
          );
          assert.equal(outcome?.ok, false);
          assert.equal(outcome && !outcome.ok ? outcome.code : "", "forbidden");
          assert.deepEqual(
            await features(v.page),
            before,
            "the rejected edit is rolled back",
          );
          await v.page.locator(".toast.error").waitFor();
          assert.match(
            await v.page.locator(".toast.error").innerText(),
            /only view/,
          );
          assert.equal(
            (await features(a.page)).length,
            1,
            "editors still have the feature",
          );
          await screenshot(v.page, "05-viewer-phone");
        } finally {
          await v.context.close();
        }
      },
    );

    await t.step("A goes offline, edits, comes back; B gets every edit exactly once", async () => {
      await offlineEditsArriveOnce(a, b, {
        offline: "06-a-offline-with-unsent-edits",
        online: "06-a-back-online",
      });
      assert.equal(
        (await b.page.evaluate(() => globalThis.duplex?.features()))?.length,
        2,
      );
    });

    await t.step(
      "undo and redo of A's own edits (Ctrl+Z, Ctrl+Shift+Z) reach B",
      async () => {
        await a.page.evaluate(() => globalThis.duplex?.select(null));
        await a.page.locator(".leaflet-pm-icon-circle-marker").click();
        const box = await mapBox(a.page);
        // Geoman places the point where its hint marker is: let the pointer arrive first.
        await a.page.mouse.move(box.x + 180, box.y + box.height - 170);
        await a.page.mouse.move(box.x + 200, box.y + box.height - 150, { steps: 4 });
        await a.page.waitForTimeout(100);
        await a.page.mouse.click(box.x + 200, box.y + box.height - 150);
        await b.page.waitForFunction(() => globalThis.duplex?.features().length === 3);
        const point = await a.page.evaluate(() => globalThis.duplex?.selected());
        assert.ok(point, "the new point is selected");
        await a.page.locator("#new-prop-key").fill("kind");
        await a.page.locator("#new-prop-value").fill("camp");
        await a.page.locator("#new-prop-value").press("Enter");
        await b.page.waitForFunction(
          (fid) => globalThis.duplex?.feature(fid)?.properties.kind === "camp",
          point,
        );
        await a.page.locator("#map").focus();
        await a.page.keyboard.press("Control+z");
        await b.page.waitForFunction(
          (fid) => {
            const f = globalThis.duplex?.feature(fid);
            return !!f && !("kind" in f.properties);
          },
          point,
        );
        await a.page.keyboard.press("Control+z");
        await b.page.waitForFunction(
          (fid) => globalThis.duplex?.feature(fid) === null,
          point,
        );
        await a.page.keyboard.press("Control+Shift+z");
        await b.page.waitForFunction(
          (fid) => !!globalThis.duplex?.feature(fid),
          point,
        );
        await a.page.keyboard.press("Control+Shift+z");
        await b.page.waitForFunction(
          (fid) => globalThis.duplex?.feature(fid)?.properties.kind === "camp",
          point,
        );
        await a.page.waitForFunction(() => globalThis.duplex?.pendingCount() === 0);
        assert.deepEqual(await features(a.page), await features(b.page));
        await screenshot(a.page, "07-after-undo-redo");
      },
    );

    await t.step(
      "import a GeoJSON file, then export round-trips the features",
      async () => {
        const countBefore = (await features(b.page)).length;
        // A bad file first: a clear message and no change.
        let chooser = a.page.waitForEvent("filechooser");
        await a.page.locator("#import").click();
        await (await chooser).setFiles({
          name: "broken.geojson",
          mimeType: "application/geo+json",
          buffer: Buffer.from(
            '{"type":"Feature","geometry":{"type":"Point","coordinates":[999,0]}}',
          ),
        });
        await a.page.locator(".toast.error", { hasText: "broken.geojson" })
          .waitFor();
        assert.match(
          await a.page.locator(".toast.error", { hasText: "broken.geojson" })
            .innerText(),
          /Nothing was imported.*longitude/,
        );
        assert.equal((await features(a.page)).length, countBefore);

        const imported = [
          {
            type: "Feature",
            id: "well-1",
            geometry: { type: "Point", coordinates: [-3.5, 51.2] },
            properties: { kind: "well", depth: 40 },
          },
          {
            type: "Feature",
            id: "track-1",
            geometry: {
              type: "LineString",
              coordinates: [[-4, 51], [-3, 51.5], [-2.5, 52]],
            },
            properties: { kind: "track" },
          },
          {
            type: "Feature",
            id: "field-1",
            geometry: {
              type: "Polygon",
              coordinates: [[[-3, 50.5], [-2, 50.5], [-2, 51], [-3, 51], [
                -3,
                50.5,
              ]]],
            },
            properties: { crop: "barley", organic: true },
          },
        ];
        chooser = a.page.waitForEvent("filechooser");
        await a.page.locator("#import").click();
        await (await chooser).setFiles({
          name: "survey.geojson",
          mimeType: "application/geo+json",
          buffer: Buffer.from(
            JSON.stringify({ type: "FeatureCollection", features: imported }),
          ),
        });
        await b.page.waitForFunction(
          (n) => globalThis.duplex?.features().length === n,
          countBefore + 3,
        );
        const bLog = await b.page.evaluate(() => globalThis.duplex?.editLog() ?? []);
        assert.equal(bLog.at(-1)?.by !== undefined, true);
        await a.page.waitForFunction(() => globalThis.duplex?.pendingCount() === 0);
        await a.page.waitForTimeout(500);
        await screenshot(a.page, "08-imported");

        const download = a.page.waitForEvent("download");
        await a.page.locator("#export").click();
        await a.page.locator('.export-menu [data-format="geojson"]').click();
        const file = await download;
        assert.equal(file.suggestedFilename(), "lakes-survey.geojson");
        const path = await file.path();
        const exported = JSON.parse(await Deno.readTextFile(path));
        assert.equal(exported.type, "FeatureCollection");
        assert.equal(exported.features.length, countBefore + 3);
        for (const f of imported) {
          assert.deepEqual(
            exported.features.find((e: { id: string }) => e.id === f.id),
            f,
          );
        }
      },
    );

    await t.step(
      "B changes name and colour: A sees them at once, and B never reconnects",
      async () => {
        const bPeer = await b.page.evaluate(() => globalThis.duplex?.you()?.peer);
        const connectsBefore = relay.logs.filter((l) => l.event === "connect").length;
        await a.page.locator(`path.peer-view[stroke="${BOB.color}"]`).waitFor({
          state: "attached",
        });
        await b.page.locator("#me").click();
        await b.page.locator("#identity-name").fill("Roberta");
        await b.page.locator("#identity-color").fill("#059669");
        await b.page.locator("#identity-save").click();
        await a.page.locator(".peer", { hasText: "Roberta" }).waitFor();
        // B's viewport rectangle is redrawn in the new colour; the cursor carries the new name.
        await a.page.locator('path.peer-view[stroke="#059669"]').waitFor({ state: "attached" });
        assert.equal(await a.page.locator(`path.peer-view[stroke="${BOB.color}"]`).count(), 0);
        const box = await mapBox(b.page);
        await b.page.mouse.move(box.x + 200, box.y + 200);
        await b.page.mouse.move(box.x + 240, box.y + 220, { steps: 4 });
        await a.page.locator(".peer-cursor span", { hasText: "Roberta" }).waitFor();
        assert.equal(await a.page.locator(".peer", { hasText: "Bob" }).count(), 0);
        const seen = await a.page.evaluate(
          (peer) => globalThis.duplex?.peers().find((p) => p.peer === peer),
          bPeer,
        );
        assert.equal(seen?.name, "Roberta");
        assert.equal(seen?.color, "#059669");
        assert.ok(seen?.view, "B's viewport is still known");
        await b.page.locator(".peer.me", { hasText: "Roberta" }).waitFor();
        assert.equal(await b.page.evaluate(() => globalThis.duplex?.you()?.name), "Roberta");
        assert.equal(await b.page.evaluate(() => globalThis.duplex?.you()?.peer), bPeer);
        assert.equal(
          relay.logs.filter((l) => l.event === "connect").length,
          connectsBefore,
          "no new connection",
        );
        await screenshot(a.page, "10-a-sees-b-renamed");
        // Remembered for the next visit.
        assert.deepEqual(
          await b.page.evaluate(() =>
            JSON.parse(localStorage.getItem("duplexmap.identity") ?? "null")
          ),
          { name: "Roberta", color: "#059669" },
        );
      },
    );

    await t.step(
      "A draws a rectangle; B gets a rectangle, reshapes it by a corner, and it stays one",
      async () => {
        const before = new Set((await features(a.page)).map((f) => f.id));
        const box = await mapBox(a.page);
        const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
        await a.page.locator(".leaflet-pm-icon-rectangle").click();
        await a.page.mouse.click(cx - 120, cy - 80);
        await a.page.mouse.click(cx + 40, cy + 60);
        await b.page.waitForFunction(
          (n) => (globalThis.duplex?.features().length ?? 0) > n,
          before.size,
        );
        const drawn = (await features(b.page)).find((f) => !before.has(f.id));
        assert.ok(drawn, "B has the new feature");
        assert.equal(
          await b.page.evaluate((fid) => globalThis.duplex?.layerKind(fid), drawn.id),
          "rectangle",
        );
        const original = cornersOf(drawn);

        // B zooms to it, turns on editing and drags the north-east corner further out.
        await b.page.evaluate((fid) => globalThis.duplex?.select(fid), drawn.id);
        assert.equal(await b.page.locator("#props-body .geom-type").innerText(), "Rectangle");
        await b.page.getByRole("button", { name: "Zoom to" }).click();
        await b.page.waitForTimeout(500);
        await b.page.locator(".leaflet-pm-icon-edit").click();
        // Geoman's corner markers: the one on the rectangle's north-east corner.
        const corner = await b.page.evaluate(
          (at) => globalThis.duplex!.pagePoint(at),
          [original.east, original.north] as [number, number],
        );
        const markers = b.page.locator(
          ".leaflet-marker-pane .marker-icon:not(.marker-icon-middle)",
        );
        await markers.first().waitFor();
        const centres = await Promise.all((await markers.all()).map(async (m) => {
          const r = (await m.boundingBox())!;
          return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
        }));
        const ne = centres.reduce((best, m) =>
          Math.hypot(m.x - corner.x, m.y - corner.y) <
              Math.hypot(best.x - corner.x, best.y - corner.y)
            ? m
            : best
        );
        assert.ok(Math.hypot(ne.x - corner.x, ne.y - corner.y) < 3, "a marker sits on the corner");
        await b.page.mouse.move(ne.x, ne.y);
        await b.page.mouse.down();
        await b.page.mouse.move(ne.x + 60, ne.y - 40, { steps: 6 });
        await b.page.mouse.up();
        await b.page.locator(".leaflet-pm-icon-edit").click();
        await a.page.waitForFunction(
          ([fid, east]) => {
            const f = globalThis.duplex?.feature(fid as string);
            const ring = f?.geometry?.type === "Polygon" ? f.geometry.coordinates[0] : [];
            return ring.some((p) => p[0] > (east as number));
          },
          [drawn.id, original.east] as const,
        );
        const reshaped = await a.page.evaluate((fid) => globalThis.duplex?.feature(fid), drawn.id);
        assert.ok(reshaped);
        const after = cornersOf(reshaped);
        assert.ok(after.east > original.east && after.north > original.north, "it grew north-east");
        assert.equal(after.west, original.west, "the opposite corner stayed");
        assert.equal(after.south, original.south, "the opposite corner stayed");
        assert.equal(
          await a.page.evaluate((fid) => globalThis.duplex?.layerKind(fid), drawn.id),
          "rectangle",
        );
        assert.deepEqual(await features(a.page), await features(b.page));
        await b.page.waitForTimeout(300);
        await screenshot(b.page, "11-b-reshaped-a-rectangle");
      },
    );

    await a.context.close();
    await b.context.close();
  } finally {
    await browser.close();
  }
});

/** The bounds of a rectangle feature, checking that it is one: two longitudes, two latitudes. */
function cornersOf(f: StoredFeature): { west: number; south: number; east: number; north: number } {
  assert.equal(f.geometry?.type, "Polygon");
  const ring = f.geometry?.type === "Polygon" ? f.geometry.coordinates[0] : [];
  assert.equal(ring.length, 5, "four corners and the closing one");
  const lngs = [...new Set(ring.map((p) => p[0]))];
  const lats = [...new Set(ring.map((p) => p[1]))];
  assert.equal(lngs.length, 2, `a rectangle has two longitudes: ${JSON.stringify(ring)}`);
  assert.equal(lats.length, 2, `a rectangle has two latitudes: ${JSON.stringify(ring)}`);
  return {
    west: Math.min(...lngs),
    south: Math.min(...lats),
    east: Math.max(...lngs),
    north: Math.max(...lats),
  };
}

Deno.test("start page creates a map and opens it as editor with the share dialog", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const browser = await launchChromium();
  try {
    const p = await newPerson(browser, ALICE);
    await p.page.goto(`${relay.url}/`);
    await p.page.getByLabel("Map title").fill("Picnic spots");
    await p.page.getByRole("button", { name: "Create map" }).click();
    await p.page.locator("#share-dialog[open]").waitFor();
    await waitLive(p.page);
    const edit = await p.page.locator("#share-edit").inputValue();
    const view = await p.page.locator("#share-view").inputValue();
    assert.match(
      edit,
      new RegExp(`^${relay.url}/m/[^#]+#key=[A-Za-z0-9_-]{20,}$`),
    );
    assert.match(
      view,
      new RegExp(`^${relay.url}/m/[^#]+#key=[A-Za-z0-9_-]{20,}$`),
    );
    assert.notEqual(edit, view);
    assert.equal(
      await p.page.locator("#map-title").innerText(),
      "Picnic spots",
    );
    assert.equal(
      new URL(p.page.url()).hash.includes("view="),
      false,
      "the view key left the URL",
    );
    await screenshot(p.page, "00-start-share-dialog");
    // The view link really is view-only.
    const v = await newPerson(browser, BOB);
    await v.page.goto(view);
    await waitLive(v.page);
    assert.equal(
      await v.page.evaluate(() => globalThis.duplex?.you()?.role),
      "viewer",
    );
    await v.context.close();
    await p.context.close();
  } finally {
    await browser.close();
  }
});

Deno.test("a map of 10 000 features opens and pans", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const browser = await launchChromium();
  try {
    const created = await createMap(relay.url, "Ten thousand");
    const list = [];
    for (let i = 0; i < 10_000; i++) {
      const x = -170 + (i % 100) * 3.4;
      const y = -60 + Math.floor(i / 100) * 1.3;
      list.push(
        i % 2 === 0
          ? {
            type: "Feature",
            id: `p${i}`,
            geometry: { type: "Point", coordinates: [x, y] },
            properties: { i },
          }
          : {
            type: "Feature",
            id: `a${i}`,
            geometry: {
              type: "Polygon",
              coordinates: [[
                [x, y],
                [x + 1, y],
                [x + 1, y + 0.8],
                [x, y + 0.8],
                [x, y],
              ]],
            },
            properties: { i },
          },
      );
    }
    const res = await fetch(
      `${relay.url}/api/maps/${created.id}/features?key=${created.editKey}`,
      {
        method: "PUT",
        headers: { "content-type": "application/geo+json" },
        body: JSON.stringify({ type: "FeatureCollection", features: list }),
      },
    );
    assert.ok(res.ok, `PUT answered ${res.status}: ${await res.text()}`);
    const p = await newPerson(browser, ALICE);
    await p.page.goto(`${relay.url}/m/${created.id}#key=${created.editKey}`);
    await waitLive(p.page, 30_000);
    await p.page.waitForFunction(() => globalThis.duplex?.featureCount() === 10_000);
    const box = await mapBox(p.page);
    for (const [dx, dy] of [[200, 0], [-150, 120], [0, -200]]) {
      await p.page.mouse.move(box.x + 400, box.y + 300);
      await p.page.mouse.down();
      await p.page.mouse.move(box.x + 400 + dx, box.y + 300 + dy, {
        steps: 10,
      });
      await p.page.mouse.up();
    }
    // A remote edit to one feature arrives and shows while the big map is open.
    const res2 = await p.page.evaluate(() =>
      globalThis.duplex?.sendEdit([{
        op: "props",
        fid: "p0",
        set: { checked: true },
      }])
    );
    assert.equal(res2?.ok, true);
    await p.page.waitForTimeout(300);
    await screenshot(p.page, "09-ten-thousand-features");
    assert.deepEqual(p.errors, []);
    await p.context.close();
  } finally {
    await browser.close();
  }
});
