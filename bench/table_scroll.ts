/**
 * Frame times while scrolling the feature table over 10 000 features in headless Chromium: the
 * gaps between requestAnimationFrame callbacks while the table is scrolled programmatically (a
 * fixed distance every frame) and by wheel events, next to the idle gaps of the same page.
 *
 * ```sh
 * deno task build && deno run -A bench/table_scroll.ts [--rows 10000] [--frames 600]
 * ```
 */
import { parseArgs } from "node:util";
import type { EditOp } from "../relay/protocol.ts";
import { ALICE, launchChromium, newPerson, waitLive } from "../tests/_browser.ts";
import { createMap, startRelay } from "../tests/_relay.ts";
import { Histogram } from "./histogram.ts";
import type {} from "../public/src/debug.ts";

/** What one recording in the page returns. */
interface Recording {
  gaps: number[];
  maxRows: number;
  longTasks: number[];
}

// Runs in the page, as source text: the bench is type-checked without the DOM's types.
// `mode` "scroll" moves the grid by `px` every frame (bouncing at the ends); "watch" only records.
const RECORDER = `
globalThis.recordFrames = (mode, frames, px) => new Promise((resolve) => {
  const grid = document.querySelector(".ft-scroll");
  const gaps = [];
  const longTasks = [];
  let last = 0, n = 0, maxRows = 0, dir = 1;
  const po = new PerformanceObserver((l) => l.getEntries().forEach((e) => longTasks.push(e.duration)));
  try { po.observe({ type: "longtask" }); } catch { /* not offered */ }
  const step = (t) => {
    if (last) gaps.push(t - last);
    last = t;
    maxRows = Math.max(maxRows, document.querySelectorAll(".ft-body .ft-row").length);
    if (mode === "scroll") {
      if (grid.scrollTop + grid.clientHeight >= grid.scrollHeight - 1) dir = -1;
      else if (grid.scrollTop <= 0) dir = 1;
      grid.scrollTop += dir * px;
    }
    if (++n <= frames) requestAnimationFrame(step);
    else { po.disconnect(); resolve({ gaps, maxRows, longTasks }); }
  };
  requestAnimationFrame(step);
});`;

/** 10 000 features with text, number, boolean and JSON properties, in edits the relay takes. */
function seedEdits(rows: number): EditOp[][] {
  const edits: EditOp[][] = [];
  for (let start = 0; start < rows; start += 2000) {
    const ops: EditOp[] = [];
    for (let i = start; i < Math.min(rows, start + 2000); i++) {
      ops.push({
        op: "put",
        feature: {
          type: "Feature",
          id: `p${i}`,
          geometry: { type: "Point", coordinates: [(i % 360) - 180, (i % 170) - 85] },
          properties: {
            name: `Place ${i}`,
            n: i,
            even: i % 2 === 0,
            kind: ["city", "town", "village"][i % 3],
            tags: { rank: i % 7 },
          },
        },
      });
    }
    edits.push(ops);
  }
  return edits;
}

/** Main-thread seconds by kind, from the Chrome DevTools Protocol's `Performance.getMetrics`. */
type Busy = { task: number; script: number; layout: number };

function summary(name: string, r: Recording, busy: Busy): string {
  const h = new Histogram();
  for (const g of r.gaps) h.record(g * 1000);
  const ms = (us: number) => (us / 1000).toFixed(1);
  const per = (seconds: number) => (seconds * 1000 / r.gaps.length).toFixed(2);
  const over = (limit: number) => r.gaps.filter((g) => g > limit).length;
  const long = r.longTasks.length === 0
    ? "0"
    : `${r.longTasks.length} (max ${Math.max(...r.longTasks).toFixed(0)} ms)`;
  return `| ${name} | ${r.gaps.length} | ${ms(h.mean)} | ${ms(h.quantile(0.5))} | ${
    ms(h.quantile(0.95))
  } | ${ms(h.quantile(0.99))} | ${ms(h.max)} | ${over(20)} | ${over(50)} | ${long} | ${
    per(busy.task)
  } / ${per(busy.script)} / ${per(busy.layout)} | ${r.maxRows} |`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rows: { type: "string", default: "10000" },
      frames: { type: "string", default: "600" },
    },
  });
  const rows = Number(values.rows);
  const frames = Number(values.frames);
  await using relay = await startRelay({ args: ["--memory"] });
  const browser = await launchChromium();
  try {
    const { page } = await newPerson(browser, ALICE);
    const map = await createMap(relay.url, "Table scroll");
    await page.goto(`${relay.url}/m/${map.id}#key=${map.editKey}`);
    await waitLive(page);
    for (const ops of seedEdits(rows)) {
      const r = await page.evaluate((ops) => globalThis.duplex!.sendEdit(ops), ops);
      if (!r.ok) throw new Error(`seeding failed: ${JSON.stringify(r)}`);
    }
    const opened = performance.now();
    await page.getByRole("button", { name: "Table", exact: true }).click();
    await page.locator(".ft-count", { hasText: `${rows} features` }).waitFor();
    const openMs = performance.now() - opened;
    await page.evaluate(RECORDER);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Performance.enable");
    const busyNow = async (): Promise<Busy> => {
      const { metrics } = await cdp.send("Performance.getMetrics");
      const m = (name: string) => metrics.find((x) => x.name === name)?.value ?? 0;
      return {
        task: m("TaskDuration"),
        script: m("ScriptDuration"),
        layout: m("LayoutDuration") + m("RecalcStyleDuration"),
      };
    };
    let before = await busyNow();
    /** Main-thread time since the last call. */
    const busySince = async (): Promise<Busy> => {
      const now = await busyNow();
      const d = {
        task: now.task - before.task,
        script: now.script - before.script,
        layout: now.layout - before.layout,
      };
      before = now;
      return d;
    };
    const record = async (mode: string, px: number): Promise<[Recording, Busy]> => {
      await busySince();
      const r = await page.evaluate(
        ([mode, frames, px]) =>
          (globalThis as unknown as Record<string, (...a: unknown[]) => Promise<Recording>>)
            .recordFrames(mode, frames, px),
        [mode, frames, px] as const,
      );
      return [r, await busySince()];
    };
    const lines = [
      "| scrolling | frames | mean ms | p50 ms | p95 ms | p99 ms | max ms | > 20 ms | > 50 ms | long tasks | main thread ms/frame: all / script / style+layout | rows in DOM (max) |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ];
    lines.push(summary("none (table open, idle)", ...await record("watch", 0)));
    lines.push(summary("scrollTop += 84 px per frame (3 rows)", ...await record("scroll", 84)));
    lines.push(
      summary("scrollTop += 1400 px per frame (50 rows)", ...await record("scroll", 1400)),
    );
    // Real wheel input: Deno sends wheel events as fast as Chromium acknowledges them.
    const grid = await page.locator(".ft-scroll").boundingBox();
    if (!grid) throw new Error("the table is not on the page");
    await page.mouse.move(grid.x + grid.width / 2, grid.y + grid.height / 2);
    let wheeling = true;
    const wheel = (async () => {
      for (let i = 0; wheeling; i++) await page.mouse.wheel(0, i % 400 < 200 ? 300 : -300);
    })();
    const [wheelRec, wheelBusy] = await record("watch", 0);
    wheeling = false;
    await wheel;
    lines.push(summary("mouse wheel, 300 px per event", wheelRec, wheelBusy));
    const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
    console.log(`${rows} features; table opened in ${openMs.toFixed(0)} ms; load average ${load}`);
    console.log(lines.join("\n"));
  } finally {
    await browser.close();
  }
}

if (import.meta.main) await main();
