/** What operators and their monitoring read: `/healthz` and `/metrics`. */
import type { Hono } from "hono";
import type { Env, RouteContext } from "./common.ts";

/**
 * Adds `/healthz` (503 while shutting down, or "fenced" while the relay cannot renew its map
 * leases) and `/metrics` (Prometheus text).
 */
export function opsRoutes(app: Hono<Env>, { hub, options }: RouteContext): void {
  app.get("/healthz", (c) => {
    const status = hub.closing ? "stopping" : hub.fenced ? "fenced" : "ok";
    return c.json(
      { status, version: options.version, ...hub.stats() },
      status === "ok" ? 200 : 503,
    );
  });

  app.get("/metrics", (c) =>
    c.body(
      hub.metrics.render({ ...hub.stats(), ...hub.presenceLoad(), memory: Deno.memoryUsage() }),
      200,
      {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
      },
    ));
}
