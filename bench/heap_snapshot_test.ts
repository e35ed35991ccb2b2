/** bench/heap_snapshot.ts against a real Deno process's heap, through its inspector. */
import assert from "node:assert/strict";
import { summarizeSnapshot, takeSnapshot } from "./heap_snapshot.ts";

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
  try {
    // Deno names the inspector's address on stderr ("Debugger listening on ws://...").
    const decoder = new TextDecoderStream();
    const lines = child.stderr.pipeThrough(decoder).getReader();
    let text = "";
    let url: string | undefined;
    while (!url) {
      const { value, done } = await lines.read();
      assert.ok(!done, `no inspector address in: ${text}`);
      text += value;
      url = text.match(/ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/)?.[0];
    }
    await lines.cancel();
    const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    for (let seen = ""; !seen.includes("ready");) seen += (await out.read()).value ?? "";
    const summary = summarizeSnapshot(JSON.parse(await takeSnapshot(url)), 1024, 4);
    const kept = summary.bigStrings.find((g) => g.key === "kept");
    assert.ok(kept, `no kept strings among ${summary.bigStrings.map((g) => g.key).join(", ")}`);
    assert.equal(kept.count, 200);
    assert.ok(kept.bytes >= 200 * 5000, `kept strings: ${kept.bytes} bytes`);
    assert.equal(summary.bigStrings.find((g) => g.key === "gone"), undefined);
    assert.ok(summary.strings >= kept.bytes && summary.total > summary.strings);
    await out.cancel();
  } finally {
    child.kill();
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});
