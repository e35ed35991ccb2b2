/** The upstream half of the HTTP fallback transport: one POST in flight, the rest batched. */

/** Options for {@link SendQueue}. */
export interface SendQueueOptions {
  /** Sends one frame (one POST); resolves when the relay took it, rejects when it did not. */
  post: (frame: string) => Promise<void>;
  /** A post failed; the queue stops and drops everything (the transport then closes). */
  onError: (error: unknown) => void;
  /**
   * Frames are merged into one array frame only up to this many characters, so a batch stays
   * below the relay's frame limit (`--max-frame-bytes`, 1 MiB by default). @default 262144
   */
  maxBatchChars?: number;
}

type QueueState = "paused" | "running" | "closed";

/**
 * Frames waiting to go up. Ordering over HTTP needs one request at a time (two POSTs in flight may
 * reach the relay in either order), so while one is in flight, later frames accumulate and leave
 * together as one JSON array frame, which the relay handles exactly as the frames one by one
 * (docs/PROTOCOL.md, section 2 "Frames"). It starts paused: nothing can be sent before the
 * session id is known.
 *
 * @example
 * ```ts
 * import { SendQueue } from "./send_queue.ts";
 * const sent: string[] = [];
 * const queue = new SendQueue({ post: async (f) => void sent.push(f), onError: console.error });
 * queue.push('{"type":"ping"}');
 * queue.push('{"type":"cursor","at":null}');
 * queue.start(); // sent: ['[{"type":"ping"},{"type":"cursor","at":null}]']
 * ```
 */
export class SendQueue {
  #options: SendQueueOptions;
  #maxBatchChars: number;
  #frames: string[] = [];
  #state: QueueState = "paused";
  #inFlight = false;

  constructor(options: SendQueueOptions) {
    this.#options = options;
    this.#maxBatchChars = options.maxBatchChars ?? 256 * 1024;
    if (!(this.#maxBatchChars >= 1)) {
      throw new RangeError(
        `Cannot create SendQueue as 'maxBatchChars' must be >= 1: received ${this.#maxBatchChars}`,
      );
    }
  }

  /** "paused" until {@link start}, "closed" after {@link close} or a failed post. */
  get state(): QueueState {
    return this.#state;
  }

  /** How many frames wait (not counting the one in flight). */
  get waiting(): number {
    return this.#frames.length;
  }

  /** Whether a post is in flight. */
  get busy(): boolean {
    return this.#inFlight;
  }

  /** Queues one frame (a JSON message or array); dropped once closed. */
  push(frame: string): void {
    if (this.#state === "closed") return;
    this.#frames.push(frame);
    this.#pump();
  }

  /** Starts sending (the session is known). */
  start(): void {
    if (this.#state !== "paused") return;
    this.#state = "running";
    this.#pump();
  }

  /** Drops what waits and sends nothing more; a post in flight still completes. */
  close(): void {
    this.#state = "closed";
    this.#frames = [];
  }

  #pump(): void {
    if (this.#state !== "running" || this.#inFlight || this.#frames.length === 0) return;
    const frame = this.#takeBatch();
    this.#inFlight = true;
    this.#options.post(frame).then(
      () => {
        this.#inFlight = false;
        this.#pump();
      },
      (error) => {
        this.#inFlight = false;
        if (this.#state === "closed") return;
        this.close();
        this.#options.onError(error);
      },
    );
  }

  /**
   * Takes the longest run of waiting frames that fits one batch, merged into one frame by joining
   * their text (no parsing: the frames are JSON the connection has just written).
   */
  #takeBatch(): string {
    if (this.#frames.length === 1) return this.#frames.shift()!;
    const items: string[] = [];
    let size = 2;
    for (const frame of this.#frames) {
      const inner = jsonItems(frame);
      if (inner === null) {
        // Not a JSON object or array: it goes alone, so the relay's answer concerns only it.
        if (items.length === 0) {
          this.#frames.shift();
          return frame;
        }
        break;
      }
      if (items.length > 0 && size + frame.length + 1 > this.#maxBatchChars) break;
      items.push(inner);
      size += frame.length + 1;
    }
    const batch = this.#frames.splice(0, items.length);
    return items.length === 1 ? batch[0] : `[${items.filter((t) => t !== "").join(",")}]`;
  }
}

/** A frame's messages as comma-joined JSON text: an object as it is, an array's inside. */
function jsonItems(frame: string): string | null {
  const text = frame.trim();
  if (text.startsWith("{") && text.endsWith("}")) return text;
  if (text.startsWith("[") && text.endsWith("]")) return text.slice(1, -1).trim();
  return null;
}
