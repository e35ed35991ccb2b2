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
    const c = (name: string, help: string, type: string, samples: [string, number][]) => [
      `# HELP duplexmap_${name} ${help}`,
      `# TYPE duplexmap_${name} ${type}`,
      ...samples.map(([labels, v]) => `duplexmap_${name}${labels} ${v}`),
    ];
    return [
      ...c("maps_owned", "Maps whose lease this relay holds.", "gauge", [["", this.owned]]),
      ...c("lease_renew_seconds", "Round trip of one lease renewal.", "histogram", [
        ...RENEW_BUCKETS.map((le, i): [string, number] => [
          `_bucket{le="${le}"}`,
          this.#renewCounts[i],
        ]),
        [`_bucket{le="+Inf"}`, this.#renewCount],
        ["_sum", this.#renewSum],
        ["_count", this.#renewCount],
      ]),
      ...c("lease_renew_failures_total", "Lease renewal rounds that failed.", "counter", [[
        "",
        this.renewFailures,
      ]]),
      ...c("handoffs_total", "Maps handed between relays, by direction.", "counter", [
        [`{direction="in"}`, this.handoffsIn],
        [`{direction="out"}`, this.handoffsOut],
      ]),
      ...c("fenced_commits_total", "Commits refused: another relay owns the map.", "counter", [[
        "",
        this.fencedCommits,
      ]]),
      ...c("self_fenced_total", "Times leases could not be renewed in time.", "counter", [[
        "",
        this.selfFenced,
      ]]),
    ];
  }
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
  render(gauges: { connections: number; maps: number; peers: number }): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP duplexmap_${name} ${help}`, `# TYPE duplexmap_${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`duplexmap_${name}${labels} ${value}`);
    };
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
    if (this.leases) lines.push(...this.leases.render());
    return lines.join("\n") + "\n";
  }
}
