/** Keeps one map session connected: hello, liveness pings, reconnect with backoff, fatal closes. */
import * as v from "valibot";
import {
  CloseCode,
  DEFAULT_MAX_FRAME_BYTES,
  MOVED_REASON,
  ServerMessageSchema,
} from "../../relay/protocol.ts";
import type { ServerMessage } from "../../relay/protocol.ts";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import { type Clock, systemClock } from "./clock.ts";
import { stringifyAnyDepth } from "./json_text.ts";
import {
  type Transport,
  type TransportFactory,
  type TransportTarget,
  UNKNOWN_MAP_OR_KEY,
} from "./transport.ts";

export type { Clock } from "./clock.ts";

/** What the page says when the relay refused the link's key or map. */
export const INVALID_LINK =
  "This link is not valid: the map does not exist or the key is wrong. Ask for a new link.";

/** The close code a connection uses when no `welcome` came in time. */
export const NO_WELCOME_CLOSE = 4002;

/** The most a reconnect after the relay's close 1012 "moved" waits (jitter only), in ms. */
export const MOVED_JITTER_MS = 250;

/**
 * How many "moved" closes in a row, without a `welcome` between them, are answered at once; past
 * that (a map bouncing between relays) the ordinary backoff takes over.
 */
const MOVED_AT_ONCE = 3;

/** Where the connection stands. */
export type ConnectionState = "connecting" | "live" | "offline" | "failed";

/** What the connection indicator shows. */
export interface ConnectionStatus {
  state: ConnectionState;
  /** The transport in use (or last tried), e.g. "websocket". */
  transport: string;
  /** When offline: ms until the next attempt. */
  retryInMs?: number;
  /** When failed: why, in words for the user. */
  reason?: string;
}

/** Options for {@link Connection}. */
export interface ConnectionOptions {
  target: TransportTarget;
  transport: TransportFactory;
  /** Builds the `hello` message for each attempt (so it carries the current `since`). */
  hello: () => Record<string, unknown>;
  /** Every message from the relay, in order. */
  onMessage: (message: ServerMessage) => void;
  onStatus: (status: ConnectionStatus) => void;
  clock?: Clock;
  random?: () => number;
  backoff?: BackoffOptions;
  /** How often to ping while live, in ms. @default 20000 */
  pingIntervalMs?: number;
  /** Close and reconnect when nothing arrives for this long after a ping, in ms. @default 10000 */
  pongTimeoutMs?: number;
  /** The relay's frame limit (`/api/config`); batches are split to stay under it. @default 1 MiB */
  maxFrameBytes?: number;
  /**
   * How long after the link opened (and `hello` went out) `welcome` may take before the attempt
   * counts as failed, in ms. A gateway that passes the upgrade and then holds the frames would
   * otherwise leave the page connecting for ever. @default 10000
   */
  welcomeTimeoutMs?: number;
}

/**
 * Checks one message against the relay's published schema. A message that does not match (a
 * newer relay's unknown message type, or a bug) is skipped with a warning instead of corrupting
 * the map.
 */
function parseServerMessage(value: unknown): ServerMessage | null {
  const result = v.safeParse(ServerMessageSchema, value);
  if (result.success) return result.output;
  console.warn("duplex: ignored a server message that does not match the protocol", {
    type: typeof value === "object" && value !== null && "type" in value ? value.type : undefined,
    issue: result.issues[0].message,
  });
  return null;
}

/**
 * One logical connection to a map that survives network trouble: it opens a transport, sends
 * `hello`, counts as live once `welcome` arrives, pings to notice dead links, and after a close
 * waits (exponential backoff with jitter) and tries again; after the relay's close 1012 "moved"
 * it tries again at once (jitter only, backoff not grown). An attempt with no `welcome` within
 * `welcomeTimeoutMs` of opening is closed and retried. Only the relay's close 1008
 * "unknown map or key" before `welcome` is final (state "failed"): the link is not valid.
 */
export class Connection {
  #options: ConnectionOptions;
  #clock: Clock;
  #random: () => number;
  #transport: Transport | null = null;
  #state: ConnectionState = "offline";
  #attempt = 0;
  /** "moved" closes since the last `welcome`. */
  #moves = 0;
  #retryTimer: number | null = null;
  #pingTimer: number | null = null;
  #deadTimer: number | null = null;
  #welcomeTimer: number | null = null;
  #stopped = true;
  #transportName = "websocket";

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock();
    this.#random = options.random ?? Math.random;
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Starts connecting (again). */
  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  /** Closes for good. */
  stop(): void {
    this.#stopped = true;
    this.#clearTimers();
    this.#transport?.close(1000, "bye");
    this.#transport = null;
  }

  /** Skips the backoff wait (the browser says it is online again). */
  retryNow(): void {
    if (this.#stopped || this.#state !== "offline") return;
    this.#connect();
  }

  /** Drops the link as if the network failed (the browser says it went offline). */
  drop(): void {
    if (this.#stopped || !this.#transport) return;
    this.#transport.close(4000, "offline");
  }

  /**
   * Sends messages when live, as one frame, or as several when together they would exceed the
   * relay's frame limit (order kept); a string is one message already serialised. Returns whether
   * they went out.
   */
  send(messages: string | Record<string, unknown> | Record<string, unknown>[]): boolean {
    if (this.#state !== "live" || !this.#transport) return false;
    if (typeof messages === "string") {
      this.#transport.send(messages);
      return true;
    }
    const list = Array.isArray(messages) ? messages : [messages];
    if (list.length === 1) this.#transport.send(stringifyAnyDepth(list[0]));
    if (list.length <= 1) return true;
    const max = this.#options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    let batch: string[] = [];
    let bytes = 2;
    const flush = () => {
      if (batch.length > 0) this.#transport?.send(`[${batch.join(",")}]`);
      batch = [];
      bytes = 2;
    };
    for (const message of list) {
      const text = stringifyAnyDepth(message);
      const size = new TextEncoder().encode(text).length + 1;
      if (bytes + size > max) flush();
      batch.push(text);
      bytes += size;
    }
    flush();
    return true;
  }

  #connect(): void {
    this.#clearTimers();
    this.#setStatus({ state: "connecting", transport: this.#transportName });
    let welcomed = false;
    let opened = false;
    const transport = this.#options.transport(this.#options.target, {
      onOpen: () => {
        if (this.#transport !== transport) return;
        opened = true;
        transport.send(JSON.stringify(this.#options.hello()));
        this.#clearWelcomeTimer();
        this.#welcomeTimer = this.#clock.setTimeout(() => {
          this.#welcomeTimer = null;
          this.#transport?.close(NO_WELCOME_CLOSE, "no welcome in time");
        }, this.#options.welcomeTimeoutMs ?? 10_000);
      },
      onMessage: (text) => {
        if (this.#transport !== transport) return;
        this.#alive();
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          return;
        }
        for (const raw of Array.isArray(json) ? json : [json]) {
          const item = parseServerMessage(raw);
          if (item === null) continue;
          if (item.type === "welcome") {
            welcomed = true;
            this.#clearWelcomeTimer();
            this.#attempt = 0;
            this.#moves = 0;
            this.#state = "live";
            this.#options.onMessage(item);
            this.#setStatus({ state: "live", transport: transport.name });
            this.#schedulePing();
            continue;
          }
          this.#options.onMessage(item);
        }
      },
      onClose: ({ code, reason }) => {
        if (this.#transport !== transport) return;
        this.#transport = null;
        this.#clearTimers();
        if (this.#stopped) return;
        if (!welcomed && opened && code === CloseCode.Policy && reason === UNKNOWN_MAP_OR_KEY) {
          this.#stopped = true;
          this.#setStatus({ state: "failed", transport: transport.name, reason: INVALID_LINK });
          return;
        }
        // The map moved to another relay: it is being opened there now, so come back at once
        // (jitter only, so its peers do not all arrive in the same millisecond).
        const moved = code === CloseCode.Moved && reason === MOVED_REASON &&
          this.#moves++ < MOVED_AT_ONCE;
        const delay = moved
          ? Math.round(this.#random() * MOVED_JITTER_MS)
          : backoffDelay(this.#attempt++, this.#random, this.#options.backoff);
        this.#setStatus({
          state: "offline",
          transport: transport.name,
          retryInMs: delay,
        });
        this.#retryTimer = this.#clock.setTimeout(() => {
          this.#retryTimer = null;
          this.#connect();
        }, delay);
      },
    });
    this.#transport = transport;
    this.#transportName = transport.name;
  }

  #setStatus(status: ConnectionStatus): void {
    this.#state = status.state;
    this.#options.onStatus(status);
  }

  // Any frame proves the link works; only silence after a ping means it is dead.
  #alive(): void {
    if (this.#deadTimer !== null) {
      this.#clock.clearTimeout(this.#deadTimer);
      this.#deadTimer = null;
    }
  }

  #schedulePing(): void {
    if (this.#pingTimer !== null) this.#clock.clearTimeout(this.#pingTimer);
    this.#pingTimer = this.#clock.setTimeout(() => {
      this.#pingTimer = null;
      if (!this.send({ type: "ping", t: Date.now() })) return;
      if (this.#deadTimer === null) {
        this.#deadTimer = this.#clock.setTimeout(() => {
          this.#deadTimer = null;
          this.#transport?.close(4001, "no answer to ping");
        }, this.#options.pongTimeoutMs ?? 10_000);
      }
      this.#schedulePing();
    }, this.#options.pingIntervalMs ?? 20_000);
  }

  #clearWelcomeTimer(): void {
    if (this.#welcomeTimer !== null) this.#clock.clearTimeout(this.#welcomeTimer);
    this.#welcomeTimer = null;
  }

  #clearTimers(): void {
    for (const id of [this.#retryTimer, this.#pingTimer, this.#deadTimer, this.#welcomeTimer]) {
      if (id !== null) this.#clock.clearTimeout(id);
    }
    this.#retryTimer =
      this.#pingTimer =
      this.#deadTimer =
      this.#welcomeTimer =
        null;
  }
}
