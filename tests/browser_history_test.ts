/** Version history in Chromium: the timeline in words, named versions, a preview over the live map, a restore seen live by another page and undone, per-feature history, and a viewer who may look but not restore. */
import assert from "assert";
import type { Page } from "playwright-core";
import type { EditOp, StoredFeature } from "../relay/protocol.ts";
import {
  ALICE,
  BOB,
  features,
  launchChromium,
  newPerson,
  screenshot,
  waitLive,
} from "./_browser.ts";
import { createMap, startRelay } from "./_relay.ts";
import { connect } from "./_ws.ts";
import type {} from "../public/src/debug.ts";

function point(id: string, at: [number, number], name: string): EditOp {
  return {
    op: "put",
    feature: {
      type: "Feature",
      id,
      geometry: { type: "Point", coordinates: at },
      properties: { name },
    },
  };
}

/** Features without who-changed-them, by id: what "the same map" means here. */
function shapes(list: readonly StoredFeature[]): Record<string, unknown> {
  return Object.fromEntries(
    [...list].sort((a, b) => a.id.localeCompare(b.id)).map((
      f,
    ) => [f.id, [f.geometry, f.properties]]),
  );
}

async function send(page: Page, ops: EditOp[]): Promise<number> {
  const outcome = await page.evaluate((ops) => globalThis.duplex!.sendEdit(ops), ops);
  assert.ok(outcome.ok, JSON.stringify(outcome));
  return outcome.seq;
}

/** The timeline's text, one line per session (whitespace folded). */
async function timeline(page: Page): Promise<string[]> {
  const texts = await page.locator(".history-session").allInnerTexts();
  return texts.map((t) => t.replace(/\s+/g, " ").trim());
}

Deno.test("history in Chromium: timeline in words, preview, restore seen live and undone, per feature, viewer", async (t) => {
  await using relay = await startRelay();
  const browser = await launchChromium();
  try {
    const map = await createMap(relay.url, "History");
    const a = await newPerson(browser, ALICE);
    const b = await newPerson(browser, BOB);
    const viewer = await newPerson(browser, { name: "Vera", color: "#16a34a" });
    await a.page.goto(`${relay.url}/m/${map.id}#key=${map.editKey}`);
    await b.page.goto(`${relay.url}/m/${map.id}#key=${map.editKey}`);
    await viewer.page.goto(`${relay.url}/m/${map.id}#key=${map.viewKey}`);
    for (const p of [a, b, viewer]) await waitLive(p.page);
    const atSeq = async (seq: number) => {
      const res = await fetch(
        `${relay.url}/api/maps/${map.id}/features?key=${map.viewKey}&at=${seq}`,
      );
      assert.equal(res.status, 200);
      return shapes((await res.json()).features);
    };

    // A's story: two places, Dam moved, a named version, then Hut deleted and Dam renamed; Bob adds Camp.
    await send(a.page, [point("dam", [10, 50], "Dam"), point("hut", [12, 51], "Hut")]);
    const moved = await send(a.page, [{
      op: "geom",
      fid: "dam",
      geometry: { type: "Point", coordinates: [11, 50] },
    }]);
    await a.page.getByRole("button", { name: "History", exact: true }).click();
    await a.page.getByLabel("Name of the current version").fill("Before the field trip");
    await a.page.getByRole("button", { name: "Name current version" }).click();
    await a.page.locator(".history-version", { hasText: "Before the field trip" }).waitFor();
    await send(a.page, [{ op: "del", fid: "hut" }]);
    await send(a.page, [{ op: "props", fid: "dam", set: { name: "Big Dam", height: 40 } }]);
    await b.page.waitForFunction(() => globalThis.duplex?.feature("dam")?.properties.height === 40);
    // Cleo comments on the dam (a comment is part of the timeline), then Bob adds Camp.
    const cleo = await connect(relay.wsUrl, map.id, { label: "Cleo" });
    cleo.send({ type: "hello", key: map.editKey, name: "Cleo", color: "#16a34a", comments: true });
    await cleo.nextOf("welcome");
    cleo.send({
      type: "comment",
      ref: "r1",
      op: "add",
      text: "Is it here?",
      anchor: { fid: "dam" },
    });
    await cleo.waitFor((m) => m.type === "comment" && m.ref === "r1", 10_000, "the comment's ack");
    await cleo.close();
    await send(b.page, [point("camp", [13, 49], "Camp")]);
    await a.page.waitForFunction(() => globalThis.duplex?.featureCount() === 2);

    await t.step("A's timeline says who changed what, newest first, in sessions", async () => {
      await a.page.locator(".history-session", { hasText: "Bob" }).waitFor();
      const lines = await timeline(a.page);
      assert.equal(lines.length, 3, lines.join("\n"));
      assert.match(lines[0], /Bob.*'Camp'/);
      assert.match(lines[1], /Cleo commented on 'Big Dam': Is it here\?/);
      assert.match(lines[2], /Alice/);
      assert.match(lines[2], /deleted 'Hut'/);
      assert.match(
        lines[2],
        /Before the field trip/,
        "the named version is marked in the timeline",
      );
      await a.page.locator(".history-session", { hasText: "Alice" }).getByRole("button", {
        name: /single changes/,
      }).click();
      const single = await a.page.locator(".history-entry").allInnerTexts();
      assert.equal(single.length, 4, single.join("\n"));
      assert.match(single[2], /Alice moved 'Dam'/);
      assert.match(single[3], /Alice added 2 features/);
      assert.equal(
        await a.page.locator(".history-entry").first().getAttribute("title"),
        "changed 'Big Dam': height, name",
        "the single change says which properties",
      );
      await screenshot(a.page, "history-01-timeline");
    });

    await t.step(
      "A previews the named version over the live map; live edits still arrive",
      async () => {
        // Close enough to tell Dam's old place from its new one.
        for (const p of [a, b]) {
          await p.page.evaluate(() => globalThis.duplex!.setView([11.5, 50], 7));
        }
        await a.page.locator(".history-version", { hasText: "Before the field trip" }).click();
        const banner = a.page.locator(".history-banner");
        await banner.waitFor();
        assert.match(
          await banner.innerText(),
          /Viewing .*Before the field trip.*version of .* by Alice/,
        );
        await a.page.locator(".leaflet-history-preview-pane path").nth(1).waitFor();
        assert.equal(await a.page.locator(".leaflet-history-preview-pane path").count(), 2);
        await send(b.page, [{ op: "props", fid: "camp", set: { tents: 3 } }]);
        await a.page.waitForFunction(() =>
          globalThis.duplex?.feature("camp")?.properties.tents === 3
        );
        assert.ok(
          await banner.isVisible(),
          "the preview stays while the live map changes underneath",
        );
        await screenshot(a.page, "history-02-preview");
        await a.page.keyboard.press("Escape");
        await banner.waitFor({ state: "hidden" });
        assert.equal(await a.page.locator(".leaflet-history-preview-pane path").count(), 0);
      },
    );

    await t.step(
      "A restores it: one edit, B sees that version live, A's Undo reverts it",
      async () => {
        const before = shapes(await features(b.page));
        const bSeq = await b.page.evaluate(() => globalThis.duplex!.seq());
        await a.page.locator(".history-version", { hasText: "Before the field trip" }).click();
        await a.page.getByRole("button", { name: "Restore this version" }).click();
        const wanted = await atSeq(moved);
        await b.page.waitForFunction(() => globalThis.duplex?.feature("hut") !== null);
        await b.page.waitForFunction(() => globalThis.duplex?.feature("camp") === null);
        assert.deepEqual(shapes(await features(b.page)), wanted);
        const log = await b.page.evaluate(
          (s) => globalThis.duplex!.editLog().filter((e) => e.seq > s),
          bSeq,
        );
        assert.equal(log.length, 1, "the restore is one edit");
        const head = await (await fetch(
          `${relay.url}/api/maps/${map.id}/history?key=${map.viewKey}&limit=1`,
        )).json();
        assert.equal(head.entries[0].label, "Restored version 'Before the field trip'");
        await a.page.locator(".history-session").first().filter({ hasText: "Restored version" })
          .waitFor();
        await screenshot(b.page, "history-03-restored-on-b");
        await a.page.locator("#undo").click();
        await b.page.waitForFunction(() => globalThis.duplex?.feature("camp") !== null);
        await b.page.waitForFunction(() => globalThis.duplex?.feature("hut") === null);
        assert.deepEqual(shapes(await features(b.page)), before);
      },
    );

    await t.step("History of this feature lists only Dam's changes", async () => {
      await a.page.evaluate(() => globalThis.duplex!.select("dam"));
      await a.page.getByRole("button", { name: "History of this feature" }).click();
      await a.page.locator(".history-scope", { hasText: "Changes to 'Big Dam'" }).waitFor();
      await a.page.locator(".history-session").first().waitFor();
      const text = (await timeline(a.page)).join("\n");
      // Bob only touched Camp, and comments are not a feature's changes; Alice's Undo touched Dam.
      assert.doesNotMatch(text, /Bob|Cleo/);
      assert.match(text, /restored version 'Before the field trip'/);
      assert.match(text, /Alice/);
      assert.match(text, /Dam/);
      await screenshot(a.page, "history-04-feature");
      // The conflicts branch's "review in history" links fire this to open the panel at a seq.
      await a.page.evaluate(
        (seq) => dispatchEvent(new CustomEvent("duplex:history", { detail: { seq } })),
        moved,
      );
      await a.page.locator(".history-banner", { hasText: "by Alice" }).waitFor();
      await a.page.locator(".history-scope").waitFor({ state: "hidden" });
      await a.page.keyboard.press("Escape");
      await a.page.locator(".history-banner").waitFor({ state: "hidden" });
    });

    await t.step(
      "a viewer sees the history and previews, but has no Restore and cannot name versions",
      async () => {
        const v = viewer.page;
        await v.getByRole("button", { name: "History", exact: true }).click();
        await v.locator(".history-session", { hasText: "Restored version" }).waitFor();
        assert.ok(!(await v.getByRole("button", { name: "Name current version" }).isVisible()));
        await v.locator(".history-session-head").last().click();
        await v.locator(".history-banner").waitFor();
        assert.equal(await v.getByRole("button", { name: "Restore this version" }).count(), 0);
        await screenshot(v, "history-05-viewer-preview");
        await v.getByRole("button", { name: "Back to live" }).click();
        await v.locator(".history-banner").waitFor({ state: "hidden" });
      },
    );

    await t.step("an older page of history loads as the list scrolls", async () => {
      // More than a page (50 entries) of one-edit sessions: Alice and Bob take turns, 28 each.
      for (let i = 0; i < 28; i++) {
        await send(a.page, [{ op: "props", fid: "dam", set: { turn: `a${i}` } }]);
        await send(b.page, [{ op: "props", fid: "camp", set: { turn: `b${i}` } }]);
      }
      const asked: string[] = [];
      viewer.page.on("request", (r) => {
        // Only the older pages: the panel also asks for the head as live edits arrive.
        if (r.url().includes("/history?") && r.url().includes("before=")) {
          asked.push(new URL(r.url()).search);
        }
      });
      const v = viewer.page;
      await v.getByRole("button", { name: "Close the history" }).click();
      await v.getByRole("button", { name: "History", exact: true }).click();
      const more = v.locator(".history-more");
      await v.locator(".history-session").nth(49).waitFor();
      assert.doesNotMatch(await more.innerText(), /beginning/);
      assert.deepEqual(asked, [], "no older page while the list is not scrolled");
      await v.locator("#history-panel").evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await more.filter({ hasText: "The beginning of the map's history." }).waitFor();
      // The oldest session: Alice's first four edits, newest first, the last one counted.
      assert.match(
        (await timeline(v)).at(-1) ?? "",
        /Alice .*deleted 'Hut'; moved 'Dam'; and 1 more/,
      );
      assert.equal(asked.length, 1, "the next page is asked for with the cursor, once");
    });

    await t.step("a new comment joins the top of an open timeline, live", async () => {
      const cleo = await connect(relay.wsUrl, map.id, { label: "Cleo" });
      cleo.send({
        type: "hello",
        key: map.editKey,
        name: "Cleo",
        color: "#16a34a",
        comments: true,
      });
      await cleo.nextOf("welcome");
      cleo.send({
        type: "comment",
        ref: "r2",
        op: "add",
        text: "Lunch here",
        anchor: { at: [11, 50] },
      });
      await cleo.waitFor(
        (m) => m.type === "comment" && m.ref === "r2",
        10_000,
        "the comment's ack",
      );
      await cleo.close();
      await viewer.page.locator(".history-session").first().filter({
        hasText: "commented: Lunch here",
      }).waitFor();
      assert.match((await timeline(viewer.page))[0], /Cleo commented: Lunch here/);
      await viewer.page.locator("#history-panel").evaluate((el) => el.scrollTo(0, 0));
      await screenshot(viewer.page, "history-06-live-comment");
    });

    for (const p of [a, b, viewer]) assert.deepEqual(p.errors, []);
  } finally {
    await browser.close();
  }
});
