/** What operators and their monitoring read: `/healthz` and `/metrics`. */
import type { Hono } from "hono";
import type { Env, RouteContext } from "./common.ts";

/** Adds `/healthz` (503 while shutting down) and `/metrics` (Prometheus text). */
export function opsRoutes(app: Hono<Env>, { hub, options }: RouteContext): void {
  app.get(
    "/healthz",
    (c) =>
      c.json(
        { status: hub.closing ? "stopping" : "ok", version: options.version, ...hub.stats() },
        hub.closing ? 503 : 200,
      ),
  );

  app.get("/metrics", (c) =>
    c.body(hub.metrics.render(hub.stats()), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    }));
}
