/** Structured logging: one JSON object per line, never keys or frame contents. */

/** Where log lines go; `main.ts` writes them to stdout, tests may collect them. */
export interface Logger {
  /** Writes one event with its fields. */
  log(event: string, fields?: Record<string, unknown>): void;
}

/** A logger writing one JSON line per event to a writer, with an injected clock. */
export function jsonLogger(
  write: (line: string) => void,
  now: () => number = Date.now,
): Logger {
  return {
    log(event, fields = {}) {
      write(JSON.stringify({ time: new Date(now()).toISOString(), event, ...fields }));
    },
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = { log() {} };
