/** Caps WebSocket connections that have not said hello yet, per client address and in total. */

/**
 * Why: Deno reads each WebSocket message whole (up to its fixed 64 MiB) before the relay sees any
 * of it, so a connection costs up to ~150 MiB (the read buffer plus the string handed to
 * JavaScript) before its first frame can be refused, and until `hello` nothing is known about who
 * holds it. The number of such connections, not their size, is what the relay can bound.
 */

/** Options for {@link Admission}. */
export interface AdmissionOptions {
  /** Connections that have not said hello, from all addresses. */
  maxPending: number;
  /** Connections that have not said hello, from one client address. */
  maxPendingPerAddr: number;
}

/** A held place; release it when the connection says hello or closes (idempotent). */
export interface AdmissionSlot {
  /** Gives the place back (at hello or close); idempotent. */
  release(): void;
}

/** The answer to {@link Admission.admit}. */
export type AdmissionResult =
  | { ok: true; slot: AdmissionSlot }
  | { ok: false; status: 429 | 503; message: string };

/**
 * Counts pending (not yet hello'd) connections and refuses one over either cap.
 *
 * @example
 * ```ts
 * import { Admission } from "./admission.ts";
 * const admission = new Admission({ maxPending: 64, maxPendingPerAddr: 8 });
 * const admitted = admission.admit("192.0.2.7");
 * if (admitted.ok) admitted.slot.release();
 * ```
 */
export class Admission {
  readonly #maxPending: number;
  readonly #maxPerAddr: number;
  readonly #byAddr = new Map<string, number>();
  #total = 0;

  /** Takes the global and per-address limits. */
  constructor(options: AdmissionOptions) {
    for (const key of ["maxPending", "maxPendingPerAddr"] as const) {
      const value = options[key];
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(
          `Cannot create Admission as '${key}' must be an integer >= 1: received ${value}`,
        );
      }
    }
    this.#maxPending = options.maxPending;
    this.#maxPerAddr = options.maxPendingPerAddr;
  }

  /** Connections holding a slot now. */
  get pending(): number {
    return this.#total;
  }

  /** Takes a slot for a new connection from `addr`, or says why not. */
  admit(addr: string): AdmissionResult {
    const held = this.#byAddr.get(addr) ?? 0;
    if (held >= this.#maxPerAddr) {
      return {
        ok: false,
        status: 429,
        message: `too many connections from your address have not sent hello yet ` +
          `(at most ${this.#maxPerAddr}); try again shortly`,
      };
    }
    if (this.#total >= this.#maxPending) {
      return {
        ok: false,
        status: 503,
        message: "too many connections are starting at once; try again shortly",
      };
    }
    this.#byAddr.set(addr, held + 1);
    this.#total++;
    let released = false;
    return {
      ok: true,
      slot: {
        release: () => {
          if (released) return;
          released = true;
          this.#total--;
          const left = (this.#byAddr.get(addr) ?? 1) - 1;
          if (left > 0) this.#byAddr.set(addr, left);
          else this.#byAddr.delete(addr);
        },
      },
    };
  }
}
