/** An editing peer for the cluster chaos tests: sends edits, tracks acks, reconnects with `since` and re-sends what was not acknowledged, as the web client does. */
import { Replica } from "./_fixtures.ts";
import type { EditMsg, Msg, WireFeature, WireOp } from "./_ws.ts";
import { sleep } from "./_process.ts";

/** Options for {@link EditorPeer}. */
export interface EditorPeerOptions {
  /**
   * Opens a new WebSocket to the map (through HAProxy, or straight to a relay); `attempt` counts
   * from 0, so a peer can start straight at one relay and come back through HAProxy.
   */
  open: (attempt: number) => WebSocket;
  /** The map's edit key. */
  key: string;
  /** The stable client id sent in `hello` (edit ids are deduplicated per client). */
  client: string;
  /** Display name, also the prefix of the edit ids. @default client */
  name?: string;
  /** Wait between failed attempts to connect. @default 100 */
  retryMs?: number;
}

/** How one connection ended. */
export interface PeerClose {
  code: number;
  reason: string;
  /** `performance.now()` when it closed. */
  at: number;
}

/** An edit sent (or to be sent) and not yet acknowledged. */
interface Outgoing {
  type: "edit";
  id: string;
  ops: WireOp[];
}

/**
 * A peer that keeps a copy of the map ({@link Replica}), sends edits whenever it is connected,
 * and after any close reconnects at once with `since` (its last seq) and re-sends every edit
 * still unacknowledged. An edit counts as done when its ack arrives, or when a re-send is
 * rejected `duplicate` (it was committed but its ack was lost with the connection).
 */
export class EditorPeer {
  /** The peer's copy of the map. */
  replica = new Replica();
  /** Edit id -> the seq its ack carried. */
  readonly acked = new Map<string, number>();
  /** `performance.now()` of each acknowledgement, in order. */
  readonly ackTimes: number[] = [];
  /** Re-sent edits the relay already had (`rejected` `duplicate`). */
  readonly duplicates = new Set<string>();
  /** Other rejections and protocol errors: the tests expect none. */
  readonly problems: Msg[] = [];
  /** Every close of a joined connection. */
  readonly closes: PeerClose[] = [];
  /** Milliseconds from each close of a joined connection to the next `welcome`. */
  readonly reconnectMs: number[] = [];
  /** Seqs that arrived out of order on one connection (the tests expect none). */
  readonly gaps: string[] = [];
  readonly #options: EditorPeerOptions;
  readonly #pending = new Map<string, Outgoing>();
  #ws: WebSocket | undefined;
  #joined = false;
  #stopped = false;
  #epoch: string | undefined;
  #downSince: number | undefined;
  #welcomes = 0;
  #loop: Promise<void> | undefined;
  #counter = 0;
  #attempts = 0;

  constructor(options: EditorPeerOptions) {
    this.#options = options;
  }

  /** The client id. */
  get client(): string {
    return this.#options.client;
  }

  /** How many `welcome`s it has had (1 + reconnections). */
  get welcomes(): number {
    return this.#welcomes;
  }

  /** Edits sent or queued and not yet done. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Connects and resolves at the first `welcome`; then keeps reconnecting until {@link stop}. */
  async start(): Promise<void> {
    this.#loop = this.#run();
    await this.until(() => this.#welcomes > 0, 20_000, "the first welcome");
  }

  /** Sends one edit now, or on the next connection; returns its id. */
  edit(ops: WireOp[]): string {
    const id = `${this.#options.name ?? this.#options.client}-${++this.#counter}`;
    const frame: Outgoing = { type: "edit", id, ops };
    this.#pending.set(id, frame);
    if (this.#joined) this.#send(frame);
    return id;
  }

  /** Puts a new point feature (ids unique per peer, so any order of puts converges). */
  put(lng: number, lat: number): string {
    const feature: WireFeature = {
      type: "Feature",
      id: `${this.#options.client}-f${this.#counter + 1}`,
      geometry: { type: "Point", coordinates: [lng, lat] },
      properties: { by: this.#options.client },
    };
    return this.edit([{ op: "put", feature }]);
  }

  /** Resolves once every edit is done (acked or known duplicate); rejects after `timeoutMs`. */
  settled(timeoutMs = 20_000): Promise<void> {
    return this.until(() => this.#pending.size === 0, timeoutMs, "every edit acknowledged");
  }

  /** Polls `check` until it holds (a bound on waiting, never a measurement). */
  async until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) {
        throw new Error(
          `${this.client}: timed out after ${timeoutMs} ms waiting for ${what}; pending ` +
            `${this.#pending.size}, closes ${JSON.stringify(this.closes.slice(-3))}, problems ` +
            JSON.stringify(this.problems.slice(-3)),
        );
      }
      await sleep(20);
    }
  }

  /** Stops reconnecting and closes the socket. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#ws && this.#ws.readyState <= WebSocket.OPEN) this.#ws.close(1000, "bye");
    await this.#loop;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      await this.#connectOnce();
      if (!this.#stopped) await sleep(this.#joined ? 0 : this.#options.retryMs ?? 100);
    }
  }

  /** One connection, from open to close. */
  #connectOnce(): Promise<void> {
    return new Promise((resolve) => {
      let ws: WebSocket;
      try {
        ws = this.#options.open(this.#attempts++);
      } catch {
        resolve();
        return;
      }
      this.#ws = ws;
      this.#joined = false;
      ws.addEventListener("open", () => {
        ws.send(JSON.stringify({
          type: "hello",
          key: this.#options.key,
          name: this.#options.name ?? this.#options.client,
          color: "#3366cc",
          client: this.#options.client,
          ...(this.#welcomes > 0 ? { since: this.replica.seq } : {}),
          ...(this.#epoch === undefined ? {} : { epoch: this.#epoch }),
        }));
      });
      ws.addEventListener("message", (e) => {
        const parsed: unknown = JSON.parse(String(e.data));
        for (const m of (Array.isArray(parsed) ? parsed : [parsed]) as Msg[]) this.#onMessage(m);
      });
      ws.addEventListener("close", (e) => {
        if (this.#joined) {
          this.closes.push({ code: e.code, reason: e.reason, at: performance.now() });
          this.#downSince ??= performance.now();
        }
        this.#joined = false;
        resolve();
      });
    });
  }

  #onMessage(m: Msg): void {
    switch (m.type) {
      case "welcome":
        this.#onWelcome(m);
        break;
      case "edit":
        this.#onEdit(m as EditMsg);
        break;
      case "rejected":
        if (m.code === "duplicate" && this.#pending.has(String(m.id))) {
          this.#pending.delete(String(m.id));
          this.duplicates.add(String(m.id));
        } else this.problems.push(m);
        break;
      case "error":
        this.problems.push(m);
        break;
    }
  }

  #onWelcome(m: Msg): void {
    if (typeof m.epoch === "string") this.#epoch = m.epoch;
    const snapshot = m.features as { features: WireFeature[] } | undefined;
    if (snapshot) this.replica = new Replica(snapshot.features, Number(m.seq));
    for (const op of (m.ops ?? []) as EditMsg[]) this.#onEdit(op);
    this.#joined = true;
    this.#welcomes++;
    if (this.#downSince !== undefined) {
      this.reconnectMs.push(performance.now() - this.#downSince);
      this.#downSince = undefined;
    }
    for (const frame of this.#pending.values()) this.#send(frame);
  }

  #onEdit(edit: EditMsg): void {
    if (edit.seq <= this.replica.seq) return;
    if (edit.seq !== this.replica.seq + 1) {
      this.gaps.push(`seq ${edit.seq} after ${this.replica.seq}`);
    }
    this.replica.apply(edit);
    const id = String(edit.id);
    // Edit ids carry this peer's name, so an id in `pending` is one of its own (acked under
    // any of its connections, catch-up included).
    if (this.#pending.has(id)) {
      this.#pending.delete(id);
      this.acked.set(id, edit.seq);
      this.ackTimes.push(performance.now());
    }
  }

  #send(frame: Outgoing): void {
    try {
      this.#ws?.send(JSON.stringify(frame));
    } catch {
      // Closing: it is re-sent on the next connection.
    }
  }
}
