/** The feature table in Chromium: live cell edits between two pages, column rename with one undo, sort, filter, selection both ways, 10 000 rows virtualised. */
import assert from "assert";
import type { Page } from "playwright-core";
import type { EditOp } from "../relay/protocol.ts";
import { ALICE, BOB, launchChromium, newPerson, screenshot, waitLive } from "./_browser.ts";
import { createMap, startRelay } from "./_relay.ts";
import type {} from "../public/src/debug.ts";

/** The fids of the rows in the DOM, top to bottom. */
async function rowOrder(page: Page): Promise<string[]> {
  const rows = await page.locator(".ft-body .ft-row").evaluateAll((rs) =>
    rs.map((r) => [Number(r.getAttribute("data-index")), r.getAttribute("data-fid") ?? ""] as const)
  );
  return rows.sort((x, y) => x[0] - y[0]).map((r) => r[1]);
}

/** The text a cell shows, by feature id and column header. */
async function cellText(page: Page, fid: string, column: string): Promise<string | null> {
  const col = await colIndex(page, column);
  return col < 0 ? null : await cell(page, fid, col).textContent();
}

/** A column's place in the grid, by its header (-1 when there is none). */
async function colIndex(page: Page, column: string): Promise<number> {
  const keys = await page.locator(".ft-header [role=columnheader]").evaluateAll((cs) =>
    cs.map((c) => c.getAttribute("data-key"))
  );
  return keys.indexOf(column);
}

/** Waits until exactly one row is in the table. */
async function oneRow(page: Page): Promise<void> {
  await page.locator(".ft-body .ft-row").nth(1).waitFor({ state: "detached" });
}

function cell(page: Page, fid: string, col: number) {
  return page.locator(`.ft-body .ft-row[data-fid="${fid}"] > .ft-cell`).nth(col);
}

const seed: EditOp[] = [
  {
    op: "put",
    feature: {
      type: "Feature",
      id: "paris",
      geometry: { type: "Point", coordinates: [2.35, 48.85] },
      properties: { name: "Paris", pop: 2_100_000, open: true, tags: { river: "Seine" } },
    },
  },
  {
    op: "put",
    feature: {
      type: "Feature",
      id: "zurich",
      geometry: { type: "Point", coordinates: [8.54, 47.37] },
      properties: { name: "Zürich", pop: 420_000, open: false },
    },
  },
  {
    op: "put",
    feature: {
      type: "Feature",
      id: "route",
      geometry: { type: "LineString", coordinates: [[2.35, 48.85], [8.54, 47.37]] },
      properties: { name: "Route", pop: 9 },
    },
  },
];

Deno.test("feature table in Chromium: live edits, one-undo column rename, sort, filter, selection, 10 000 rows", async (t) => {
  await using relay = await startRelay({ args: ["--memory"] });
  const browser = await launchChromium();
  try {
    const a = await newPerson(browser, ALICE);
    const b = await newPerson(browser, BOB);
    const map = await createMap(relay.url, "Table");
    const url = `${relay.url}/m/${map.id}#key=${map.editKey}`;
    for (const p of [a, b]) {
      await p.page.goto(url);
      await waitLive(p.page);
    }
    const outcome = await a.page.evaluate((ops) => globalThis.duplex!.sendEdit(ops), seed);
    assert.ok(outcome.ok);
    await b.page.waitForFunction(() => globalThis.duplex?.featureCount() === 3);
    for (const p of [a, b]) {
      await p.page.getByRole("button", { name: "Table", exact: true }).click();
      await p.page.locator(".ft-body .ft-row").nth(2).waitFor();
    }

    await t.step("typed columns, sort by clicking a header, filter", async () => {
      const heads = await a.page.locator(".ft-header .ft-sort").allInnerTexts();
      assert.deepEqual(heads.map((s) => s.replace(/\s+/g, " ").trim()), [
        "Geometry",
        "name text",
        "pop number",
        "open boolean",
        "tags json",
      ]);
      assert.equal(await cellText(a.page, "paris", "tags"), '{"river":"Seine"}');
      assert.ok(await cell(a.page, "paris", 3).locator("input[type=checkbox]").isChecked());
      await a.page.getByTitle("Sort by pop").click();
      assert.deepEqual(await rowOrder(a.page), ["route", "zurich", "paris"]);
      assert.equal(
        await a.page.locator("[role=columnheader][aria-sort=ascending] .ft-sort").innerText(),
        "pop number ▲",
      );
      await a.page.getByTitle("Sort by pop").click();
      assert.deepEqual(await rowOrder(a.page), ["paris", "zurich", "route"]);
      await a.page.getByLabel("Filter rows (any column)").fill("ZURICH");
      await oneRow(a.page);
      assert.deepEqual(await rowOrder(a.page), ["zurich"]);
      assert.equal(await a.page.locator(".ft-count").innerText(), "1 of 3 features");
      await screenshot(a.page, "table-01-sorted-filtered");
      await a.page.getByLabel("Filter rows (any column)").fill("");
      await a.page.getByLabel("Filter Geometry").fill("line");
      await oneRow(a.page);
      assert.deepEqual(await rowOrder(a.page), ["route"]);
      await a.page.getByLabel("Filter Geometry").fill("");
      await a.page.locator(".ft-body .ft-row").nth(2).waitFor();
    });

    await t.step("A edits cells in place; B's table and panel show it live", async () => {
      await b.page.evaluate(() => globalThis.duplex!.select("zurich"));
      await cell(a.page, "zurich", 1).dblclick();
      const editor = a.page.getByLabel("name of this feature");
      await editor.fill("Zuerich");
      await editor.press("Tab"); // commits and opens the next cell (pop)
      const pop = a.page.getByLabel("pop of this feature");
      await pop.fill("lots");
      await pop.press("Enter");
      await a.page.locator(".ft-note", { hasText: '"lots" is not a number' }).waitFor();
      await pop.fill("430000");
      await pop.press("Enter");
      await b.page.waitForFunction(() =>
        globalThis.duplex?.feature("zurich")?.properties.pop === 430000
      );
      assert.equal(await cellText(b.page, "zurich", "name"), "Zuerich");
      assert.equal(await cellText(b.page, "zurich", "pop"), "430000");
      assert.equal(await b.page.getByLabel("Value of name").inputValue(), "Zuerich");
      // The boolean column is a checkbox.
      await cell(a.page, "zurich", 3).locator("input").click();
      await b.page.waitForFunction(() =>
        globalThis.duplex?.feature("zurich")?.properties.open === true
      );
      await screenshot(b.page, "table-02-b-sees-edit");
    });

    await t.step("a remote change to the cell being edited is pointed out", async () => {
      await cell(a.page, "paris", 1).dblclick();
      await b.page.evaluate(() =>
        globalThis.duplex!.sendEdit([{ op: "props", fid: "paris", set: { name: "Lutèce" } }])
      );
      await a.page.locator(".ft-note", { hasText: 'meanwhile to "Lutèce"' }).waitFor();
      assert.equal(await a.page.getByLabel("name of this feature").inputValue(), "Paris");
      await screenshot(a.page, "table-03-conflict-note");
      await a.page.getByLabel("name of this feature").press("Escape");
      assert.equal(await cellText(a.page, "paris", "name"), "Lutèce");
    });

    await t.step("rename a column on A: B sees it; one undo on A restores it", async () => {
      const edits = await a.page.evaluate(() => globalThis.duplex!.editLog().length);
      a.page.once("dialog", (d) => void d.accept("population"));
      await a.page.getByLabel("Rename column pop").click();
      await b.page.getByTitle("Sort by population").waitFor();
      assert.equal(await cellText(b.page, "paris", "population"), "2100000");
      assert.equal(await a.page.evaluate(() => globalThis.duplex!.editLog().length), edits + 1);
      await screenshot(b.page, "table-04-renamed");
      await a.page.locator("#undo").click();
      await b.page.getByTitle("Sort by pop", { exact: true }).waitFor();
      const props = await b.page.evaluate(() =>
        globalThis.duplex!.features().map((f) => f.properties)
      );
      assert.ok(props.every((p) => !("population" in p) && "pop" in p));
    });

    await t.step("a row click selects and zooms; a map selection highlights the row", async () => {
      await cell(a.page, "paris", 0).click();
      assert.equal(await a.page.evaluate(() => globalThis.duplex!.selected()), "paris");
      await a.page.waitForFunction(() => globalThis.duplex!.view().zoom >= 12);
      const view = await a.page.evaluate(() => globalThis.duplex!.view());
      assert.ok(Math.abs(view.center[0] - 2.35) < 0.01 && Math.abs(view.center[1] - 48.85) < 0.01);
      assert.equal(await a.page.locator(".ft-row.ft-selected").getAttribute("data-fid"), "paris");
      await b.page.evaluate(() => globalThis.duplex!.select("route"));
      await b.page.locator('.ft-row.ft-selected[data-fid="route"]').waitFor();
      await screenshot(a.page, "table-05-row-selected-zoomed");
      // By keyboard: the row click left Paris's first cell active; Right, F2, type, Enter.
      const grid = a.page.getByRole("grid", { name: "Features" });
      await grid.focus();
      await grid.press("ArrowRight");
      await grid.press("F2");
      await a.page.getByLabel("name of this feature").fill("Paris");
      await a.page.getByLabel("name of this feature").press("Enter");
      await b.page.waitForFunction(() =>
        globalThis.duplex?.feature("paris")?.properties.name === "Paris"
      );
      assert.equal(await grid.getAttribute("aria-activedescendant"), "ft-active-cell");
    });

    await t.step("a viewer sees the table read-only", async () => {
      const c = await newPerson(browser, { name: "Carol", color: "#16a34a" });
      await c.page.goto(`${relay.url}/m/${map.id}#key=${map.viewKey}`);
      await waitLive(c.page);
      await c.page.getByRole("button", { name: "Table", exact: true }).click();
      await cell(c.page, "paris", 1).dblclick();
      assert.equal(await c.page.locator(".ft-editor").count(), 0);
      const open = await colIndex(c.page, "open");
      assert.ok(await cell(c.page, "paris", open).locator("input").isDisabled());
      assert.ok(!(await c.page.getByLabel("Rename column name").isVisible()));
      assert.equal(await c.page.getByRole("grid").getAttribute("aria-readonly"), "true");
      await screenshot(c.page, "table-06-viewer");
      assert.deepEqual(c.errors, []);
    });

    await t.step("10 000 features: the DOM holds only a window of rows", async () => {
      const big = await createMap(relay.url, "Big");
      await a.page.goto(`${relay.url}/m/${big.id}#key=${big.editKey}`);
      await waitLive(a.page);
      await a.page.evaluate(async () => {
        for (let part = 0; part < 4; part++) {
          const ops: EditOp[] = [];
          for (let i = part * 2500; i < (part + 1) * 2500; i++) {
            ops.push({
              op: "put",
              feature: {
                type: "Feature",
                id: `p${i}`,
                geometry: { type: "Point", coordinates: [(i % 360) - 180, (i % 170) - 85] },
                properties: { name: `Point ${i}`, n: i, even: i % 2 === 0 },
              },
            });
          }
          const r = await globalThis.duplex!.sendEdit(ops);
          if (!r.ok) throw new Error(JSON.stringify(r));
        }
      });
      await a.page.getByRole("button", { name: "Table", exact: true }).click();
      await a.page.locator(".ft-count", { hasText: "10000 features" }).waitFor();
      const grid = a.page.getByRole("grid", { name: "Features" });
      assert.equal(await grid.getAttribute("aria-rowcount"), "10002");
      const rendered = await a.page.locator(".ft-body .ft-row").count();
      assert.ok(rendered > 5 && rendered < 100, `${rendered} rows in the DOM`);
      await grid.evaluate((el) => el.scrollTop = el.scrollHeight);
      await a.page.locator('.ft-body .ft-row[data-fid="p9999"]').waitFor();
      const after = await a.page.locator(".ft-body .ft-row").count();
      assert.ok(after < 100, `${after} rows in the DOM after scrolling`);
      // Edits update rows in place: the scroll position stays, for a changed and a new feature.
      const top = await grid.evaluate((el) => el.scrollTop);
      await a.page.evaluate(() =>
        globalThis.duplex!.sendEdit([
          { op: "props", fid: "p9998", set: { name: "Changed" } },
          {
            op: "put",
            feature: {
              type: "Feature",
              id: "extra",
              geometry: null,
              properties: { name: "Extra" },
            },
          },
        ])
      );
      await a.page.locator(".ft-count", { hasText: "10001 features" }).waitFor();
      assert.equal(await cellText(a.page, "p9998", "name"), "Changed");
      assert.equal(await grid.evaluate((el) => el.scrollTop), top);
      await screenshot(a.page, "table-07-10000-rows-bottom");
    });

    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
  } finally {
    await browser.close();
  }
});
