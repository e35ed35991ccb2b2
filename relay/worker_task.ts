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
