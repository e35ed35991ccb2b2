/** Basemap files over HTTP: tiles by z/x/y, whole PMTiles archives with Range, and `/api/basemaps`. */
import type { Context, Hono } from "hono";
import type { AppOptions } from "../app.ts";
import type { ArchiveAccess, BasemapInfo } from "../basemaps/basemap_file.ts";
import { BasemapRegistry } from "../basemaps/registry.ts";
import { CONTENT_TYPES } from "../basemaps/basemap_file.ts";
import { noneMatch, rangeOf } from "../basemaps/range.ts";
import { problem } from "./common.ts";
import type { Env, RouteContext } from "./common.ts";

/** Tiles and archives do not change while the relay runs (a new file needs a restart). */
const CACHE_CONTROL = "public, max-age=86400";
/** Larger answers are streamed in chunks of this size instead of read whole into memory. */
const CHUNK = 256 * 1024;

/** Adds `/basemaps/NAME/{z}/{x}/{y}.EXT`, `/basemaps/NAME.pmtiles` and `/api/basemaps`. */
export function basemapRoutes(app: Hono<Env>, { options }: RouteContext): void {
  const registry = options.basemaps ?? new BasemapRegistry();
  app.get("/api/basemaps", (c) => c.json({ basemaps: basemapList(options) }));

  app.get("/basemaps/:name/:z{[0-9]+}/:x{[0-9]+}/:file{[0-9]+\\.[a-z]+}", async (c) => {
    const name = c.req.param("name");
    const file = registry.get(name);
    if (!file) return notFound(c, `no basemap named ${JSON.stringify(name)}`);
    const [yText, ext] = c.req.param("file").split(".");
    if (ext !== file.format) {
      return notFound(c, `the tiles of ${name} are .${file.format}, not .${ext}`);
    }
    const z = Number(c.req.param("z"));
    const x = Number(c.req.param("x"));
    const y = Number(yText);
    if (z > 30 || x >= 2 ** z || y >= 2 ** z) {
      return notFound(c, `${z}/${x}/${y} is not a tile (x and y must be below 2^z)`);
    }
    const tile = await file.tile(z, x, y);
    if (!tile) return notFound(c, `${name} has no tile ${z}/${x}/${y}`);
    const headers: Record<string, string> = {
      "content-type": CONTENT_TYPES[file.format],
      "cache-control": CACHE_CONTROL,
      etag: tile.etag,
    };
    if (tile.encoding) headers["content-encoding"] = tile.encoding;
    if (noneMatch(c.req.header("if-none-match"), tile.etag)) {
      return new Response(null, { status: 304, headers: withoutType(headers) });
    }
    if (c.req.method === "HEAD") {
      return new Response(null, {
        headers: { ...headers, "content-length": String(tile.data.length) },
      });
    }
    return new Response(tile.data, { headers });
  });

  app.get("/basemaps/:file{[a-z0-9][a-z0-9_-]*\\.pmtiles}", async (c) => {
    const name = c.req.param("file").slice(0, -".pmtiles".length);
    const archive = registry.get(name)?.archive;
    if (!archive) return notFound(c, `no PMTiles basemap named ${JSON.stringify(name)}`);
    return await serveArchive(c, archive);
  });
}

/** Every basemap a person may pick, in the contract's order (`/api/basemaps`, `/api/config`). */
export function basemapList(options: AppOptions): BasemapInfo[] {
  return (options.basemaps ?? new BasemapRegistry()).list(options.tileSources ?? []);
}

function notFound(c: Context, detail: string): Response {
  return problem(c, 404, detail || "not found", { "cache-control": "no-cache" });
}

function withoutType(headers: Record<string, string>): Record<string, string> {
  const { "content-type": _type, "content-encoding": _encoding, ...rest } = headers;
  return rest;
}

/** The whole file, or the one range asked for, with the validators a cache or reader needs. */
async function serveArchive(c: Context, archive: ArchiveAccess): Promise<Response> {
  const headers: Record<string, string> = {
    "content-type": "application/octet-stream",
    "cache-control": CACHE_CONTROL,
    "accept-ranges": "bytes",
    etag: archive.etag,
  };
  if (archive.lastModified) headers["last-modified"] = archive.lastModified.toUTCString();
  if (noneMatch(c.req.header("if-none-match"), archive.etag)) {
    return new Response(null, { status: 304, headers: withoutType(headers) });
  }
  const answer = rangeOf(
    { range: c.req.header("range"), ifRange: c.req.header("if-range") },
    archive.size,
    archive,
  );
  if (answer.kind === "unsatisfiable") {
    return problem(c, 416, `cannot serve that range: ${answer.reason}`, {
      "content-range": `bytes */${archive.size}`,
      "accept-ranges": "bytes",
    });
  }
  const [start, end] = answer.kind === "partial"
    ? [answer.start, answer.end]
    : [0, archive.size - 1];
  const length = end - start + 1;
  const status = answer.kind === "partial" ? 206 : 200;
  if (status === 206) headers["content-range"] = `bytes ${start}-${end}/${archive.size}`;
  headers["content-length"] = String(length);
  if (c.req.method === "HEAD") return new Response(null, { status, headers });
  if (length <= CHUNK) {
    return new Response(await archive.read(start, length), { status, headers });
  }
  let at = start;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const bytes = await archive.read(at, Math.min(CHUNK, end + 1 - at));
      if (bytes.length === 0) {
        controller.error(new Error("the archive is shorter than when it was opened"));
        return;
      }
      controller.enqueue(bytes);
      at += bytes.length;
      if (at > end) controller.close();
    },
  }, { highWaterMark: 0 });
  return new Response(body, { status, headers });
}
