/** The maps API: create a map, read its features, replace them with an import. */
import type { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { AddressBuckets } from "../address_limits.ts";
import { readBody, readText, refuseUnread } from "../body.ts";
import type { Refusal } from "../map_registry.ts";
import { FILE_FORMATS } from "../formats/records.ts";
import type { FileFormat } from "../formats/records.ts";
import { Imports } from "../imports.ts";
import { Exports } from "../exports.ts";
import { isTrustedProxy } from "../proxy.ts";
import { shareOrigin } from "../share_links.ts";
import { exportResponse } from "./export.ts";
import { originCheck, problem, requestKey } from "./common.ts";
import type { Env, RouteContext } from "./common.ts";

/** The HTTP status of each way the hub says no. */
export const REFUSAL_STATUS: Record<Refusal, number> = {
  not_found: 404,
  forbidden: 403,
  invalid: 422,
  unavailable: 500,
  capacity: 503,
  not_saved: 503,
  bad_request: 400,
  gone: 410,
  retry: 503,
  not_implemented: 501,
};

const MAX_TITLE = 200;
/** `POST /api/maps` bodies hold a title and nothing else. */
const MAX_CREATE_BYTES = 4096;

/** Adds `POST /api/maps` and `GET`/`PUT /api/maps/:id/features`; the changing ones check Origin. */
export function mapRoutes(app: Hono<Env>, ctx: RouteContext): void {
  const { hub, options, addrOf } = ctx;
  const limits = hub.limits;
  const bodyTimeoutMs = limits.bodyTimeoutMs;
  const creates = new AddressBuckets({
    rate: limits.createRate / 60,
    burst: limits.createBurst,
    now: hub.timers.now,
  });
  const imports = new Imports({ maxConcurrent: 4 });
  const exports = new Exports(4);
  const origin = originCheck(options.origins);

  app.post("/api/maps", origin, async (c) => {
    if (!creates.take(addrOf(c))) {
      const wait = creates.retryAfterSeconds;
      return refuseUnread(
        c.req.raw,
        problem(c, 429, `too many maps created from your address; try again in ${wait} s`, {
          "retry-after": String(wait),
        }),
        bodyTimeoutMs,
      );
    }
    const text = await readText(c.req.raw, {
      maxBytes: MAX_CREATE_BYTES,
      timeoutMs: bodyTimeoutMs,
    });
    let title = "Untitled map";
    if (text.trim() !== "") {
      const body = parseJson(text);
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new HTTPException(400, {
          message: 'body must be a JSON object like {"title": "..."}',
        });
      }
      if ("title" in body && body.title !== undefined) {
        if (typeof body.title !== "string" || body.title.trim().length > MAX_TITLE) {
          throw new HTTPException(400, {
            message: `title must be a string of at most ${MAX_TITLE} characters`,
          });
        }
        if (body.title.trim() !== "") title = body.title.trim();
      }
    }
    const { id, editKey, viewKey } = await hub.api.createMap(title);
    const forwarded = c.req.header("x-forwarded-proto");
    const base = shareOrigin({
      publicUrl: options.publicUrl ?? null,
      origins: options.origins,
      host: c.req.header("host"),
      // Behind a trusted proxy, its X-Forwarded-Proto says whether users came over https.
      protocol: isTrustedProxy(c.env?.remoteAddr?.hostname, options.trustProxy) &&
          (forwarded === "https" || forwarded === "http")
        ? `${forwarded}:`
        : new URL(c.req.url).protocol,
      listen: options.listen?.(),
    });
    return c.json({
      id,
      title,
      editKey,
      viewKey,
      editUrl: `${base}/m/${id}#key=${editKey}`,
      viewUrl: `${base}/m/${id}#key=${viewKey}`,
    }, 201);
  });

  app.get("/api/maps/:id/features", async (c) => {
    const format = c.req.query("format");
    const atText = c.req.query("at");
    if (atText !== undefined) {
      const at = seqParam(atText);
      if (at === null) return problem(c, 400, "at must be a seq: a whole number >= 0");
      const read = () => hub.history.featuresAt(c.req.param("id"), requestKey(c), at);
      if (format !== undefined) {
        const res = await exportResponse(c, hub.api, exports, format, read);
        if (res.ok) res.headers.set("x-seq", String(at));
        return res;
      }
      const result = await read();
      if (!result.ok) return problem(c, REFUSAL_STATUS[result.reason], result.message);
      return c.body(`{"type":"FeatureCollection","features":${result.value.featuresJson}}`, 200, {
        "content-type": "application/geo+json",
        "cache-control": "no-store",
        "x-seq": String(at),
      });
    }
    if (format !== undefined) return await exportResponse(c, hub.api, exports, format);
    const result = await hub.api.readFeatures(c.req.param("id"), requestKey(c));
    if (!result.ok) return problem(c, REFUSAL_STATUS[result.reason], result.message);
    return c.body(result.value, 200, {
      "content-type": "application/geo+json",
      "cache-control": "no-store",
    });
  });

  app.put("/api/maps/:id/features", origin, async (c) => {
    const mapId = c.req.param("id");
    const key = requestKey(c);
    // Map and key first: nobody without the edit key gets the relay to read a big body.
    const auth = await hub.api.authoriseEdit(mapId, key);
    if (!auth.ok) {
      return refuseUnread(
        c.req.raw,
        problem(c, REFUSAL_STATUS[auth.reason], auth.message),
        bodyTimeoutMs,
      );
    }
    const format = c.req.query("format");
    if (format !== undefined && !(FILE_FORMATS as readonly string[]).includes(format)) {
      const res = problem(c, 400, `format must be one of ${FILE_FORMATS.join(", ")}`);
      return refuseUnread(c.req.raw, res, bodyTimeoutMs);
    }
    const slot = imports.begin(mapId, addrOf(c));
    if (!slot.ok) {
      const why = {
        map: "an import into this map is already running",
        addr: "an import from your address is already running",
        relay: "the server is busy with other imports",
      }[slot.reason];
      const res = problem(c, slot.reason === "relay" ? 503 : 429, `${why}; try again shortly`, {
        "retry-after": "2",
      });
      return refuseUnread(c.req.raw, res, bodyTimeoutMs);
    }
    try {
      const bytes = await readBody(c.req.raw, {
        maxBytes: limits.maxImportBytes,
        timeoutMs: bodyTimeoutMs,
      });
      const parsed = await imports.parse(bytes, limits, {
        format: format as FileFormat | undefined,
        contentType: c.req.header("content-type"),
        // A zip's unpacked entries count like a body: up to four times the largest one.
        maxUnzippedBytes: 4 * limits.maxImportBytes,
      });
      if (!parsed.ok) return problem(c, parsed.status, parsed.message);
      const result = await hub.api.importFeatures(mapId, key, parsed);
      if (!result.ok) {
        const extra = result.skipped ? { skipped: result.skipped } : {};
        return problem(c, REFUSAL_STATUS[result.reason], result.message, {}, extra);
      }
      return c.json(result.value);
    } finally {
      slot.release();
    }
  });
}

/** A seq from a query parameter (a whole number >= 0), or `null`. */
export function seqParam(text: string): number | null {
  return /^\d{1,15}$/.test(text) ? Number(text) : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HTTPException(400, { message: "body is not valid JSON" });
  }
}
