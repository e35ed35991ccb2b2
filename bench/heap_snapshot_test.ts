/** bench/heap_snapshot.ts against a real Deno process's heap, through its inspector. */
import assert from "node:assert/strict";
import { type LineProcess, signalQuietly, spawnLines } from "../tests/_process.ts";
import { inspectorUrl, summarizeSnapshot, takeSnapshot } from "./heap_snapshot.ts";

/** Waits a moment; fails if the child has exited meanwhile. */
async function settled(child: LineProcess, output: string[]): Promise<void> {
  const exited = await Promise.race([
    child.status.then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), 20)),
  ]);
  assert.ok(!exited, `the process exited early: ${output.join("\n")}`);
}

Deno.test("a heap snapshot counts the strings a process keeps, by how they begin", async () => {
  const dir = await Deno.makeTempDir();
  const script = `${dir}/keep.ts`;
  // 200 distinct flat strings of 5 000 characters stay reachable; as many become garbage.
  await Deno.writeTextFile(
    script,
    `globalThis.kept = Array.from({ length: 200 }, (_, i) => ["kept", String(i).padStart(4, "0"), "y".repeat(4992)].join(""));
     let gone = Array.from({ length: 200 }, (_, i) => ["gone", String(i), "z".repeat(4992)].join("")); gone = null;
     console.log("ready"); setTimeout(() => {}, 60_000);`,
  );
  const output: string[] = [];
  const child = spawnLines(
    Deno.execPath(),
    { args: ["run", "--inspect=127.0.0.1:0", script] },
    (line) => output.push(line),
  );
  try {
    // Deno names the port it chose on stderr; its listing names the process by its main module,
    // as it names the relay by main.ts.
    let port: string | undefined;
    while (!port) {
      port = output.join("\n").match(/ws:\/\/127\.0\.0\.1:(\d+)\//)?.[1];
      if (!port) await settled(child, output);
    }
    const url = await inspectorUrl(Number(port), 30_000, "/keep.ts");
    while (!output.includes("ready")) await settled(child, output);
    const summary = summarizeSnapshot(JSON.parse(await takeSnapshot(url)), 1024, 4);
    const kept = summary.bigStrings.find((g) => g.key === "kept");
    assert.ok(kept, `no kept strings among ${summary.bigStrings.map((g) => g.key).join(", ")}`);
    assert.equal(kept.count, 200);
    assert.ok(kept.bytes >= 200 * 5000, `kept strings: ${kept.bytes} bytes`);
    assert.equal(summary.bigStrings.find((g) => g.key === "gone"), undefined);
    assert.ok(summary.strings >= kept.bytes && summary.total > summary.strings);
  } finally {
    signalQuietly(child.child, "SIGKILL");
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});
