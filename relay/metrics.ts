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
    return lines.join("\n") + "\n";
  }
}
