/** Runs the benchmark in its smoke form (seconds per scenario) and checks it completes with sane numbers; never asserts speed. */
import assert from "assert";
import type { ScenarioResult } from "../bench/scenarios.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Runs `bench/main.ts --smoke --no-write` with `args` and returns the results it wrote as JSON. */
async function smoke(args: string[]): Promise<ScenarioResult[]> {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-bench-smoke-" });
  try {
    const json = `${dir}/results.json`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}bench/main.ts`, "--smoke", "--no-write", ...args, "--json", json],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, `bench --smoke exited with ${out.code}:\n${stderr.slice(-3000)}`);
    return (JSON.parse(await Deno.readTextFile(json)) as { results: ScenarioResult[] }).results;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("bench --smoke runs every scenario against every server with sane numbers", async () => {
  const results = await smoke([]);
  assert.deepEqual(results.map((r) => r.id), [
    "s1",
    "s2",
    "s3",
    "s4",
    "s5",
    "s6",
    "s8",
    "tiles",
  ]);
  for (const scenario of results) {
    assert.equal(scenario.pending, undefined, `${scenario.id} did not run: ${scenario.pending}`);
    assert.ok(scenario.rows.length > 0, `${scenario.id} has no rows`);
    for (const row of scenario.rows) {
      const what = `${scenario.id} ${row.server} ${row.step}`;
      assert.equal(row.error, undefined, `${what} failed: ${row.error}`);
      if (row.load) {
        const l = row.load;
        assert.ok(l.sent > 0 && l.expected > 0, `${what}: nothing was sent`);
        assert.ok(l.delivered > 0, `${what}: nothing was delivered`);
        assert.ok(l.deliveredPerS > 0, `${what}: no deliveries in the window`);
        // No server invents or repeats a delivery: what arrived, plus what a newer message
        // superseded, never exceeds what was owed, and nothing arrives twice.
        assert.ok(l.delivered + l.coalesced <= l.expected, `${what}: more than was sent`);
        assert.equal(l.duplicates, 0, `${what}: delivered twice`);
        for (const [k, v] of Object.entries({ ...l.latency, cpu: l.cpuUsPerDelivery })) {
          assert.ok(Number.isFinite(v) && v >= 0, `${what}: ${k} is ${v}`);
        }
        assert.ok(l.peakRssBytes > 0, `${what}: no server memory reading`);
      } else {
        assert.ok(row.values, `${what}: no numbers`);
        for (const [k, v] of Object.entries(row.values)) {
          assert.ok(Number.isFinite(v), `${what}: ${k} is ${v}`);
        }
      }
    }
  }
  const servers = new Set(results.find((r) => r.id === "s1")!.rows.map((r) => r.server));
  assert.deepEqual([...servers].sort(), ["deno", "node-ws", "relay", "socketio"]);
  const s5 = results.find((r) => r.id === "s5")!.rows[0].values!;
  assert.ok(s5.median_ms > 0 && s5.snapshot_bytes > 0, "s5 measured no snapshot");
});

Deno.test("bench --smoke s7 splits the load over two generator processes and accounts for everything", async () => {
  const results = await smoke(["--only", "s7", "--servers", "relay", "--generators", "2"]);
  const l = results[0].rows[0].load!;
  assert.equal(l.generators, 2);
  assert.ok(l.sent > 0 && l.delivered > 0, "nothing was sent or delivered");
  assert.ok(l.delivered + l.coalesced <= l.expected, "more than was sent");
  assert.equal(l.duplicates, 0);
  assert.ok(l.generatorCores > 0, "the generators' CPU was not measured");
  assert.ok((l.messagesPerFrame ?? 0) >= 1, "the relay's frames were not counted");
});

Deno.test("bench/import_points.ts in small: a second peer gets every point, by the API and by the page", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}bench/import_points.ts`, "--points", "3000"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, `exited with ${out.code}:\n${new TextDecoder().decode(out.stderr)}`);
  assert.equal(stdout.match(/the second peer had all 3000 after \d+ ms/g)?.length, 2, stdout);
  assert.match(stdout, /import API: answer 200 \(3000 features, 1 edits\)/);
});

Deno.test("bench/history.ts in small: a version 2 999 edits back, history pages, disk per edit", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}bench/history.ts`, "--edits", "3000", "--features", "200"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.ok(
    out.success,
    `bench/history.ts exited with ${out.code}:\n${
      new TextDecoder().decode(out.stderr).slice(-3000)
    }`,
  );
  assert.match(stdout, /features\?at=SEQ 2999 edits back: [\d.]+ ms median/);
  assert.match(stdout, /history first page \(50\): [\d.]+ ms/);
  assert.match(stdout, /SQLite file: [\d.]+ MiB = [\d.]+ MiB per 100 000 edits/);
});

Deno.test("bench --smoke --only cluster: 1-3 relays behind HAProxy, failover, a 4th relay, every acknowledged edit in the journal", async () => {
  const [cluster] = await smoke(["--only", "cluster"]);
  assert.equal(cluster.id, "cluster");
  for (const row of cluster.rows) assert.equal(row.error, undefined, `${row.step}: ${row.error}`);
  assert.deepEqual(cluster.rows.map((r) => r.step), [
    "1 relay, SQLite",
    "1 relay",
    "2 relays",
    "3 relays",
    "edit-to-ack SQLite",
    "edit-to-ack PostgreSQL",
    "kill -9 owner",
    "SIGSTOP owner",
    "3 -> 4 relays",
  ]);
  const v = (step: string) => cluster.rows.find((r) => r.step === step)!.values!;
  assert.ok(v("1 relay, SQLite").acked_per_s > 0, "SQLite: nothing acknowledged");
  for (const n of [1, 2, 3]) {
    const step = v(`${n} relay${n > 1 ? "s" : ""}`);
    assert.ok(step.acked_per_s > 0 && step.cursor_per_s > 0, `${n}: nothing delivered`);
    assert.ok(step.cores_box > 0 && step.cores_r1 >= 0, `${n}: no CPU reading`);
    // Every map has one owner, and only among the relays HAProxy sends to.
    const owned = [1, 2, 3, 4].map((r) => step[`maps_r${r}`]);
    assert.equal(owned.slice(0, n).reduce((a, b) => a + b), 6, `${n}: owners ${owned}`);
    assert.ok(owned.slice(n).every((m) => m === 0), `${n}: a relay in maint owns a map`);
  }
  for (const store of ["SQLite", "PostgreSQL"]) {
    const ack = v(`edit-to-ack ${store}`);
    assert.equal(ack.acked, ack.sent, `${store}: not every edit acknowledged`);
    assert.ok(ack.ack_p50_ms > 0);
  }
  for (const fault of ["kill -9 owner", "SIGSTOP owner"]) {
    const f = v(fault);
    assert.ok(f.maps_hit > 0, `${fault}: the owner had no maps`);
    assert.equal(f.timed_out, 0, `${fault}: a map never came back`);
    assert.ok(f.failover_max_s > 0 && Number.isFinite(f.failover_max_s));
  }
  const moves = v("3 -> 4 relays");
  assert.ok(moves.to_new > 0, "no map moved to the new relay");
  assert.equal(moves.elsewhere, 0, "a map moved between the old relays");
  assert.equal(moves.unowned, 0);
  for (const row of cluster.rows.filter((r) => r.values?.lost !== undefined)) {
    const c = row.values!;
    assert.ok(c.acked > 0, `${row.step}: nothing acknowledged`);
    assert.equal(c.lost, 0, `${row.step}: acknowledged edits missing from the journal`);
    assert.equal(c.gapped_maps, 0, `${row.step}: a journal's seqs are not 1..n`);
    assert.equal(c.stored_twice, 0, `${row.step}: an edit stored twice`);
  }
});
