/** Unsent offline edits outlive a closed tab: kept in IndexedDB, sent exactly once on the next visit. */
import assert from "assert";
import type { Page } from "playwright-core";
import {
  ALICE,
  BOB,
  excuseOfflineErrors,
  launchChromium,
  mapBox,
  newPerson,
  screenshot,
  waitLive,
} from "./_browser.ts";
import { getFeatures } from "./_fixtures.ts";
import { until } from "./_process.ts";
import { createMap, startRelay } from "./_relay.ts";
import type {} from "../public/src/debug.ts";

function storedUnsent(page: Page): Promise<number> {
  return page.evaluate(() => globalThis.duplex?.storedUnsent() ?? Promise.resolve(-1));
}

Deno.test("an edit made offline in a tab that is then closed is sent exactly once on the next visit", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url, "Field trip");
  const url = `${relay.url}/m/${map.id}#key=${map.editKey}`;
  const browser = await launchChromium();
  try {
    const a = await newPerson(browser, ALICE);
    const b = await newPerson(browser, BOB);
    await a.page.goto(url);
    await waitLive(a.page);
    await b.page.goto(url);
    await waitLive(b.page);

    // A loses the network and draws a point with the mouse.
    const offlineFrom = a.errors.length;
    await a.context.setOffline(true);
    await a.page.waitForFunction(() => globalThis.duplex?.status().state !== "live");
    const box = await mapBox(a.page);
    await a.page.locator(".leaflet-pm-icon-circle-marker").click();
    await a.page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await a.page.locator("#status", { hasText: "1 unsent edit" }).waitFor();
    const [drawn] = await a.page.evaluate(() => globalThis.duplex?.features() ?? []);
    assert.equal(drawn.geometry?.type, "Point");
    await until(async () => await storedUnsent(a.page) === 1, "the edit to be kept in IndexedDB");
    await screenshot(a.page, "h15-offline-unsent-edit");

    // Closing the tab asks first, because an edit is unsent; the person closes it anyway.
    const dialogs: string[] = [];
    a.page.on("dialog", (dialog) => {
      dialogs.push(dialog.type());
      void dialog.accept();
    });
    const closed = a.page.waitForEvent("close");
    await a.page.close({ runBeforeUnload: true });
    await closed;
    assert.deepEqual(dialogs, ["beforeunload"]);
    excuseOfflineErrors(a, offlineFrom);

    // The network is back; A opens the map again in the same browser.
    await a.context.setOffline(false);
    const again = await a.context.newPage();
    again.on("pageerror", (e) => a.errors.push(String(e)));
    await again.goto(url);
    await waitLive(again);
    await again.locator(".toast", {
      hasText: "1 unsent change from your last visit was sent.",
    }).waitFor();
    await again.waitForFunction(() => globalThis.duplex?.pendingCount() === 0);
    await until(async () => await storedUnsent(again) === 0, "the kept edit to be removed");
    await b.page.waitForFunction((fid) => globalThis.duplex?.feature(fid) !== null, drawn.id);
    await screenshot(again, "h15-next-visit-sent");

    // Exactly once: one accepted edit on the map, one feature, equal to what A drew.
    const onRelay = await getFeatures(relay.url, map.id, map.editKey);
    assert.deepEqual(onRelay.features.map((f) => f.id), [drawn.id]);
    assert.deepEqual(onRelay.features[0].geometry, drawn.geometry);
    assert.equal((await b.page.evaluate(() => globalThis.duplex?.editLog() ?? [])).length, 1);

    // A third visit finds nothing left to send, and a tab with nothing unsent closes unasked.
    const third = await a.context.newPage();
    await third.goto(url);
    await waitLive(third);
    assert.equal(await storedUnsent(third), 0);
    assert.equal(await third.evaluate(() => globalThis.duplex?.pendingCount()), 0);
    third.on("dialog", (dialog) => {
      dialogs.push(dialog.type());
      void dialog.accept();
    });
    await third.mouse.click(box.x + 20, box.y + box.height - 20);
    const thirdClosed = third.waitForEvent("close");
    await third.close({ runBeforeUnload: true });
    await thirdClosed;
    assert.deepEqual(dialogs, ["beforeunload"], "no question when nothing is unsent");
    assert.equal((await b.page.evaluate(() => globalThis.duplex?.editLog() ?? [])).length, 1);
    assert.deepEqual([...a.errors, ...b.errors], []);
  } finally {
    await browser.close();
  }
});
