/** History retention (`--history-days`): prunes old edits in bounded steps from the hub's sweep. */
import type { Journal } from "./journal.ts";
import type { Logger } from "./log.ts";

/** Journal rows one step deletes at most, so the edits committed behind it wait little. */
export const RETENTION_BUDGET = 5000;
/** How often history is pruned once a pass has caught up. */
export const RETENTION_EVERY_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Options for {@link Retention}. */
export interface RetentionOptions {
  /** Days of history kept; 0 keeps all. */
  days: number;
  /** Where the pruning runs (on the journal's worker when there is one). */
  journal: Journal;
  /** Milliseconds clock (the relay's, which stamps the edits). */
  now: () => number;
  /** Where each step that pruned something is logged. */
  logger: Logger;
  /** Rows one step deletes at most. @default RETENTION_BUDGET */
  budget?: number;
}

/**
 * Prunes history older than `days` when the hub's sweep calls {@link Retention.tick}: one step at
 * a time, the next one at the next sweep while there is more, else after {@link RETENTION_EVERY_MS}.
 */
export class Retention {
  #o: RetentionOptions;
  #budget: number;
  #nextAt = 0;
  #running = false;

  /** A retention policy; nothing runs before the first {@link Retention.tick}. */
  constructor(options: RetentionOptions) {
    if (!Number.isSafeInteger(options.days) || options.days < 0) {
      throw new RangeError(
        `Cannot create Retention as 'days' must be a whole number >= 0: received ${options.days}`,
      );
    }
    this.#o = options;
    this.#budget = options.budget ?? RETENTION_BUDGET;
  }

  /** Starts a pruning step when one is due; resolves when it is done (tests await it). */
  async tick(): Promise<void> {
    const { days, journal, now, logger } = this.#o;
    if (days === 0 || this.#running || now() < this.#nextAt) return;
    this.#running = true;
    const cutoff = now() - days * DAY_MS;
    try {
      const pruned = await journal.pruneHistory(cutoff, this.#budget);
      if (pruned > 0) logger.log("history_pruned", { edits: pruned, before: cutoff });
      this.#nextAt = pruned >= this.#budget ? 0 : now() + RETENTION_EVERY_MS;
    } catch (err) {
      logger.log("history_prune_failed", { error: String(err) });
      this.#nextAt = now() + RETENTION_EVERY_MS;
    } finally {
      this.#running = false;
    }
  }
}
