/** Markdown for scenario `cluster`: throughput and CPU per process, edit-to-ack, failover, maps moved, edits lost. */
import { fmtRate } from "./load.ts";
import type { Row } from "./scenarios.ts";

const ms = (n: number | undefined) =>
  n === undefined || !Number.isFinite(n) ? "–" : n >= 100 ? n.toFixed(0) : n.toFixed(1);
const pct = (n: number | undefined) =>
  n === undefined || !Number.isFinite(n) ? "–" : `${(n * 100).toFixed(0)}%`;
const num = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n) ? "–" : n.toFixed(digits);

function table(head: string[], lines: string[][]): string {
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...lines.map((l) => `| ${l.join(" | ")} |`),
  ].join("\n");
}

/** The scenario's tables. */
export function clusterMarkdown(rows: Row[]): string {
  const out: string[] = [];
  const errors = rows.filter((r) => r.error);
  const load = rows.filter((r) => r.values?.relays !== undefined);
  if (load.length > 0) {
    const relays = [
      ...new Set(
        load.flatMap((r) => Object.keys(r.values!)).filter((k) => /^cores_r\d+$/.test(k)),
      ),
    ].sort().map((k) => k.slice(6));
    out.push(
      table(
        [
          "step",
          "edits acked/s",
          "cursor deliveries/s",
          "ack p50 ms",
          "ack p99 ms",
          "cursor p99 ms",
          ...relays.map((r) => `CPU ${r}`),
          "CPU HAProxy",
          "CPU PostgreSQL",
          "CPU generator",
          "CPU box (of 200%)",
          "CPU other work",
          "maps per relay",
          "acked not in journal",
        ],
        load.map((r) => {
          const v = r.values!;
          return [
            r.step,
            fmtRate(v.acked_per_s),
            fmtRate(v.cursor_per_s),
            ms(v.ack_p50_ms),
            ms(v.ack_p99_ms),
            ms(v.cursor_p99_ms),
            ...relays.map((id) => pct(v[`cores_${id}`])),
            pct(v.cores_haproxy),
            pct(v.cores_postgres),
            pct(v.cores_generator),
            pct(v.cores_box),
            pct(v.cores_other),
            v.maps_r1 === undefined ? "–" : relays.map((id) => num(v[`maps_${id}`])).join("/"),
            v.lost === undefined ? "–" : `${num(v.lost)} of ${num(v.acked)}`,
          ];
        }),
      ),
      "",
    );
  }
  const acks = rows.filter((r) => r.step.startsWith("edit-to-ack") && r.values);
  if (acks.length > 0) {
    out.push(
      table(
        ["one relay, no HAProxy", "p50 ms", "p99 ms", "max ms", "acked / sent"],
        acks.map((r) => [
          r.step.replace("edit-to-ack ", ""),
          ms(r.values!.ack_p50_ms),
          ms(r.values!.ack_p99_ms),
          ms(r.values!.ack_max_ms),
          `${num(r.values!.acked)} / ${num(r.values!.sent)}`,
        ]),
      ),
      "",
    );
  }
  const faults = rows.filter((r) => r.values?.failover_p50_s !== undefined);
  if (faults.length > 0) {
    out.push(
      table(
        [
          "fault",
          "lease ms",
          "maps of the owner",
          "back after, median s",
          "max s",
          "never back",
          "closes 1012",
          "acked not in journal",
          "seq gaps / stored twice",
          "",
        ],
        faults.map((r) => {
          const v = r.values!;
          return [
            r.step,
            num(v.lease_ms),
            num(v.maps_hit),
            num(v.failover_p50_s, 2),
            num(v.failover_max_s, 2),
            num(v.timed_out),
            num(v.closes_moved),
            `${num(v.lost)} of ${num(v.acked)}`,
            `${num(v.gapped_maps)} / ${num(v.stored_twice)}`,
            r.note ?? "",
          ];
        }),
      ),
      "",
    );
  }
  const moved = rows.find((r) => r.values?.moved_share !== undefined);
  if (moved) {
    const v = moved.values!;
    out.push(
      `Adding a 4th relay (set ready on the stats socket, every map then requested once): ` +
        `${num(v.moved)} of ${num(v.maps)} maps moved (${pct(v.moved_share)}; ideal 25%), ` +
        `${num(v.to_new)} to the new relay (from ${
          Object.keys(v).filter((k) => k.startsWith("from_")).map((k) =>
            `${k.slice(5)} ${num(v[k])}`
          ).join(", ")
        }), ${num(v.elsewhere)} elsewhere, ${num(v.unowned)} ` +
        `without an owner; ${num(v.closes_moved)} peers told 1012 "moved"; acknowledged edits ` +
        `not in the journal: ${num(v.lost)} of ${num(v.acked)}.`,
      "",
    );
  }
  const checked = rows.filter((r) => r.values?.lost !== undefined);
  const lost = checked.reduce((a, r) => a + r.values!.lost, 0);
  const acked = checked.reduce((a, r) => a + r.values!.acked, 0);
  out.push(`Edits lost over every step: **${lost}** of ${acked} acknowledged.`);
  for (const r of errors) out.push("", `${r.step}: error: ${r.error}`);
  return out.join("\n");
}
