/** A benchmark peer that behaves like the web client across failures: reconnects at once, rejoins with `since`, re-sends unacknowledged edits. */

/** Where a {@link ClusterPeer} connects and who it is. */
export interface ClusterPeerOptions {
  /** `wss://host:port` of HAProxy (or `ws://` of one relay). */
  wsBase: string;
  /** An HTTP client trusting HAProxy's CA; none for plain `ws://`. */
  client?: Deno.HttpClient;
  mapId: string;
  key: string;
  /** The stable client id sent in `hello` (the journal's `client` column). */
  clientId: string;
}

/** One acknowledged edit: its id, when it was first sent and when its ack arrived. */
export interface Ack {
  id: string;
  sentAt: number;
  ackedAt: number;
  /** True when the relay answered `duplicate` (stored before; its echo was lost). */
  duplicate: boolean;
  /** Which connection (1, 2, ...) the ack came on. */
  connection: number;
}

/**
 * A peer of one map. Edits get ids `<clientId>-<n>`; every edit stays pending until its echo (or a
 * `duplicate` answer, or its frame in a rejoin's catch-up) comes back, and is re-sent with the
 * same id on every new connection, which is what the web client does after a close 1012 "moved".
 */
export class ClusterPeer {
  readonly options: ClusterPeerOptions;
  /** Acks in arrival order. */
  readonly acks: Ack[] = [];
  /** Close codes seen, by code. */
  readonly closes: Record<string, number> = {};
  /** Edits the relay refused for another reason than `duplicate` (should stay empty). */
  readonly rejected: string[] = [];
  /** When each connection's `welcome` arrived. */
  readonly welcomes: number[] = [];
  #pending = new Map<string, number>();
  #n = 0;
  #seq = 0;
  #ws: WebSocket | undefined;
  #ready = false;
  #connection = 0;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #firstWelcome: Promise<void>;
  #resolveWelcome: () => void = () => {};

  constructor(options: ClusterPeerOptions) {
    this.options = options;
    this.#firstWelcome = new Promise((r) => this.#resolveWelcome = r);
  }

  /** Connects and resolves after the first `welcome`. */
  start(): Promise<void> {
    this.#connect();
    return this.#firstWelcome;
  }

  /** Edits sent and not acknowledged yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Whether a connection is open and welcomed. */
  get ready(): boolean {
    return this.#ready;
  }

  /** The number of the current connection (1 for the first). */
  get connection(): number {
    return this.#connection;
  }

  /** Sends one edit (a put of a small point); kept pending until acknowledged. */
  edit(): void {
    const id = `${this.options.clientId}-${++this.#n}`;
    this.#pending.set(id, performance.now());
    if (this.#ready) this.#send(id);
  }

  /** Closes for good (no reconnect). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const ws = this.#ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => ws.addEventListener("close", r, { once: true }));
    ws.close(1000);
    let t: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([closed, new Promise((r) => t = setTimeout(r, 2000))]);
    clearTimeout(t);
  }

  #send(id: string): void {
    const n = Number(id.slice(id.lastIndexOf("-") + 1));
    this.#ws?.send(JSON.stringify({
      type: "edit",
      id,
      ops: [{
        op: "put",
        feature: {
          type: "Feature",
          id: `${this.options.clientId}-f${n % 8}`,
          geometry: { type: "Point", coordinates: [(n % 360) - 180, (n % 170) - 85] },
          properties: { n },
        },
      }],
    }));
  }

  #acked(id: string, duplicate: boolean): void {
    const sentAt = this.#pending.get(id);
    if (sentAt === undefined) return;
    this.#pending.delete(id);
    this.acks.push({
      id,
      sentAt,
      ackedAt: performance.now(),
      duplicate,
      connection: this.#connection,
    });
  }

  #connect(): void {
    if (this.#stopped) return;
    const { wsBase, client, mapId } = this.options;
    const url = `${wsBase}/ws/${mapId}`;
    const ws = client
      ? new WebSocket(url, { protocols: ["duplexmap.v1"], client })
      : new WebSocket(url, "duplexmap.v1");
    this.#ws = ws;
    this.#connection++;
    ws.onerror = () => {};
    ws.onopen = () => {
      ws.send(JSON.stringify({
        type: "hello",
        key: this.options.key,
        name: this.options.clientId,
        color: "#3366cc",
        client: this.options.clientId,
        ...(this.welcomes.length > 0 ? { since: this.#seq } : {}),
      }));
    };
    ws.onmessage = (e) => {
      const parsed: unknown = JSON.parse(String(e.data));
      for (const m of (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[]) {
        this.#onMessage(m);
      }
    };
    ws.onclose = (e) => {
      this.#ready = false;
      this.closes[e.code] = (this.closes[e.code] ?? 0) + 1;
      if (this.#stopped) return;
      // 1012 "moved": at once, as the web client does (a little jitter); anything else (the relay
      // died, HAProxy had no server yet, 1013 try again) after a short pause.
      const wait = e.code === 1012 ? 10 + Math.random() * 40 : 100 + Math.random() * 100;
      this.#timer = setTimeout(() => this.#connect(), wait);
    };
  }

  #onMessage(m: Record<string, unknown>): void {
    switch (m.type) {
      case "welcome": {
        this.#seq = Number(m.seq ?? 0);
        for (const op of (m.ops ?? []) as Record<string, unknown>[]) {
          this.#acked(String(op.id), true);
        }
        this.#ready = true;
        this.welcomes.push(performance.now());
        this.#resolveWelcome();
        // Unacknowledged edits again, same ids: the store keeps one of each.
        for (const id of this.#pending.keys()) this.#send(id);
        break;
      }
      case "edit":
        if (typeof m.seq === "number") this.#seq = Math.max(this.#seq, m.seq);
        this.#acked(String(m.id), false);
        break;
      case "rejected":
        if (m.code === "duplicate") this.#acked(String(m.id), true);
        else if (this.#pending.delete(String(m.id))) this.rejected.push(`${m.id}: ${m.code}`);
        break;
    }
  }
}
