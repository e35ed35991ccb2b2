/** Starts headless Chromium through playwright-core for end-to-end tests of the map client. */
import assert from "assert";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import type {} from "../public/src/debug.ts";
import type { StoredFeature } from "../relay/protocol.ts";
import { until } from "./_process.ts";

/** Where the tests expect Chromium (Debian's package). */
export const CHROMIUM = "/usr/bin/chromium";

/** The flags that make Chromium work in containers and stay off the network. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** What a test may add to the standard launch. */
export interface LaunchOptions {
  /** The browser's environment, e.g. a HOME whose NSS database trusts a local CA. */
  env?: Record<string, string>;
  /** Flags after {@link CHROMIUM_ARGS}, e.g. `--proxy-server=`. */
  args?: string[];
}

/** Launches Chromium, or fails with a message that says how to install it. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; the browser tests need it. ` +
        "Install it with `apt-get install -y chromium` (never `playwright install`).",
    );
  }
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, ...options.args ?? []],
    env: options.env,
  });
}

/** A name and colour to skip the first-visit dialog. */
export interface TestIdentity {
  name: string;
  color: string;
}

/** The first editor in the browser scenarios. */
export const ALICE: TestIdentity = { name: "Alice", color: "#e11d48" };
/** The second editor in the browser scenarios. */
export const BOB: TestIdentity = { name: "Bob", color: "#2563eb" };

/** One person's browser context and page, with the page's errors collected as they happen. */
export interface Person {
  context: BrowserContext;
  page: Page;
  errors: string[];
}

/** A browser context whose pages already know who they are (the first-visit dialog is skipped). */
export async function newPerson(
  browser: Browser,
  identity: TestIdentity | null,
  viewport = { width: 1280, height: 800 },
): Promise<Person> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  if (identity) {
    await context.addInitScript((value: string) => {
      localStorage.setItem("duplexmap.identity", value);
    }, JSON.stringify(identity));
  }
  const page = await context.newPage();
  // Generous: CI machines here have two cores shared with other suites.
  page.setDefaultTimeout(30_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  return { context, page, errors };
}

/** How Chromium reports a request made while the browser context is offline. */
const OFFLINE_ERROR = "net::ERR_INTERNET_DISCONNECTED";

/**
 * Moves the errors logged since `from` that only say the browser had no network
 * (`net::ERR_INTERNET_DISCONNECTED`) out of `person.errors`; any other error stays.
 */
export function excuseOfflineErrors(person: Person, from: number): string[] {
  const later = person.errors.splice(from);
  const offline = later.filter((e) => e.includes(OFFLINE_ERROR));
  person.errors.push(...later.filter((e) => !e.includes(OFFLINE_ERROR)));
  return offline;
}

/** Waits until the page's connection indicator says it is live. */
export async function waitLive(page: Page, timeout = 30_000): Promise<void> {
  await page.waitForFunction(
    () => globalThis.duplex?.status().state === "live",
    null,
    { timeout },
  );
}

/** Saves a screenshot under test-output/ and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = new URL("../test-output/", import.meta.url);
  await Deno.mkdir(dir, { recursive: true });
  const path = new URL(`${name}.png`, dir).pathname;
  await page.screenshot({ path });
  return path;
}

/** The pixel box of the map element. */
export async function mapBox(page: Page): Promise<{
  x: number;
  y: number;
  width: number;
  height: number;
}> {
  const box = await page.locator("#map").boundingBox();
  assert.ok(box, "the map element is on the page");
  return box;
}

/** The features a page shows, read through `globalThis.duplex` (the map page's test handle). */
export async function features(page: Page): Promise<StoredFeature[]> {
  return await page.evaluate(() => globalThis.duplex?.features() ?? []);
}

/**
 * A draws a four-cornered polygon with the mouse on an empty map; both pages end up with it and
 * only it. Returns the polygon as B sees it.
 */
export async function drawPolygon(a: Person, b: Person, shot: string): Promise<StoredFeature> {
  const box = await mapBox(a.page);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await a.page.locator(".leaflet-pm-icon-polygon").click();
  const corners = [[-90, -60], [90, -70], [100, 60], [-80, 70]];
  for (const [dx, dy] of corners) {
    await a.page.mouse.click(cx + dx, cy + dy);
    await a.page.waitForTimeout(60);
  }
  await a.page.mouse.click(cx + corners[0][0], cy + corners[0][1]);
  await b.page.waitForFunction(() =>
    globalThis.duplex?.features().some((f) => f.geometry?.type === "Polygon")
  );
  const [polygon] = await features(b.page);
  const ring = polygon.geometry?.type === "Polygon" ? polygon.geometry.coordinates[0] : [];
  assert.equal(ring.length, 5, "four corners plus the closing one");
  assert.deepEqual(await features(a.page), [polygon]);
  await a.page.waitForTimeout(300);
  await screenshot(b.page, shot);
  return polygon;
}

/** A moves the pointer over the map; B sees A's cursor and viewport rectangle where A has them. */
export async function expectCursorAndViewport(
  a: Person,
  aIdentity: TestIdentity,
  b: Person,
  shot: string,
): Promise<void> {
  const box = await mapBox(a.page);
  await a.page.keyboard.press("Escape");
  await a.page.mouse.move(box.x + 120, box.y + 120);
  await a.page.mouse.move(box.x + 160, box.y + 140, { steps: 5 });
  await b.page.locator(".peer-cursor span", { hasText: aIdentity.name }).waitFor({
    state: "visible",
  });
  await b.page.locator(`path.peer-view[stroke="${aIdentity.color}"]`).waitFor({
    state: "attached",
  });
  const aView = await a.page.evaluate(() => globalThis.duplex?.view());
  const seen = await b.page.evaluate(
    (name) => globalThis.duplex?.peers().find((p) => p.name === name),
    aIdentity.name,
  );
  assert.deepEqual(seen?.view?.bbox, aView?.bbox);
  assert.ok(seen?.cursor, "B knows where A's pointer is");
  // Zoom B out so A's whole viewport rectangle is visible in the screenshot.
  await b.page.locator(".leaflet-control-zoom-out").click();
  await b.page.waitForTimeout(400);
  await screenshot(b.page, shot);
  await b.page.locator(".leaflet-control-zoom-in").click();
}

/**
 * A goes offline, makes three edits (a property on A's first feature, a new point, a change to
 * that point), comes back; B receives each of them exactly once and both pages agree.
 */
export async function offlineEditsArriveOnce(
  a: Person,
  b: Person,
  shots: { offline: string; online: string },
): Promise<void> {
  const fid = (await features(a.page))[0].id;
  const offlineFrom = a.errors.length;
  await a.context.setOffline(true);
  await a.page.waitForFunction(() => globalThis.duplex?.status().state !== "live");
  const pending = await a.page.evaluate((fid) => {
    const d = globalThis.duplex;
    if (!d) return -1;
    d.sendEdit([{ op: "props", fid, set: { visited: true } }]);
    d.sendEdit([{
      op: "put",
      feature: {
        type: "Feature",
        id: "offline-point",
        geometry: { type: "Point", coordinates: [10, 10] },
        properties: { note: "added offline" },
      },
    }]);
    d.sendEdit([{ op: "props", fid: "offline-point", set: { note: "changed offline" } }]);
    return d.pendingCount();
  }, fid);
  assert.equal(pending, 3);
  await a.page.locator("#status", { hasText: "Offline · 3 unsent edits" }).waitFor();
  await screenshot(a.page, shots.offline);
  // Stay offline until the page has tried to reconnect and failed at least once, so coming back
  // follows failed attempts, as it does for a real person on a flaky network.
  await until(
    () => a.errors.slice(offlineFrom).some((e) => e.includes(OFFLINE_ERROR)),
    "the page to try to reconnect while offline",
    20_000,
  );
  const bSeqBefore = await b.page.evaluate(() => globalThis.duplex?.seq() ?? 0);
  await a.context.setOffline(false);
  await waitLive(a.page, 20_000);
  // Reconnect attempts made while the context was offline fail, and Chromium logs each failed
  // request as a console error; those are the offline period itself, not faults of the page.
  excuseOfflineErrors(a, offlineFrom);
  await a.page.waitForFunction(() => globalThis.duplex?.pendingCount() === 0);
  await b.page.waitForFunction(() =>
    globalThis.duplex?.feature("offline-point")?.properties.note === "changed offline"
  );
  const log = await b.page.evaluate(() => globalThis.duplex?.editLog() ?? []);
  const fromA = log.filter((e) => e.seq > bSeqBefore);
  assert.equal(fromA.length, 3, `B saw ${JSON.stringify(fromA)}`);
  assert.equal(new Set(fromA.map((e) => e.id)).size, 3, "no edit arrived twice");
  assert.deepEqual(await features(a.page), await features(b.page));
  await screenshot(a.page, shots.online);
}
