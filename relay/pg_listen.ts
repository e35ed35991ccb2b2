/** A LISTEN on its own PostgreSQL connection that is listened again after the connection drops. */
import postgres from "postgres";
import type { Options, Sql } from "postgres";

/**
 * Listens on one channel over a dedicated connection. npm:postgres's own `sql.listen` gives up
 * for good when its first reconnect fails (a database restarting), so this one notices the drop
 * (`onclose`) and listens again whenever {@link PgListener.ensure} is called (the lease loop does,
 * every renewal) until it succeeds. Notifications sent while it was not listening are lost: the
 * senders repeat theirs.
 */
export class PgListener {
  #sql: Sql;
  #channel: string;
  #listening = false;
  #trying: Promise<void> | null = null;
  #closed = false;

  /** Connects lazily; call {@link ensure} to start listening. */
  constructor(url: string, channel: string, onNotify: (payload: string) => void) {
    this.#channel = channel;
    const options: Options<Record<string, never>> = {
      max: 1,
      idle_timeout: 0,
      max_lifetime: null,
      connect_timeout: 5,
      fetch_types: false,
      onnotice: () => {},
      onclose: () => {
        this.#listening = false;
      },
    };
    // `onnotify` is an option of npm:postgres's connection that its types leave out.
    const withNotify = Object.assign(options, {
      onnotify: (name: string, payload: string) => {
        if (name === this.#channel) onNotify(payload);
      },
    });
    this.#sql = postgres(url, withNotify);
  }

  /** Is the LISTEN in place on a live connection? */
  get listening(): boolean {
    return this.#listening;
  }

  /** Listens (again) unless it is listening; one attempt at a time; never rejects. */
  ensure(): Promise<void> {
    if (this.#listening || this.#closed) return Promise.resolve();
    this.#trying ??= this.#sql.unsafe(`LISTEN "${this.#channel.replaceAll('"', '""')}"`)
      .then(() => {
        this.#listening = !this.#closed;
      }, () => {})
      .finally(() => {
        this.#trying = null;
      });
    return this.#trying;
  }

  /** Stops listening and closes its connection. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listening = false;
    await this.#sql.end({ timeout: 1 }).catch(() => {});
  }
}
