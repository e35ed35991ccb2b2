import assert from "assert";
import { binaryConfig, SERVER_IMPORTS } from "./compile.ts";

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

Deno.test("the binary's config resolves every npm package the relay loads, the journal worker's too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-compile-test-" });
  try {
    const config = `${dir}/deno.json`;
    await Deno.writeTextFile(config, JSON.stringify(await binaryConfig()));
    for (const entry of ["main.ts", "relay/journal_worker.ts"]) {
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
