/** Starts headless Chromium through playwright-core for end-to-end tests of the map client. */
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import type {} from "../public/src/debug.ts";

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

/** Launches Chromium, or fails with a message that says how to install it. */
export async function launchChromium(): Promise<Browser> {
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
    args: CHROMIUM_ARGS,
  });
}

/** A name and colour to skip the first-visit dialog. */
export interface TestIdentity {
  name: string;
  color: string;
}

/** A browser context whose pages already know who they are (the first-visit dialog is skipped). */
export async function newPerson(
  browser: Browser,
  identity: TestIdentity | null,
  viewport = { width: 1280, height: 800 },
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
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
