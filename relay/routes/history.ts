/** The history API: `GET /api/maps/:id/history`, `GET`/`POST /api/maps/:id/versions`. */
import type { Hono } from "hono";
import { readText } from "../body.ts";
import { originCheck, problem, requestKey } from "./common.ts";
import type { Env, RouteContext } from "./common.ts";
import { REFUSAL_STATUS, seqParam } from "./maps.ts";

/** Entries a history page holds unless `limit` says otherwise. */
export const DEFAULT_HISTORY_LIMIT = 50;
/** Entries a history page holds at most. */
export const MAX_HISTORY_LIMIT = 500;
const MAX_VERSION_NAME = 200;
const MAX_AUTHOR = 64;
const MAX_VERSION_BODY = 4096;

/** Adds the history and named-version routes. */
export function historyRoutes(app: Hono<Env>, ctx: RouteContext): void {
  const { hub, options } = ctx;
  const origin = originCheck(options.origins);

  app.get("/api/maps/:id/history", async (c) => {
    const beforeText = c.req.query("before");
    const limitText = c.req.query("limit");
    const fid = c.req.query("fid");
    const before = beforeText === undefined ? undefined : seqParam(beforeText);
    if (before === null) return problem(c, 400, "before must be a seq: a whole number >= 0");
    const limit = limitText === undefined ? DEFAULT_HISTORY_LIMIT : seqParam(limitText);
    if (limit === null || limit < 1 || limit > MAX_HISTORY_LIMIT) {
      return problem(c, 400, `limit must be a whole number from 1 to ${MAX_HISTORY_LIMIT}`);
    }
    if (fid !== undefined && (fid === "" || fid.length > 1024)) {
      return problem(c, 400, "fid must be a feature id of 1 to 1024 characters");
    }
    const result = await hub.history.page(c.req.param("id"), requestKey(c), {
      before,
      limit,
      fid,
    });
    if (!result.ok) return problem(c, REFUSAL_STATUS[result.reason], result.message);
    return c.json(result.value, 200, { "cache-control": "no-store" });
  });

  app.get("/api/maps/:id/versions", async (c) => {
    const result = await hub.history.versions(c.req.param("id"), requestKey(c));
    if (!result.ok) return problem(c, REFUSAL_STATUS[result.reason], result.message);
    return c.json(result.value, 200, { "cache-control": "no-store" });
  });

  app.post("/api/maps/:id/versions", origin, async (c) => {
    const text = await readText(c.req.raw, {
      maxBytes: MAX_VERSION_BODY,
      timeoutMs: hub.limits.bodyTimeoutMs,
    });
    const body = parseVersion(text);
    if (typeof body === "string") return problem(c, 400, body);
    const result = await hub.history.addVersion(c.req.param("id"), requestKey(c), body);
    if (!result.ok) return problem(c, REFUSAL_STATUS[result.reason], result.message);
    return c.json(result.value, 201);
  });
}

/** A version request from a body, or what is wrong with it. */
function parseVersion(text: string): { name: string; author: string; seq?: number } | string {
  const usage =
    'body must be a JSON object like {"name": "Before the field trip", "author": "Ann"}';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `${usage}: it is not valid JSON`;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return usage;
  const { name, author, seq } = body as Record<string, unknown>;
  if (typeof name !== "string" || name.trim() === "" || name.trim().length > MAX_VERSION_NAME) {
    return `name must be a string of 1 to ${MAX_VERSION_NAME} characters`;
  }
  if (author !== undefined && (typeof author !== "string" || author.trim().length > MAX_AUTHOR)) {
    return `author must be a string of at most ${MAX_AUTHOR} characters`;
  }
  if (seq !== undefined && (!Number.isSafeInteger(seq) || (seq as number) < 0)) {
    return "seq must be a whole number >= 0";
  }
  return {
    name: name.trim(),
    author: typeof author === "string" && author.trim() !== "" ? author.trim() : "Someone",
    ...(seq === undefined ? {} : { seq: seq as number }),
  };
}
