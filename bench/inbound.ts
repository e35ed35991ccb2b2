/**
 * What one inbound message costs a server when there is nobody to deliver it to: s8's 1 700 peers
 * (cursors 5 Hz, a view every 2 s, no edits), each alone in its map, so the server only reads,
 * parses and (the relay) validates and orders. Prints server CPU per inbound message for each
 * server, one at a time. It is the floor under s8's "CPU per delivery": a map of 10 delivers each
 * message 9 times, so this cost over 9 is in every delivery.
 *
 * ```sh
 * deno run -A bench/inbound.ts [--servers relay,deno,node-ws] [--peers 1700] [--cpu-prof]
 * ```
 */
import { parseArgs } from "node:util";
import { RELAY_V8_FLAGS } from "../scripts/compile.ts";
import { runLoad } from "./load.ts";
import { RELAY_BENCH_ARGS } from "./main.ts";
import { roomsFor, type ScenarioContext, withServer } from "./scenarios.ts";
import { smallMapsSpec } from "./scenarios_scale.ts";
import type { ServerName } from "./servers.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      servers: { type: "string", default: "relay,deno,node-ws" },
      peers: { type: "string", default: "1700" },
      "cpu-prof": { type: "boolean" },
    },
  });
  const peers = Number(values.peers);
  const ctx: ScenarioContext = {
    mode: "short",
    servers: values.servers.split(",") as ServerName[],
    log: (line) => console.error(line),
    relayArgs: RELAY_BENCH_ARGS,
    relayDenoFlags: [
      ...(values["cpu-prof"] ? ["--cpu-prof", "--cpu-prof-dir=bench/results/prof"] : []),
      `--v8-flags=${RELAY_V8_FLAGS.join(",")}`,
    ],
  };
  for (const name of ctx.servers) {
    await withServer(ctx, name, async (server) => {
      const spec = { ...smallMapsSpec("short", peers, 1), editHz: 0 };
      const load = await runLoad({
        server,
        rooms: await roomsFor(server, peers),
        spec,
        log: () => {},
        label: `inbound ${name}`,
      });
      const inboundPerS = peers * (spec.cursorHz + spec.viewHz);
      const cpu = load.server_.cpuCores;
      console.log(
        `${name}: ${inboundPerS} messages/s in, server CPU ${(cpu * 100).toFixed(0)}%, ` +
          `${(cpu * 1e6 / inboundPerS).toFixed(1)} us per inbound message; ` +
          `generator ${(load.generatorCores * 100).toFixed(0)}%, other ${
            (load.otherCores * 100).toFixed(0)
          }%`,
      );
    });
  }
}
