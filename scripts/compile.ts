/** Builds the client, then compiles the relay with the client embedded into one executable (`deno task compile`). */

// Usage: deno task compile [--output PATH] [--target TRIPLE]
//
// The client is embedded because relay code imports it with import attributes, so the module graph
// already holds it: no `--include` and no file reads at run time. `deno compile` normally downloads
// its runtime (denort) from Deno's servers; where that is not reachable, point DENORT_BIN at a
// denort binary of the same Deno version and it is used instead (Deno reads the variable itself).

const ROOT = new URL("../", import.meta.url).pathname;

/**
 * V8 flags the relay runs with (binary, `deno task start`, the benchmarks). A young generation of
 * up to 32 MiB per semi-space instead of V8's 16: under load the relay keeps messages for a
 * presence tick (up to 400 ms), and with the default size they outlived two scavenges, were
 * promoted and filled the old generation (15 MB/s at 10 000 peers), whose mark-compact pauses then
 * held every peer up (s7's p99 2.8 s against 0.43 s with this flag, BENCHMARKS.md, issue 14). An
 * idle relay's young generation stays small: V8 grows it only as the allocation rate needs.
 */
export const RELAY_V8_FLAGS = ["--max-semi-space-size=32"];

/**
 * The permissions baked into the binary: the same as `deno task start`, so the binary takes the
 * same options (`--data` anywhere on disk needs read/write; `--port`, `--host` need net).
 */
export const BINARY_PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
];

/**
 * The import-map entries the relay needs at run time. The binary is compiled against a config
 * holding only these (versions taken from `deno.json`), without a `node_modules` folder: `deno
 * compile` embeds every npm package that its config can resolve, and the project's config also
 * names the client's, the tests' and the benchmark's packages (about 40 MB that the server never
 * loads). scripts/compile_test.ts checks that this list covers main.ts's module graph.
 */
export const SERVER_IMPORTS = [
  "hono",
  "hono/",
  "valibot",
  "pmtiles",
  "@placemarkio/geojson-rewind",
  // The import worker's readers of KML/KMZ, GPX, CSV and zipped Shapefiles (relay/formats/).
  "@tmcw/togeojson",
  "@xmldom/xmldom",
  "fflate",
  "papaparse",
  "wellknown",
  "shpjs",
  "@placemarkio/tokml",
  "@mapbox/shp-write",
  "jszip",
  // The PostgreSQL store's client (relay/pg_store.ts, loaded only with --store postgres://).
  "postgres",
] as const;

/** The config `deno compile` uses: the server's imports from `deno.json`, nothing else. */
export async function binaryConfig(): Promise<{
  imports: Record<string, string>;
  nodeModulesDir: "none";
  lock: false;
}> {
  const project = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const imports: Record<string, string> = {};
  for (const name of SERVER_IMPORTS) {
    const target = project.imports?.[name];
    if (typeof target !== "string") {
      throw new Error(`deno.json has no import '${name}', which the relay needs`);
    }
    imports[name] = target;
  }
  // The versions are pinned in deno.json (and were checked against deno.lock when installed).
  return { imports, nodeModulesDir: "none", lock: false };
}

/** Options of {@link compile}. */
export interface CompileOptions {
  /** Where to write the executable. @default "dist/duplexmap" (relative to the project root) */
  output?: string;
  /** A `deno compile --target` triple, for another platform. */
  target?: string;
  /** Skip `deno task build` (the caller just ran it). @default false */
  skipBuild?: boolean;
  /** A local runtime to compile with instead of downloading one. @default $DENORT_BIN */
  denort?: string;
}

/** Result of {@link compile}: either the path written, or why it failed. */
export type CompileResult =
  | { ok: true; output: string }
  | { ok: false; reason: string; runtimeUnavailable: boolean };

/** Runs `deno task build`, then `deno compile` of main.ts into one executable. */
export async function compile(options: CompileOptions = {}): Promise<CompileResult> {
  const output = options.output ?? `${ROOT}dist/duplexmap`;
  const denort = options.denort ?? Deno.env.get("DENORT_BIN");
  if (denort) {
    try {
      const info = await Deno.stat(denort);
      if (!info.isFile) throw new Error("not a file");
    } catch {
      return {
        ok: false,
        reason: `DENORT_BIN is set to '${denort}', which is not a file; unset it to download ` +
          `the runtime, or point it at a denort binary of Deno ${Deno.version.deno}`,
        runtimeUnavailable: true,
      };
    }
  }
  if (!options.skipBuild) {
    const build = await new Deno.Command(Deno.execPath(), {
      args: ["task", "build"],
      cwd: ROOT,
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!build.success) {
      return { ok: false, reason: "`deno task build` failed", runtimeUnavailable: false };
    }
  }
  const configDir = await Deno.makeTempDir({ prefix: "duplexmap-compile-" });
  const config = `${configDir}/deno.json`;
  await Deno.writeTextFile(config, JSON.stringify(await binaryConfig(), null, 2));
  const args = [
    "compile",
    "--config",
    config,
    // Type-checked by `deno task check` against the project's config; this trimmed config has no
    // node_modules folder, where some packages' `@types` are found.
    "--no-check",
    ...BINARY_PERMISSIONS,
    `--v8-flags=${RELAY_V8_FLAGS.join(",")}`,
    ...(options.target ? ["--target", options.target] : []),
    // The workers are loaded by URL at run time, so the module graph does not show them.
    "--include",
    `${ROOT}relay/journal_worker.ts`,
    "--include",
    `${ROOT}relay/import_worker.ts`,
    "--include",
    `${ROOT}relay/places_worker.ts`,
    "--include",
    `${ROOT}relay/export_worker.ts`,
    "--include",
    `${ROOT}relay/history_reader_worker.ts`,
    "--include",
    `${ROOT}relay/history_task_worker.ts`,
    "--output",
    output,
    `${ROOT}main.ts`,
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    ...(denort ? { env: { DENORT_BIN: denort } } : {}),
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  // Echo deno's messages as they come and keep them to recognise a failed runtime download.
  let stderr = "";
  for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
    stderr += chunk;
    await Deno.stderr.write(new TextEncoder().encode(chunk));
  }
  const status = await child.status;
  await Deno.remove(configDir, { recursive: true }).catch(() => {});
  if (status.success) {
    // A binary for another platform cannot be run here to be checked.
    if (options.target && options.target !== Deno.build.target) return { ok: true, output };
    const checked = await checkBinary(output, `duplexmap ${await projectVersion()}`);
    if (checked.ok) return { ok: true, output };
    // Nobody must deploy it by mistake.
    await Deno.remove(output).catch(() => {});
    return {
      ok: false,
      reason: `${checked.reason}${
        denort ? `; DENORT_BIN ('${denort}') must be a denort runtime, not a deno executable` : ""
      } (the output was removed)`,
      runtimeUnavailable: false,
    };
  }
  const download = /denort|dl\.deno\.land|Setting up base binary/i.test(stderr);
  return {
    ok: false,
    reason: download && !denort
      ? `deno compile could not download its runtime (denort ${Deno.version.deno}); on a ` +
        "machine without access to Deno's download server set DENORT_BIN to a local denort"
      : "deno compile failed (see its messages above)",
    runtimeUnavailable: download && !denort,
  };
}

async function projectVersion(): Promise<string> {
  return JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).version;
}

/**
 * Runs `binary --version` and checks that it is the relay's answer. `deno compile` given a plain
 * `deno` as DENORT_BIN writes a binary that is just Deno: it ignores the embedded relay and would
 * start as a REPL or a script runner on the server.
 */
export async function checkBinary(
  binary: string,
  expected: string,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(binary, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    return { ok: false, reason: `could not run '${binary} --version': ${(e as Error).message}` };
  }
  const printed = new TextDecoder().decode(out.stdout).trim();
  if (out.success && printed === expected) return { ok: true };
  const first = printed.split("\n")[0] || new TextDecoder().decode(out.stderr).trim().slice(0, 200);
  return {
    ok: false,
    reason: `the compiled binary is not the relay: '${binary} --version' printed '${first}' ` +
      `instead of '${expected}'`,
  };
}

function parseArgs(args: string[]): CompileOptions {
  const options: CompileOptions = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--output" || arg === "-o") options.output = value();
    else if (arg === "--target") options.target = value();
    else if (arg === "--skip-build") options.skipBuild = true;
    else throw new Error(`unknown option '${arg}' (use --output PATH, --target TRIPLE)`);
  }
  return options;
}

if (import.meta.main) {
  let options: CompileOptions;
  try {
    options = parseArgs(Deno.args);
  } catch (e) {
    console.error(`compile: ${(e as Error).message}`);
    Deno.exit(2);
  }
  const result = await compile(options);
  if (!result.ok) {
    console.error(`compile: ${result.reason}`);
    Deno.exit(1);
  }
  console.error(`compile: wrote ${result.output}`);
}
