import assert from "assert";
import { binaryConfig, checkBinary, compile, RELAY_V8_FLAGS, SERVER_IMPORTS } from "./compile.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** The npm packages (name@version) in the module graph of `entry`, as `deno info` resolves it. */
async function npmPackagesOf(entry: string, config?: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", ...(config ? ["--config", config] : []), entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info: { modules: { kind: string; npmPackage?: string }[] } = JSON.parse(
    new TextDecoder().decode(out.stdout),
  );
  const packages = info.modules.flatMap((m) =>
    m.kind === "npm" && m.npmPackage ? [m.npmPackage] : []
  );
  return [...new Set(packages)].sort();
}

Deno.test("the binary's config takes the server's imports, at deno.json's versions, and nothing else", async () => {
  const project = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const config = await binaryConfig();
  assert.deepEqual(Object.keys(config.imports), [...SERVER_IMPORTS]);
  for (const [name, target] of Object.entries(config.imports)) {
    assert.equal(target, project.imports[name]);
  }
  assert.equal(config.nodeModulesDir, "none", "no node_modules folder to embed whole");
});

Deno.test("the binary's config resolves every npm package the relay loads, the workers' too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-compile-test-" });
  try {
    const config = `${dir}/deno.json`;
    await Deno.writeTextFile(config, JSON.stringify(await binaryConfig()));
    for (
      const entry of [
        "main.ts",
        "relay/journal_worker.ts",
        "relay/import_worker.ts",
        "relay/places_worker.ts",
        "relay/export_worker.ts",
      ]
    ) {
      const withProject = await npmPackagesOf(entry);
      const withBinary = await npmPackagesOf(entry, config);
      assert.deepEqual(withBinary, withProject, entry);
    }
    assert.ok(
      (await npmPackagesOf("main.ts")).some((p) => p.startsWith("hono@")),
      "the relay's graph holds hono (so the comparison above means something)",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a binary that does not answer --version as the relay is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-compile-test-" });
  try {
    const relay = `${dir}/relay`;
    await Deno.writeTextFile(relay, "#!/bin/sh\necho 'duplexmap 0.1.0'\n");
    await Deno.chmod(relay, 0o755);
    assert.deepEqual(await checkBinary(relay, "duplexmap 0.1.0"), { ok: true });
    const other = await checkBinary(Deno.execPath(), "duplexmap 0.1.0");
    assert.equal(other.ok, false);
    assert.match(other.ok ? "" : other.reason, /is not the relay: .* printed 'deno 2\.9/);
    const missing = await checkBinary(`${dir}/nothing`, "duplexmap 0.1.0");
    assert.equal(missing.ok, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task compile with a plain deno as DENORT_BIN fails and leaves no binary", async () => {
  // The mistake of the deployment guide's offline path: DENORT_BIN pointing at `deno` itself,
  // which `deno compile` accepts and which makes a binary that is plain Deno.
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-compile-test-" });
  try {
    const output = `${dir}/duplexmap`;
    const result = await compile({ output, skipBuild: true, denort: Deno.execPath() });
    assert.equal(result.ok, false);
    assert.match(
      result.ok ? "" : result.reason,
      /not the relay: .*printed 'deno [\d.]+ .*instead of 'duplexmap [\d.]+'; DENORT_BIN .* must be a denort runtime/,
    );
    assert.equal(await Deno.stat(output).then(() => true, () => false), false, "no binary left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task start runs the relay with the V8 flags the binary is compiled with", async () => {
  const project = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const start: string = project.tasks.start.command;
  assert.ok(
    start.includes(`--v8-flags=${RELAY_V8_FLAGS.join(",")} `),
    `deno task start: ${start}`,
  );
});
