/** Conflicts in Chromium: undo over someone else's newer move asks first (Skip / Undo anyway); offline edits over newer changes are reported. */
import assert from "assert";
import type { Page } from "playwright-core";
import {
  ALICE,
  BOB,
  excuseOfflineErrors,
  launchChromium,
  newPerson,
  type Person,
  screenshot,
  waitLive,
} from "./_browser.ts";
import { square } from "./_fixtures.ts";
import { createMap, startRelay } from "./_relay.ts";
import type {} from "../public/src/debug.ts";
import type { StoredFeature } from "../relay/protocol.ts";

const DAM: StoredFeature = {
  type: "Feature",
  id: "dam",
  geometry: square(0, 0, 0.25) as StoredFeature["geometry"],
  properties: { name: "Dam", fill: "#2563eb" },
};

/** The dam's first corner (its west-south one) as a page sees it. */
async function corner(page: Page): Promise<number[]> {
  const g = await page.evaluate(() => globalThis.duplex?.feature("dam")?.geometry);
  assert.ok(g?.type === "Polygon", "the dam is on the map");
  return g.coordinates[0][0];
}

/** Drags the dam by `dx` pixels with Geoman's drag mode, as a person does. */
async function dragDam(p: Person, dx: number): Promise<void> {
  const [lng, lat] = await corner(p.page);
  const from = await p.page.evaluate(
    (at) => globalThis.duplex!.pagePoint(at),
    [lng + 0.25, lat + 0.25] as [number, number],
  );
  await p.page.locator(".leaflet-pm-icon-drag").click();
  await p.page.mouse.move(from.x, from.y);
  await p.page.mouse.down();
  await p.page.mouse.move(from.x + dx, from.y, { steps: 8 });
  await p.page.mouse.up();
  await p.page.locator(".leaflet-pm-icon-drag").click();
}

/** Waits until `page` shows the dam's first corner at longitude `lng` (to 4 decimals). */
async function damAt(page: Page, lng: number): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const g = globalThis.duplex?.feature("dam")?.geometry;
      return g?.type === "Polygon" && Math.abs(g.coordinates[0][0][0] - want) < 1e-4;
    },
    lng,
  );
}

Deno.test("conflicts in Chromium: undo over another person's newer move asks; Skip keeps it, Undo anyway restores mine; offline overwrites are reported", async (t) => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url, "Conflicts");
  const url = `${relay.url}/m/${map.id}#key=${map.editKey}`;
  const browser = await launchChromium();
  try {
    const a = await newPerson(browser, ALICE);
    const b = await newPerson(browser, BOB);
    for (const p of [a, b]) {
      await p.page.goto(url);
      await waitLive(p.page);
      await p.page.evaluate(() => globalThis.duplex!.setView([0, 0], 8));
    }
    await b.page.evaluate((dam) => globalThis.duplex!.sendEdit([{ op: "put", feature: dam }]), DAM);
    await a.page.waitForFunction(() => globalThis.duplex?.feature("dam") !== null);
    const start = (await corner(a.page))[0];

    await t.step(
      "A drags the dam, B drags it further, A presses Ctrl+Z: the page asks; Skip keeps B's move",
      async () => {
        await dragDam(a, 120);
        await b.page.waitForFunction((was) => {
          const g = globalThis.duplex?.feature("dam")?.geometry;
          return g?.type === "Polygon" && g.coordinates[0][0][0] > was + 0.1;
        }, start);
        await dragDam(b, 80);
        const bobs = (await corner(b.page))[0];
        await damAt(a.page, bobs);
        await a.page.waitForFunction(() => globalThis.duplex?.pendingCount() === 0);
        await a.page.locator("#map").focus();
        await a.page.keyboard.press("Control+z");
        const choice = a.page.locator(".conflict-choice");
        await choice.waitFor();
        assert.equal(
          await choice.locator(".conflict-text").innerText(),
          "Bob moved 'Dam' after your change.",
        );
        assert.equal(await a.page.locator("#undo").isDisabled(), true, "no second undo meanwhile");
        await screenshot(a.page, "conflicts-01-undo-choice");
        await choice.getByRole("button", { name: "Skip" }).click();
        await choice.waitFor({ state: "detached" });
        // Nothing was sent: both pages still show B's move, and A has nothing left to undo.
        await a.page.waitForTimeout(300);
        assert.equal((await corner(a.page))[0], bobs);
        assert.equal((await corner(b.page))[0], bobs);
        assert.equal(await a.page.locator("#undo").isDisabled(), true);
        await screenshot(b.page, "conflicts-02-b-after-skip");
      },
    );

    await t.step("again, and Undo anyway puts back A's start, which B sees", async () => {
      const before = (await corner(a.page))[0];
      await dragDam(a, -150);
      await b.page.waitForFunction((was) => {
        const g = globalThis.duplex?.feature("dam")?.geometry;
        return g?.type === "Polygon" && g.coordinates[0][0][0] < was - 0.1;
      }, before);
      await dragDam(b, 60);
      await damAt(a.page, (await corner(b.page))[0]);
      await a.page.waitForFunction(() => globalThis.duplex?.pendingCount() === 0);
      await a.page.locator("#map").focus();
      await a.page.keyboard.press("Control+z");
      const choice = a.page.locator(".conflict-choice");
      await choice.getByRole("button", { name: "Undo anyway" }).click();
      await damAt(b.page, before);
      await damAt(a.page, before);
      assert.deepEqual(
        await a.page.evaluate(() => globalThis.duplex?.feature("dam")),
        await b.page.evaluate(() => globalThis.duplex?.feature("dam")),
      );
      await screenshot(b.page, "conflicts-03-b-after-undo-anyway");
    });

    await t.step(
      "A changes the fill offline, B changes it meanwhile: after the ack A is told, with a link to the history",
      async () => {
        await a.page.evaluate(() => {
          const seen: unknown[] = [];
          (globalThis as unknown as { historyAsked: unknown[] }).historyAsked = seen;
          addEventListener("duplex:feature-history", (e) => seen.push((e as CustomEvent).detail));
        });
        const offlineFrom = a.errors.length;
        await a.context.setOffline(true);
        await a.page.waitForFunction(() => globalThis.duplex?.status().state !== "live");
        // Not awaited: the edit settles only once A is back online.
        await a.page.evaluate(() => {
          void globalThis.duplex!.sendEdit([{ op: "props", fid: "dam", set: { fill: "#16a34a" } }]);
        });
        await a.page.locator("#status", { hasText: "1 unsent edit" }).waitFor();
        await b.page.evaluate(() =>
          globalThis.duplex!.sendEdit([{ op: "props", fid: "dam", set: { fill: "#f59e0b" } }])
        );
        await b.page.waitForFunction(() => globalThis.duplex?.pendingCount() === 0);
        await a.context.setOffline(false);
        await waitLive(a.page, 30_000);
        excuseOfflineErrors(a, offlineFrom);
        const report = a.page.locator(".overwrite-report");
        await report.waitFor();
        assert.equal(
          await report.locator("p").innerText(),
          "1 of your offline changes replaced a newer change by Bob:",
        );
        assert.equal(await report.locator("li").count(), 1);
        assert.match(await report.locator("li").innerText(), /^'Dam' fill\s+Review in history$/);
        // A's change is the later one: both pages show it.
        await b.page.waitForFunction(() =>
          globalThis.duplex?.feature("dam")?.properties.fill === "#16a34a"
        );
        await screenshot(a.page, "conflicts-04-offline-report");
        await report.getByRole("button", { name: "Review in history" }).click();
        assert.deepEqual(
          await a.page.evaluate(() =>
            (globalThis as unknown as { historyAsked: unknown[] }).historyAsked
          ),
          [{ fid: "dam" }],
        );
      },
    );

    assert.deepEqual([...a.errors, ...b.errors], []);
  } finally {
    await browser.close();
  }
});
