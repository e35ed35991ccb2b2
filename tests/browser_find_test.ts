/** The search box in Chromium against a real relay: coordinates, features, places, online results. */
import assert from "assert";
import type { Page } from "playwright-core";
import { ALICE, BOB, launchChromium, newPerson, screenshot, waitLive } from "./_browser.ts";
import { createMap, startRelay } from "./_relay.ts";
import type {} from "../public/src/debug.ts";
import type { StoredFeature } from "../relay/protocol.ts";

const KIOSK: StoredFeature = {
  type: "Feature",
  id: "kiosk",
  geometry: { type: "Point", coordinates: [151.2153, -33.8568] },
  properties: { name: "Harbour kiosk", opening: "Früh morgens" },
};
const PARK: StoredFeature = {
  type: "Feature",
  id: "park",
  geometry: {
    type: "Polygon",
    coordinates: [[[-0.19, 51.5], [-0.15, 51.5], [-0.15, 51.51], [-0.19, 51.51], [-0.19, 51.5]]],
  },
  properties: { title: "Hyde Park", note: "meet at the kiosk" },
};

/** One jsonv2 result, as a Nominatim would answer "Bahnhofstrasse". */
const BAHNHOFSTRASSE = {
  lat: "47.3729",
  lon: "8.5389",
  name: "Bahnhofstrasse",
  display_name: "Bahnhofstrasse, Zürich, Schweiz",
  address: { road: "Bahnhofstrasse", state: "Zürich", country: "Schweiz" },
  boundingbox: ["47.3664", "47.3777", "8.5367", "8.5404"],
};

/** Waits until the map is centred on `[lat, lon]` (within ~10 m) at `zoom`, if given. */
async function centredOn(page: Page, lat: number, lon: number, zoom?: number): Promise<void> {
  await page.waitForFunction(([lat, lon, zoom]) => {
    const v = globalThis.duplex?.view();
    return v !== undefined && Math.abs(v.center[1] - lat) < 1e-4 &&
      Math.abs(v.center[0] - lon) < 1e-4 && (zoom === null || v.zoom === zoom);
  }, [lat, lon, zoom ?? null] as const);
}

/** Whether `[lon, lat]` is inside the map's view. */
async function inView(page: Page, [lon, lat]: number[]): Promise<boolean> {
  const v = await page.evaluate(() => globalThis.duplex?.view());
  assert.ok(v);
  const [w, s, e, n] = v.bbox;
  return lon >= w && lon <= e && lat >= s && lat <= n;
}

/** The id of the focused element (the tests are not type-checked with the DOM's types). */
async function focusedId(page: Page): Promise<string> {
  return await page.evaluate("document.activeElement?.id ?? ''") as string;
}

/** The labels of the options in one group of the open list. */
async function options(page: Page, group: string): Promise<string[]> {
  return await page.locator(`#find-list [data-group=${group}] [role=option] .find-label`)
    .allInnerTexts();
}

Deno.test("find in Chromium: coordinates, features, places and online results", async (t) => {
  const nominatimAsked: string[] = [];
  const nominatim = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const q = new URL(req.url).searchParams.get("q") ?? "";
    nominatimAsked.push(q);
    // Atlantis: the service is overloaded the first time, and then knows no such place.
    if (q === "Atlantis") {
      const first = nominatimAsked.filter((a) => a === q).length === 1;
      return first ? new Response("overloaded", { status: 503 }) : Response.json([]);
    }
    return Response.json([BAHNHOFSTRASSE]);
  });
  await using relay = await startRelay({
    args: ["--memory", "--geocoder", `http://127.0.0.1:${nominatim.addr.port}`],
  });
  const browser = await launchChromium();
  try {
    const created = await createMap(relay.url, "Find test");
    const a = await newPerson(browser, ALICE);
    await a.page.goto(`${relay.url}/m/${created.id}#key=${created.editKey}`);
    await waitLive(a.page);
    await a.page.evaluate((fs) =>
      globalThis.duplex?.sendEdit(fs.map((feature) => ({
        op: "put",
        feature,
      }))), [KIOSK, PARK]);
    await a.page.waitForFunction(() => globalThis.duplex?.pendingCount() === 0);
    const find = a.page.locator("#find");

    await t.step("'/' focuses the box unless typing in a field; so does Ctrl+F", async () => {
      await a.page.locator("#map").click({ position: { x: 5, y: 5 } });
      await a.page.keyboard.press("/");
      assert.equal(await focusedId(a.page), "find");
      assert.equal(await find.inputValue(), "", "the slash was not typed into the box");
      await a.page.locator("#map").click({ position: { x: 5, y: 5 } });
      await a.page.keyboard.press("Control+f");
      assert.equal(await focusedId(a.page), "find");
      // In a field, "/" is typed like any other character.
      await a.page.keyboard.press("/");
      assert.equal(await find.inputValue(), "/");
      await find.fill("");
    });

    await t.step(
      "decimal lat, lon: Enter flies there, zoom 15, with a pin that is no feature",
      async () => {
        await find.fill("47.37, 8.54");
        assert.deepEqual(await options(a.page, "coords"), [
          "47.37000° N, 8.54000° E",
          "8.54000° N, 47.37000° E",
        ]);
        assert.equal(await find.getAttribute("aria-expanded"), "true");
        await screenshot(a.page, "find-01-coordinates-list");
        await find.press("Enter");
        await centredOn(a.page, 47.37, 8.54, 15);
        await a.page.locator(".find-pin").waitFor();
        assert.equal(await find.getAttribute("aria-expanded"), "false");
        assert.equal(await a.page.evaluate(() => globalThis.duplex?.featureCount()), 2);
      },
    );

    await t.step("arrow keys move the active option; Enter chooses the active one", async () => {
      await find.fill("");
      await find.fill("47.37 8.54");
      await find.press("ArrowDown");
      assert.equal(await find.getAttribute("aria-activedescendant"), "find-option-0");
      await find.press("ArrowDown");
      assert.equal(await find.getAttribute("aria-activedescendant"), "find-option-1");
      assert.equal(
        await a.page.locator("#find-option-1").getAttribute("aria-selected"),
        "true",
      );
      assert.equal(
        await a.page.locator("#find-option-0").getAttribute("aria-selected"),
        "false",
      );
      await find.press("ArrowDown");
      assert.equal(await find.getAttribute("aria-activedescendant"), "find-option-0", "wraps");
      await find.press("ArrowUp");
      assert.equal(await find.getAttribute("aria-activedescendant"), "find-option-1");
      await find.press("Enter");
      await centredOn(a.page, 8.54, 47.37, 15);
    });

    await t.step("degrees, minutes, seconds with hemisphere letters", async () => {
      await find.fill(`33°51'31"S 151°12'51"E`);
      assert.deepEqual(await options(a.page, "coords"), ["33.85861° S, 151.21417° E"]);
      await find.press("Enter");
      await centredOn(a.page, -(33 + 51 / 60 + 31 / 3600), 151 + 12 / 60 + 51 / 3600, 15);
    });

    await t.step("a property value finds the feature: it is selected and in view", async () => {
      await a.page.evaluate(() => globalThis.duplex?.select(null));
      await find.fill("fruh");
      assert.deepEqual(await options(a.page, "features"), ["Harbour kiosk"]);
      assert.equal(
        await a.page.locator("#find-list [data-group=features] .find-detail").innerText(),
        "opening: Früh morgens",
      );
      await find.press("Enter");
      await a.page.waitForFunction(() => globalThis.duplex?.selected() === "kiosk");
      await a.page.waitForFunction(() => (globalThis.duplex?.view().zoom ?? 0) >= 12);
      assert.ok(
        await inView(a.page, KIOSK.geometry?.type === "Point" ? KIOSK.geometry.coordinates : []),
      );
      // A title match ranks before a match elsewhere (the park's title vs the kiosk's name).
      await find.fill("park");
      assert.deepEqual(await options(a.page, "features"), ["Hyde Park"]);
      await find.fill("kiosk");
      assert.deepEqual(await options(a.page, "features"), ["Harbour kiosk", "Hyde Park"]);
      await find.press("ArrowDown");
      await find.press("ArrowDown");
      await find.press("Enter");
      await a.page.waitForFunction(() => globalThis.duplex?.selected() === "park");
      assert.ok(await inView(a.page, [-0.17, 51.505]));
    });

    await t.step(
      "online: only an explicit 'Search online' asks, through the relay; a result fits its extent",
      async () => {
        await find.fill("Bahnhofstrasse");
        assert.deepEqual(await options(a.page, "online"), ["Search online for “Bahnhofstrasse”"]);
        // Nominatim's policy forbids searching as people type: nothing typed so far went out.
        assert.deepEqual(nominatimAsked, []);
        // Arrow Up from no active option goes to the last one: the "Search online" row.
        await find.press("ArrowUp");
        await find.press("Enter");
        const street = a.page.locator("#find-list [data-group=online] [role=option]", {
          has: a.page.locator(".find-label", { hasText: /^Bahnhofstrasse$/ }),
        });
        await street.waitFor();
        assert.equal(await street.locator(".find-detail").innerText(), "Zürich, Schweiz");
        assert.equal(
          await find.getAttribute("aria-activedescendant"),
          await street.getAttribute("id"),
          "the first answer is the active option",
        );
        await screenshot(a.page, "find-02-online-list");
        await find.press("Enter");
        // The flight ends at the street's extent (zoom 15 or more is reached on the way there).
        await a.page.waitForFunction(([lon, lat]) => {
          const v = globalThis.duplex?.view();
          if (!v || v.zoom < 15) return false;
          const [w, s, e, n] = v.bbox;
          return lon >= w && lon <= e && lat >= s && lat <= n;
        }, [8.5389, 47.3729]);
        assert.deepEqual(nominatimAsked, ["Bahnhofstrasse"]);
        await screenshot(a.page, "find-03-online-chosen");
      },
    );

    await t.step("a failed online search says why and is tried again when chosen", async () => {
      const errorsFrom = a.errors.length;
      await find.fill("Atlantis");
      await find.press("ArrowUp");
      await find.press("Enter");
      const online = a.page.locator("#find-list [data-group=online] [role=option]");
      await online.filter({ hasText: "The online search failed: try again" }).waitFor();
      assert.equal(
        await online.locator(".find-detail").innerText(),
        "the online geocoder answered 503",
      );
      await find.press("Enter");
      await online.filter({ hasText: "Nothing found online" }).waitFor();
      assert.deepEqual(nominatimAsked.filter((q) => q === "Atlantis").length, 2);
      // Chromium logs the relay's 502 itself; that answer is this step's point, not a fault.
      assert.deepEqual(a.errors.splice(errorsFrom), [
        "Failed to load resource: the server responded with a status of 502 (Bad Gateway)",
      ]);
    });

    await t.step("a place name finds the gazetteer's place; Enter flies there", async () => {
      const res = await fetch(`${relay.url}/api/places?q=Zurich`);
      const [zurich] = (await res.json()).places;
      assert.equal(zurich.name, "Zürich");
      await find.fill("Zurich");
      await a.page.locator("#find-list [data-group=places] [role=option]").first().waitFor();
      const places = await options(a.page, "places");
      assert.equal(places[0], "Zürich");
      assert.equal(await options(a.page, "features").then((f) => f.length), 0);
      await find.press("Enter");
      // Some 400 000 people: a city is shown whole, at zoom 12.
      await centredOn(a.page, zurich.lat, zurich.lon, 12);
      await a.page.locator(".find-pin").waitFor();
      // Every group at once: this map's park, the towns called Hyde, the offer to ask online.
      await find.fill("Hyde");
      await a.page.locator("#find-list [data-group=places] [role=option]", { hasText: "Hyde" })
        .first().waitFor();
      assert.deepEqual(await options(a.page, "online"), ["Search online for “Hyde”"]);
      assert.deepEqual(await options(a.page, "features"), ["Hyde Park"]);
      assert.ok((await options(a.page, "places")).includes("Hyde"));
      const groups = await a.page.locator("#find-list [role=group]").evaluateAll((els) =>
        els.map((el) => el.getAttribute("data-group"))
      );
      assert.deepEqual(groups, ["features", "places", "online"]);
      await screenshot(a.page, "find-04-all-groups");
      await find.press("Escape");
      assert.equal(await find.getAttribute("aria-expanded"), "false");
      assert.equal(await find.inputValue(), "Hyde", "the first Escape only closes the list");
      await find.press("Escape");
      assert.equal(await find.inputValue(), "");
    });

    await t.step("a viewer finds a feature too", async () => {
      const b = await newPerson(browser, BOB);
      await b.page.goto(`${relay.url}/m/${created.id}#key=${created.viewKey}`);
      await waitLive(b.page);
      await b.page.locator("#find").fill("Früh");
      await b.page.locator("#find").press("Enter");
      await b.page.waitForFunction(() => globalThis.duplex?.selected() === "kiosk");
      assert.deepEqual(b.errors, []);
      await b.context.close();
    });

    await t.step("on a phone-sized screen the box and its list fit the width", async () => {
      const c = await newPerson(browser, ALICE, { width: 390, height: 760 });
      await c.page.goto(`${relay.url}/m/${created.id}#key=${created.viewKey}`);
      await waitLive(c.page);
      await c.page.locator("#find").fill("Hyde");
      await c.page.locator("#find-list [data-group=features] [role=option]").waitFor();
      const box = await c.page.locator("#find-list").boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, JSON.stringify(box));
      await screenshot(c.page, "find-05-phone");
      assert.deepEqual(c.errors, []);
      await c.context.close();
    });

    assert.deepEqual(a.errors, []);
  } finally {
    await browser.close();
    await nominatim.shutdown();
  }
});
