/** PostgreSQL URLs (recognised, redacted for logs) and telling a lost connection from a refusal. */
import { StoreUnreachableError } from "./map_store.ts";

/** Does `url` name a PostgreSQL database (rather than a SQLite directory)? */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** `url` without its password, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres://…";
  }
}

/**
 * SQLSTATE classes and client codes that mean "the server is not there now", not "no": a lost
 * link, a restart, too many clients, and a login refused (class 28: a rotated password, a role
 * barred by the operator), which says nothing about any map's data.
 */
const UNREACHABLE =
  /^(08|28|57P0[1-3]$|53300$|CONNECTION_|CONNECT_TIMEOUT$|ECONN|EPIPE$|ETIMEDOUT$|EHOSTUNREACH$)/;

/** Is `err` a lost or refused connection (the server restarting, a cut link, too many clients)? */
export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && UNREACHABLE.test(code);
}

/** `work`, with a lost connection turned into {@link StoreUnreachableError}; other errors as they are. */
export async function reachable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (!isUnreachable(err)) throw err;
    throw new StoreUnreachableError(
      `PostgreSQL is unreachable: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}
