/** One task on a worker thread of its own (imports, exports), done here when the worker cannot run. */

/**
 * Posts `request` to a new worker running `module`, resolves with its one answer and ends the
 * worker. A worker that cannot start (a binary compiled without it) or dies has the task done by
 * `fallback` on this thread instead, rather than refusing good work; that is logged as `failed`.
 *
 * @example
 * ```ts
 * import { onWorker } from "./worker_task.ts";
 * const answer = await onWorker(new URL("./export_worker.ts", import.meta.url), request, answerExport, "export_worker_failed");
 * ```
 */
export async function onWorker<Request, Answer>(
  module: URL,
  request: Request,
  fallback: (request: Request) => Answer | Promise<Answer>,
  failed: string,
): Promise<Answer> {
  const worker = new Worker(module.href, { type: "module" });
  try {
    return await new Promise<Answer>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<Answer>) => resolve(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        console.error(JSON.stringify({ event: failed, error: event.message }));
        Promise.resolve(request).then(fallback).then(resolve, reject);
      };
      // Copied, not transferred (a memcpy), so the request is still here if the worker fails.
      worker.postMessage(request);
    });
  } finally {
    worker.terminate();
  }
}

/** Refused by {@link TaskSlots.run}: every slot is taken and the queue is full. */
export class SlotsFullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SlotsFullError";
  }
}

/**
 * At most `running` tasks at once, and at most `waiting` more queued in order; past that a task
 * is refused with {@link SlotsFullError}, so a burst of requests cannot start a thread each, nor
 * pile up what they hold.
 *
 * @example
 * ```ts
 * import { TaskSlots } from "./worker_task.ts";
 * const slots = new TaskSlots({ running: 2, waiting: 8, what: "rebuilds" });
 * await slots.run(() => Promise.resolve(1)); // 1
 * ```
 */
export class TaskSlots {
  #running = 0;
  #queue: (() => void)[] = [];
  #max: number;
  #maxWaiting: number;
  #what: string;

  /** `what` names the tasks in the refusal's message. */
  constructor(options: { running: number; waiting: number; what: string }) {
    const { running, waiting } = options;
    if (
      !(Number.isSafeInteger(running) && running >= 1 && Number.isSafeInteger(waiting) &&
        waiting >= 0)
    ) {
      throw new RangeError(
        `Cannot create TaskSlots as 'running' must be >= 1 and 'waiting' >= 0: received ${running}, ${waiting}`,
      );
    }
    this.#max = running;
    this.#maxWaiting = waiting;
    this.#what = options.what;
  }

  /** Tasks running now. */
  get running(): number {
    return this.#running;
  }

  /** Runs `task` once a slot is free (in the order asked), or rejects at once when full. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#max) {
      if (this.#queue.length >= this.#maxWaiting) {
        throw new SlotsFullError(`too many ${this.#what} at once; try again`);
      }
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else this.#running++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line, or is freed.
      const next = this.#queue.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
