/** End-to-end: the compiled executable (`deno task compile`) serves the client and a WebSocket behind HAProxy. */
import assert from "assert";
import { compile } from "../scripts/compile.ts";
import { startHaproxy } from "./_haproxy.ts";
import { listeningPort, signalQuietly, spawnLines } from "./_process.ts";
import { openedPeer } from "./_ws.ts";
import { feature, point } from "./_fixtures.ts";

const ROOT = new URL("../", import.meta.url);

/**
 * Whether `deno compile` can get its runtime (denort) here: from DENORT_BIN, or by downloading it.
 * Compiling a one-line program answers that in about a second (and caches the download for the
 * real compile). DUPLEXMAP_BINARY names an already-built executable to test instead.
 */
async function runtimeForCompiling(): Promise<{ ok: true } | { ok: false; why: string }> {
  if (Deno.env.get("DUPLEXMAP_BINARY")) return { ok: true };
  const denort = Deno.env.get("DENORT_BIN");
  // Set but missing is a broken setup, not an absent runtime: the test fails on it below.
  if (denort) return { ok: true };
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-probe-" });
  try {
    await Deno.writeTextFile(`${dir}/probe.ts`, "console.log('ok');\n");
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["compile", "--quiet", "--output", `${dir}/probe`, `${dir}/probe.ts`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (out.success) return { ok: true };
    const stderr = new TextDecoder().decode(out.stderr);
    const line = stderr.split("\n").find((l) => /error sending request|dns|denort/i.test(l));
    return {
      ok: false,
      why: `DENORT_BIN is not set and deno compile could not download its runtime (denort ` +
        `${Deno.version.deno}): ${(line ?? stderr).trim().slice(0, 240)}`,
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const runtime = await runtimeForCompiling();
if (!runtime.ok) {
  console.log(`binary_test.ts: SKIPPED the compiled-binary test. ${runtime.why}`);
}

/** A started binary; logs parsed like tests/_relay.ts does. */
async function startBinary(path: string, args: string[]) {
  const lines: string[] = [];
  let listening: ((port: number) => void) | undefined;
  const port = new Promise<number>((resolve) => listening = resolve);
  const { child, status } = spawnLines(path, { args, env: { NO_COLOR: "1" } }, (line) => {
    lines.push(line);
    const seen = listeningPort(line);
    if (seen !== undefined) listening?.(seen);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ready = await Promise.race([
    port,
    status.then(() => null),
    new Promise<null>((r) => timer = setTimeout(() => r(null), 20_000)),
  ]);
  clearTimeout(timer);
  const stop = async () => {
    signalQuietly(child, "SIGTERM");
    return await status;
  };
  if (ready === null) {
    await stop();
    throw new Error(`the binary did not start listening:\n${lines.slice(-20).join("\n")}`);
  }
  return { port: ready, lines, stop };
}

Deno.test({
  name: "the compiled binary serves the client and a WebSocket behind HAProxy",
  ignore: !runtime.ok,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "duplexmap-binary-" });
    try {
      let binary = Deno.env.get("DUPLEXMAP_BINARY");
      if (!binary) {
        binary = `${dir}/duplexmap`;
        // `deno task test` has just built the client (its `build` dependency).
        const result = await compile({ output: binary, skipBuild: true });
        assert.ok(result.ok, result.ok ? "" : result.reason);
      }

      // The same options as `deno task start`.
      const help = await new Deno.Command(binary, { args: ["--help"], stdout: "piped" }).output();
      assert.equal(help.success, true);
      assert.match(new TextDecoder().decode(help.stdout), /--trust-proxy/);

      // Run it from an empty directory: everything it serves must be inside it.
      const relay = await startBinary(binary, [
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data",
        `${dir}/data`,
        "--trust-proxy",
        "127.0.0.1",
      ]);
      try {
        await using hp = await startHaproxy({ relayPort: relay.port });

        const start = await hp.fetch("/");
        assert.equal(start.status, 200);
        assert.match(await start.text(), /<html|<!doctype html/i);
        // The embedded client is byte for byte the one `deno task build` wrote.
        const served = new Uint8Array(await (await hp.fetch("/assets/map.js")).arrayBuffer());
        const built = await Deno.readFile(new URL("public/dist/map.js", ROOT));
        assert.equal(served.length, built.length);
        assert.deepEqual(served, built);

        const created = await hp.fetch("/api/maps", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        assert.equal(created.status, 201);
        const map = await created.json() as { id: string; editKey: string };
        const page = await hp.fetch(`/m/${map.id}`);
        assert.equal(page.status, 200);
        await page.body?.cancel();

        const ws = hp.webSocket(`/ws/${map.id}`, { protocols: ["duplexmap.v1"] });
        await using peer = await openedPeer(ws, "binary-peer");
        assert.equal(ws.protocol, "duplexmap.v1");
        await peer.hello(map.editKey);
        peer.send({
          type: "edit",
          id: 1,
          ops: [{ op: "put", feature: feature("b", point(1, 2)) }],
        });
        const ack = await peer.nextOf("edit", (m) => m.id === 1);
        assert.equal(ack.seq, 1);
      } finally {
        const status = await relay.stop();
        assert.equal(status.code, 0, `the binary's exit on SIGTERM:\n${relay.lines.join("\n")}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
