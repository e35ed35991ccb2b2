/** bench/heap_snapshot.ts against a real Deno process's heap, through its inspector. */
import assert from "node:assert/strict";
import { inspectorUrl, summarizeSnapshot, takeSnapshot } from "./heap_snapshot.ts";

/** Reads `stream` to its end in the background; `text()` is what came so far. */
function drain(stream: ReadableStream<Uint8Array>) {
  let text = "";
  const done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  })();
  return { text: () => text, done };
}

/** Waits a moment; fails if the child has exited meanwhile. */
async function settled(
  child: Deno.ChildProcess,
  out: { text: () => string },
  err: { text: () => string },
): Promise<void> {
  const exited = await Promise.race([
    child.status.then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), 20)),
  ]);
  assert.ok(!exited, `the process exited early: ${out.text()} ${err.text()}`);
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
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--inspect=127.0.0.1:0", script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = drain(child.stdout);
  const err = drain(child.stderr);
  try {
    // Deno names the port it chose on stderr; its listing names the process by its main module,
    // as it names the relay by main.ts.
    let port: string | undefined;
    while (!port) {
      port = err.text().match(/ws:\/\/127\.0\.0\.1:(\d+)\//)?.[1];
      if (!port) await settled(child, out, err);
    }
    const url = await inspectorUrl(Number(port), 30_000, "/keep.ts");
    while (!out.text().includes("ready")) await settled(child, out, err);
    const summary = summarizeSnapshot(JSON.parse(await takeSnapshot(url)), 1024, 4);
    const kept = summary.bigStrings.find((g) => g.key === "kept");
    assert.ok(kept, `no kept strings among ${summary.bigStrings.map((g) => g.key).join(", ")}`);
    assert.equal(kept.count, 200);
    assert.ok(kept.bytes >= 200 * 5000, `kept strings: ${kept.bytes} bytes`);
    assert.equal(summary.bigStrings.find((g) => g.key === "gone"), undefined);
    assert.ok(summary.strings >= kept.bytes && summary.total > summary.strings);
  } finally {
    try {
      child.kill();
    } catch {
      // Already exited; its status says how.
    }
    await child.status;
    await Promise.all([out.done, err.done]);
    await Deno.remove(dir, { recursive: true });
  }
});
