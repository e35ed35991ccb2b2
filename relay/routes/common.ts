/** What the route groups share: the context they are built with, problem responses, the Origin rule. */
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppOptions } from "../app.ts";
import type { Hub } from "../hub.ts";

/** What Deno.serve passes as the second argument, which Hono exposes as `c.env`. */
export type Env = { Bindings: { remoteAddr?: { hostname: string } } };

/** What every route group is built with. */
export interface RouteContext {
  /** The hub the routes act on. */
  hub: Hub;
  /** The app's options. */
  options: AppOptions;
  /** The client's address (through a trusted proxy's `X-Forwarded-For`). */
  addrOf(c: Context<Env>): string;
}

/**
 * The WebSocket's Origin rule as middleware, for state-changing routes: a foreign page cannot
 * use a visitor's browser (a text/plain POST needs no preflight); non-browsers send no Origin.
 */
export function originCheck(origins: readonly string[]): MiddlewareHandler<Env> {
  return async (c, next) => {
    const origin = c.req.header("origin");
    if (origin !== undefined && !originAllowed(origin, c.req.header("host"), origins)) {
      throw new HTTPException(403, { message: `origin ${origin} is not allowed to connect` });
    }
    await next();
  };
}

/** The key from `?key=` (the contract) or `Authorization: Bearer` (keeps it out of access logs). */
export function requestKey(c: Context): string {
  const auth = c.req.header("authorization");
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim();
  return c.req.query("key") ?? "";
}

/** An RFC 9457 problem response. */
export function problem(
  c: Context,
  status: number,
  detail: string,
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): Response {
  return c.body(
    JSON.stringify({ type: "about:blank", title: statusTitle(status), status, detail, ...extra }),
    status as ContentfulStatusCode,
    { "content-type": "application/problem+json", ...headers },
  );
}

function statusTitle(status: number): string {
  const titles: Record<number, string> = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    413: "Content Too Large",
    422: "Unprocessable Content",
    426: "Upgrade Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
  };
  return titles[status] ?? "Error";
}

function originAllowed(
  origin: string,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (allowed.length > 0) return allowed.includes(origin);
  if (!URL.canParse(origin) || host === undefined) return false;
  return new URL(origin).host === host;
}
