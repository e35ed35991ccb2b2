/** Counters and gauges of the relay, rendered in the Prometheus text format. */

/** Labelled counters: one number per label value. */
class LabelledCounter {
  #values = new Map<string, number>();
  inc(label: string | number, by = 1): void {
    const key = String(label);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }
  get(label: string | number): number {
    return this.#values.get(String(label)) ?? 0;
  }
  entries(): [string, number][] {
    return [...this.#values.entries()].sort();
  }
}

/** One metric's lines of the Prometheus text: its help, its type, and a line per labelled sample. */
function metricLines(
  name: string,
  type: string,
  help: string,
  samples: readonly [string, number][],
): string[] {
  return [
    `# HELP duplexmap_${name} ${help}`,
    `# TYPE duplexmap_${name} ${type}`,
    ...samples.map(([labels, value]) => `duplexmap_${name}${labels} ${value}`),
  ];
}

/** Upper bounds (seconds) of the lease renewal histogram's buckets. */
const RENEW_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The counters of map leases (issue 13), kept only by a relay on PostgreSQL. */
export class LeaseMetrics {
  /** Maps whose lease this relay holds. */
  owned = 0;
  /** Renewal rounds that failed (the database did not answer, or refused). */
  renewFailures = 0;
  /** Maps taken over from another relay after asking for them. */
  handoffsIn = 0;
  /** Maps handed to another relay that asked for them. */
  handoffsOut = 0;
  /** Commits refused because another relay took the map. */
  fencedCommits = 0;
  /** Times this relay stopped sequencing maps whose leases it could not renew in time. */
  selfFenced = 0;
  #renewCounts = RENEW_BUCKETS.map(() => 0);
  #renewSum = 0;
  #renewCount = 0;

  /** Records one renewal round trip, in seconds. */
  observeRenew(seconds: number): void {
    this.#renewSum += seconds;
    this.#renewCount++;
    for (const [i, le] of RENEW_BUCKETS.entries()) if (seconds <= le) this.#renewCounts[i]++;
  }

  /** Its lines of the Prometheus text. */
  render(): string[] {
    return [
      ...metricLines("maps_owned", "gauge", "Maps whose lease this relay holds.", [[
        "",
        this.owned,
      ]]),
      ...metricLines("lease_renew_seconds", "histogram", "Round trip of one lease renewal.", [
        ...RENEW_BUCKETS.map((le, i): [string, number] => [
          `_bucket{le="${le}"}`,
          this.#renewCounts[i],
        ]),
        [`_bucket{le="+Inf"}`, this.#renewCount],
        ["_sum", this.#renewSum],
        ["_count", this.#renewCount],
      ]),
      ...metricLines(
        "lease_renew_failures_total",
        "counter",
        "Lease renewal rounds that failed or went unanswered for a lease.",
        [["", this.renewFailures]],
      ),
      ...metricLines("handoffs_total", "counter", "Maps handed between relays, by direction.", [
        [`{direction="in"}`, this.handoffsIn],
        [`{direction="out"}`, this.handoffsOut],
      ]),
      ...metricLines(
        "fenced_commits_total",
        "counter",
        "Commits refused: another relay owns the map.",
        [[
          "",
          this.fencedCommits,
        ]],
      ),
      ...metricLines("self_fenced_total", "counter", "Times leases could not be renewed in time.", [
        [
          "",
          this.selfFenced,
        ],
      ]),
    ];
  }
}

/** What `/metrics` reads from the hub and the runtime when it is scraped. */
export interface Gauges {
  connections: number;
  maps: number;
  peers: number;
  /** How many presence ticks a busy map waits now (0: presence goes out every turn). */
  presenceTicks?: number;
  /** Share of a core the relay's thread used in its last measurement (0..1). */
  busy?: number;
  /** The runtime's memory (`Deno.memoryUsage()`). */
  memory?: { rss: number; heapTotal: number; heapUsed: number; external: number };
}

/** The relay's counters; gauges are read from the hub when rendered. */
export class Metrics {
  /** Frames received. */
  framesIn = 0;
  /** Frames sent. */
  framesOut = 0;
  /** Messages received. */
  messagesIn = 0;
  /** Messages sent. */
  messagesOut = 0;
  /** Edits accepted. */
  edits = 0;
  /** Presence messages dropped for slow peers. */
  presenceDrops = 0;
  /** Connections accepted. */
  connectionsTotal = 0;
  /** Rejected edits by code. */
  readonly rejections = new LabelledCounter();
  /** Error replies by code. */
  readonly errors = new LabelledCounter();
  /** Closes by code. */
  readonly closes = new LabelledCounter();
  /** Lease counters, on a relay that keeps leases (PostgreSQL); `null`: none rendered. */
  leases: LeaseMetrics | null = null;

  /** Renders the metrics, with the gauges given, as Prometheus text exposition. */
  render(gauges: Gauges): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) =>
      lines.push(...metricLines(name, type, help, samples));
    metric("connections", "gauge", "Open WebSocket and fallback connections.", [[
      "",
      gauges.connections,
    ]]);
    metric("peers", "gauge", "Peers joined to a map.", [["", gauges.peers]]);
    metric("maps_in_memory", "gauge", "Maps live in memory.", [["", gauges.maps]]);
    metric("connections_total", "counter", "Connections accepted.", [["", this.connectionsTotal]]);
    metric("frames_in_total", "counter", "Frames received.", [["", this.framesIn]]);
    metric("frames_out_total", "counter", "Frames sent.", [["", this.framesOut]]);
    metric("messages_in_total", "counter", "Messages received.", [["", this.messagesIn]]);
    metric("messages_out_total", "counter", "Messages sent.", [["", this.messagesOut]]);
    metric("edits_total", "counter", "Edits accepted.", [["", this.edits]]);
    metric(
      "rejections_total",
      "counter",
      "Edits rejected, by code.",
      this.rejections.entries().map(([k, v]) => [`{code="${k}"}`, v]),
    );
    metric(
      "errors_total",
      "counter",
      "Protocol errors, by code.",
      this.errors.entries().map(([k, v]) => [`{code="${k}"}`, v]),
    );
    metric(
      "closes_total",
      "counter",
      "Connections closed, by close code.",
      this.closes.entries().map(([k, v]) => [`{code="${k}"}`, v]),
    );
    metric("presence_drops_total", "counter", "Presence messages dropped for slow peers.", [[
      "",
      this.presenceDrops,
    ]]);
    if (gauges.presenceTicks !== undefined) {
      metric(
        "presence_wait_ticks",
        "gauge",
        "Presence ticks a busy map's cursors and views wait now (0: sent every turn, the relay keeps up).",
        [["", gauges.presenceTicks]],
      );
    }
    if (gauges.busy !== undefined) {
      metric(
        "thread_busy_ratio",
        "gauge",
        "Share of a core the relay's thread used in its last measurement (taken while presence moves).",
        [["", Math.round(gauges.busy * 1000) / 1000]],
      );
    }
    if (gauges.memory) {
      const m = gauges.memory;
      metric("resident_memory_bytes", "gauge", "Resident set size of the process.", [["", m.rss]]);
      metric("heap_bytes", "gauge", "JavaScript heap of the main isolate, by kind.", [
        ['{kind="used"}', m.heapUsed],
        ['{kind="total"}', m.heapTotal],
        ['{kind="external"}', m.external],
      ]);
    }
    if (this.leases) lines.push(...this.leases.render());
    return lines.join("\n") + "\n";
  }
}
