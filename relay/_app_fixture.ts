/** Test fixture: the Hono app on a fresh hub and in-memory store; disposing closes both. */
import { createApp } from "./app.ts";
import type { AppOptions } from "./app.ts";
import { Hub } from "./hub.ts";
import type { HubOptions } from "./hub.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { Store } from "./store.ts";

/**
 * An app for in-process `app.request(...)` tests; use with `await using`. `hubOptions` are the
 * hub's extra options (fake timers, say).
 */
export function appFixture(
  options: Partial<AppOptions> = {},
  hubOptions: Partial<HubOptions> = {},
) {
  const store = new Store({ path: ":memory:" });
  const hub = new Hub({ store, limits: { ...DEFAULT_LIMITS }, ...hubOptions });
  const app = createApp({
    hub,
    origins: [],
    trustProxy: [],
    tiles: null,
    tilesAttribution: null,
    version: "9.9.9-test",
    ...options,
  });
  return {
    app,
    hub,
    async [Symbol.asyncDispose]() {
      await hub.close();
      store.close();
    },
  };
}
