/** Comments in two Chromium pages: A pins a comment, B (a viewer the owner lets comment) sees it live and replies, A resolves; a comment on a feature follows it. */
import assert from "assert";
import type { Page } from "playwright-core";
import {
  ALICE,
  BOB,
  excuseOfflineErrors,
  launchChromium,
  newPerson,
  screenshot,
  waitLive,
} from "./_browser.ts";
import { createMap, startRelay } from "./_relay.ts";
import { connect } from "./_ws.ts";
import type {} from "../public/src/debug.ts";

/** Where `[lng, lat]` is on the page now. */
async function at(page: Page, lngLat: [number, number]): Promise<{ x: number; y: number }> {
  return await page.evaluate((p) => globalThis.duplex!.pagePoint(p), lngLat);
}

/** The page position of a thread's pin (its anchor point, at the bubble's lower left corner). */
async function pinPoint(page: Page, thread: string): Promise<{ x: number; y: number }> {
  const box = await page.locator(`.comment-pin[data-thread="${thread}"]`).boundingBox();
  assert.ok(box, `the pin of ${thread} is on the page`);
  return { x: box.x + 3, y: box.y + box.height };
}

Deno.test("comments in Chromium: pinned by A, seen live by B, answered by B once the owner allows viewers, resolved by A", async (t) => {
  await using relay = await startRelay({ args: ["--memory"] });
  const browser = await launchChromium();
  try {
    const created = await createMap(relay.url, "Bridges");
    const a = await newPerson(browser, ALICE);
    const b = await newPerson(browser, BOB);
    await a.page.goto(`${relay.url}/m/${created.id}#key=${created.editKey}`);
    await b.page.goto(`${relay.url}/m/${created.id}#key=${created.viewKey}`);
    await waitLive(a.page);
    await waitLive(b.page);
    for (const p of [a.page, b.page]) {
      await p.evaluate(() => globalThis.duplex!.setView([10, 50], 6));
    }

    await t.step("A pins a comment on a place; B's page shows its pin at once", async () => {
      // Esc leaves the tool without pinning anything.
      await a.page.locator(".comment-tool").click();
      await a.page.keyboard.press("Escape");
      assert.equal(await a.page.locator(".comment-tool").getAttribute("aria-pressed"), "false");
      await a.page.locator(".comment-tool").click();
      const spot = await at(a.page, [10, 50]);
      await a.page.mouse.click(spot.x, spot.y);
      await a.page.locator(".comment-new textarea").fill("Is the bridge still closed?");
      await a.page.locator(".comment-post").click();
      await a.page.locator('.comment-thread[data-thread="c1"]').waitFor();
      await b.page.locator('.comment-pin[data-thread="c1"]').waitFor();
      const pin = await pinPoint(b.page, "c1");
      const want = await at(b.page, [10, 50]);
      assert.ok(Math.hypot(pin.x - want.x, pin.y - want.y) < 4, "B's pin stands where A clicked");
      await screenshot(a.page, "comments-01-a-posted");
    });

    await t.step(
      "B opens the thread: author, time, and no reply box for a viewer yet",
      async () => {
        await b.page.locator('.comment-pin[data-thread="c1"]').click();
        const thread = b.page.locator('.comment-thread[data-thread="c1"]');
        await thread.waitFor();
        assert.match(await thread.locator(".comment-meta").first().innerText(), /Alice · just now/);
        assert.equal(
          await thread.locator(".comment-body").first().innerText(),
          "Is the bridge still closed?",
        );
        await thread.getByText("Only editors can comment on this map.").waitFor();
        assert.equal(await thread.locator("textarea").count(), 0);
        await screenshot(b.page, "comments-02-b-sees-thread");
      },
    );

    await t.step(
      "A lets viewers comment in the Share dialog; B's open thread gets a reply box live",
      async () => {
        await a.page.locator("#share").click();
        await a.page.locator("#share-viewers-comment").check();
        await screenshot(a.page, "comments-03-a-share-setting");
        await a.page.locator("#share-close").click();
        const thread = b.page.locator('.comment-thread[data-thread="c1"]');
        await thread.locator("textarea").waitFor();
        await thread.locator("textarea").fill("Yes, until Friday");
        await thread.locator(".comment-reply").click();
        await a.page.locator('.comment-thread[data-thread="c1"] .comment[data-comment="c2"]', {
          hasText: "Yes, until Friday",
        }).waitFor();
        assert.match(
          await a.page.locator('.comment-thread .comment[data-comment="c2"] .comment-meta')
            .innerText(),
          /Bob · just now/,
        );
        assert.equal(await b.page.locator(".comment-thread textarea").inputValue(), "");
        assert.equal(await a.page.locator('.comment-pin[data-thread="c1"]').innerText(), "2");
        await screenshot(a.page, "comments-04-a-sees-reply");
      },
    );

    await t.step(
      "A resolves: the thread leaves B's map, the Resolved toggle brings it back",
      async () => {
        await a.page.locator('.comment-thread[data-thread="c1"] .comment-resolve').click();
        await a.page.locator('.comment-thread[data-thread="c1"] .comment-resolve', {
          hasText: "Reopen",
        }).waitFor();
        await b.page.locator('.comment-pin[data-thread="c1"]').waitFor({ state: "detached" });
        await b.page.locator(".comments-show-resolved").check();
        await b.page.locator('.comment-pin.resolved[data-thread="c1"]').waitFor();
        await screenshot(b.page, "comments-05-b-resolved-shown");
      },
    );

    await t.step(
      "a comment in the History timeline opens its thread on the map, resolved and far away too",
      async () => {
        await a.page.locator(".comment-popup .leaflet-popup-close-button").click();
        await a.page.evaluate(() => globalThis.duplex!.setView([-60, -120], 6));
        // A's Resolved toggle is off: the resolved thread's pin is hidden.
        assert.equal(await a.page.locator('.comment-pin[data-thread="c1"]').count(), 0);
        await a.page.getByRole("button", { name: "History", exact: true }).click();
        const head = a.page.locator(".history-session", { hasText: "Is the bridge still closed?" })
          .locator(".history-session-head");
        // A presses on the entry; before she lets go, Bob edits his reply from another tab of
        // his browser (his author key) and A's open timeline refreshes to show it. The click
        // must still land.
        await head.hover();
        await a.page.mouse.down();
        const bobKey = await b.page.evaluate(() => localStorage.getItem("duplexmap.author"));
        const tab = await connect(relay.wsUrl, created.id, { label: "Bob's other tab" });
        tab.send({
          type: "hello",
          key: created.viewKey,
          name: "Bob",
          color: "#2563eb",
          comments: true,
          author: bobKey,
        });
        await tab.nextOf("welcome");
        tab.send({ type: "comment", ref: "r1", op: "edit", id: "c2", text: "Yes, until Monday" });
        await tab.waitFor((m) => m.type === "comment" && m.ref === "r1", 10_000, "the ack");
        await tab.close();
        await a.page.locator(".history-session", { hasText: "replied: Yes, until Monday" })
          .waitFor();
        await a.page.mouse.up();
        const thread = a.page.locator('.comment-thread[data-thread="c1"]');
        await thread.waitFor();
        assert.equal(
          await thread.locator(".comment-body").first().innerText(),
          "Is the bridge still closed?",
        );
        assert.ok(await thread.isVisible(), "the popup is in view");
        assert.ok(await a.page.locator(".comments-show-resolved").isChecked(), "resolved shown");
        // Leaflet fades the popup in: the screenshot waits for it.
        await a.page.locator(".comment-popup").evaluate((el) => {
          const view = (el as unknown as { ownerDocument: { defaultView: Window } }).ownerDocument
            .defaultView as unknown as { getComputedStyle(e: unknown): { opacity: string } };
          return new Promise<void>((done) => {
            const check = () =>
              view.getComputedStyle(el).opacity === "1" ? done() : setTimeout(check, 20);
            check();
          });
        });
        await screenshot(a.page, "comments-05b-a-thread-from-history");
        await a.page.getByRole("button", { name: "History", exact: true }).click();
      },
    );

    await t.step(
      "a comment on a feature (from its panel) follows the feature when it moves",
      async () => {
        await a.page.evaluate(() =>
          globalThis.duplex!.sendEdit([{
            op: "put",
            feature: {
              type: "Feature",
              id: "dam",
              geometry: { type: "Point", coordinates: [12, 51] },
              properties: { name: "Dam" },
            },
          }])
        );
        await a.page.evaluate(() => globalThis.duplex!.select("dam"));
        await a.page.locator("#props-body .comment-on").click();
        await a.page.locator(".comment-new", { hasText: "Comment on 'Dam'" }).waitFor();
        await a.page.locator(".comment-new textarea").fill("Spillway looks blocked");
        await a.page.locator(".comment-post").click();
        await b.page.locator('.comment-pin[data-thread="c3"]').waitFor();
        await a.page.evaluate(() =>
          globalThis.duplex!.sendEdit([{
            op: "geom",
            fid: "dam",
            geometry: { type: "Point", coordinates: [8, 49] },
          }])
        );
        await b.page.waitForFunction(() =>
          globalThis.duplex!.feature("dam")?.geometry?.type === "Point" &&
          JSON.stringify(globalThis.duplex!.feature("dam")?.geometry) ===
            JSON.stringify({ type: "Point", coordinates: [8, 49] })
        );
        const pin = await pinPoint(b.page, "c3");
        const want = await at(b.page, [8, 49]);
        assert.ok(Math.hypot(pin.x - want.x, pin.y - want.y) < 4, "the pin moved with the feature");
        await screenshot(b.page, "comments-06-b-feature-comment-moved");
      },
    );

    await t.step(
      "Export → Comments (GeoJSON) downloads the threads as a layer of their own",
      async () => {
        await a.page.locator("#export").click();
        const [download] = await Promise.all([
          a.page.waitForEvent("download"),
          a.page.getByRole("menuitem", { name: "Comments (GeoJSON)" }).click(),
        ]);
        assert.equal(download.suggestedFilename(), "bridges-comments.geojson");
        const fc = JSON.parse(await Deno.readTextFile((await download.path())!));
        // c1 stands where A clicked (to the pixel), c3 on the dam as it is now.
        assert.deepEqual(
          fc.features.map((f: { id: string; geometry: { coordinates: number[] } }) => [
            f.id,
            f.geometry.coordinates.map((x) => Math.round(x * 10) / 10),
          ]),
          [["c1", [10, 50]], ["c3", [8, 49]]],
        );
        assert.equal(fc.features[0].properties.replies[0].text, "Yes, until Monday");
      },
    );

    await t.step(
      "B edits his own reply, not A's; A sees it edited; A (an editor) deletes it, then the thread",
      async () => {
        for (const p of [a.page, b.page]) {
          // An open popup may cover the pin: close it first.
          for (const close of await p.locator(".leaflet-popup-close-button").all()) {
            await close.click();
          }
          await p.evaluate(() => globalThis.duplex!.setView([10, 50], 6));
          await p.locator('.comment-pin[data-thread="c1"]').click();
        }
        const bThread = b.page.locator('.comment-thread[data-thread="c1"]');
        const aThread = a.page.locator('.comment-thread[data-thread="c1"]');
        await bThread.waitFor();
        await aThread.waitFor();
        // Bob's browser wrote c2: Edit and Delete. Alice's c1: neither, for a viewer.
        assert.equal(await bThread.locator('[data-comment="c2"] .comment-edit').count(), 1);
        assert.equal(await bThread.locator('[data-comment="c2"] .comment-delete').count(), 1);
        assert.equal(await bThread.locator('[data-comment="c1"] .comment-actions').count(), 0);
        // Alice, an editor, may delete Bob's reply but not put words in his mouth.
        assert.equal(await aThread.locator('[data-comment="c2"] .comment-edit').count(), 0);
        assert.equal(await aThread.locator('[data-comment="c2"] .comment-delete').count(), 1);

        await bThread.locator('[data-comment="c2"] .comment-edit').click();
        const box = bThread.locator('[data-comment="c2"] textarea');
        assert.equal(await box.inputValue(), "Yes, until Monday");
        await box.fill("Yes, until Monday noon");
        // A replies meanwhile: B's thread shows it, and B's words stay in his box.
        await aThread.locator(".comment-reply-row textarea").fill("Thanks");
        await aThread.locator(".comment-reply").click();
        await bThread.locator('[data-comment="c4"]', { hasText: "Thanks" }).waitFor();
        assert.equal(await box.inputValue(), "Yes, until Monday noon");
        await screenshot(b.page, "comments-07-b-edits-reply");
        // Ctrl+Enter twice (the second while the first is on its way): nothing is refused.
        await box.focus();
        await b.page.keyboard.press("Control+Enter");
        await b.page.keyboard.press("Control+Enter");
        await aThread.locator('[data-comment="c2"] .comment-body', {
          hasText: "Yes, until Monday noon",
        }).waitFor();
        assert.match(
          await aThread.locator('[data-comment="c2"] .comment-meta').innerText(),
          /Bob · just now · edited/,
        );
        await bThread.locator('[data-comment="c2"] textarea').waitFor({ state: "detached" });
        assert.equal(await b.page.locator(".toast.error").count(), 0, "no refusal on B's page");

        await aThread.locator('[data-comment="c2"] .comment-delete').click();
        await aThread.getByText("Delete this reply?").waitFor();
        // Esc asks no more; Delete again asks again.
        await a.page.keyboard.press("Escape");
        await aThread.getByText("Delete this reply?").waitFor({ state: "detached" });
        assert.equal(await aThread.count(), 1, "Esc left the thread open");
        await aThread.locator('[data-comment="c2"] .comment-delete').click();
        await screenshot(a.page, "comments-08-a-confirms-delete");
        await aThread.locator('[data-comment="c2"] .comment-delete-yes').click();
        await bThread.locator('[data-comment="c2"]').waitFor({ state: "detached" });
        await aThread.locator('[data-comment="c2"]').waitFor({ state: "detached" });
        assert.equal(await b.page.locator('.comment-pin[data-thread="c1"]').innerText(), "2");

        // Alice's own thread: deleted for everyone, its open popups and pins with it.
        await aThread.locator('[data-comment="c1"] .comment-delete').click();
        await aThread.getByText("Delete this thread and its 1 reply?").waitFor();
        await aThread.locator('[data-comment="c1"] .comment-delete-yes').click();
        await b.page.locator('.comment-pin[data-thread="c1"]').waitFor({ state: "detached" });
        await bThread.waitFor({ state: "detached" });
        await aThread.waitFor({ state: "detached" });
        assert.equal(await a.page.locator('.comment-pin[data-thread="c3"]').count(), 1);
        await screenshot(b.page, "comments-09-b-thread-gone");
      },
    );

    await t.step(
      "B drops off the network; back, B's page catches up on the comments changed meanwhile",
      async () => {
        const welcomes: Record<string, unknown>[] = [];
        b.page.on("websocket", (ws) =>
          ws.on("framereceived", ({ payload }) => {
            for (const m of [JSON.parse(String(payload))].flat()) {
              if (m.type === "welcome") welcomes.push(m);
            }
          }));
        const from = b.errors.length;
        await b.context.setOffline(true);
        await b.page.waitForFunction(() => globalThis.duplex?.status().state !== "live");
        // Meanwhile A edits her comment on the dam and pins a new one.
        await a.page.evaluate(() => globalThis.duplex!.setView([10, 50], 6));
        for (const close of await a.page.locator(".leaflet-popup-close-button").all()) {
          await close.click();
        }
        await a.page.locator('.comment-pin[data-thread="c3"]').click();
        const dam = a.page.locator('.comment-thread[data-thread="c3"]');
        await dam.locator('[data-comment="c3"] .comment-edit').click();
        await dam.locator('[data-comment="c3"] textarea').fill("Spillway cleared");
        await dam.locator('[data-comment="c3"] .comment-save').click();
        await dam.locator('[data-comment="c3"] .comment-body', { hasText: "Spillway cleared" })
          .waitFor();
        await a.page.locator(".comment-popup .leaflet-popup-close-button").click();
        await a.page.locator(".comment-tool").click();
        const spot = await at(a.page, [11, 50]);
        await a.page.mouse.click(spot.x, spot.y);
        await a.page.locator(".comment-new textarea").fill("Meet here at noon");
        await a.page.locator(".comment-post").click();
        const meet = await a.page.locator(".comment-thread", { hasText: "Meet here at noon" })
          .getAttribute("data-thread");
        assert.equal(meet, "c5", "ids go on after the deleted ones, never reused");

        await b.context.setOffline(false);
        await waitLive(b.page, 30_000);
        excuseOfflineErrors(b, from);
        await b.page.locator('.comment-pin[data-thread="c5"]').waitFor();
        await screenshot(b.page, "comments-10-b-caught-up");
        await b.page.locator('.comment-pin[data-thread="c3"]').click();
        await b.page.locator('.comment-thread[data-thread="c3"] .comment-body', {
          hasText: "Spillway cleared",
        }).waitFor();
        // The welcome after the drop carried only what changed, not every comment again.
        const back = welcomes.at(-1);
        assert.ok(back, "B came back over its WebSocket, not the HTTP fallback");
        assert.equal("comments" in back, false);
        assert.deepEqual(
          (back.commentsChanged as { id: string }[]).map((c) => c.id),
          ["c3", "c5"],
        );
      },
    );

    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
  } finally {
    await browser.close();
  }
});
