/** The origin of the share links `POST /api/maps` answers: configured, never an arbitrary `Host`. */

/** What {@link shareOrigin} decides from. */
export interface ShareOriginInput {
  /** `--public-url`, if set. */
  publicUrl: string | null;
  /** `--origin` allow-list. */
  origins: readonly string[];
  /** The request's `Host` header: anyone can send any. */
  host: string | undefined;
  /** `http:` or `https:` (a trusted proxy's `X-Forwarded-Proto`, or the request's own). */
  protocol: string;
  /** The address the server listens on, once known. */
  listen: { hostname: string; port: number } | undefined;
}

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * `publicUrl`, else the first allowed origin, else this server as the request named it, but only
 * when `Host` names this server itself (a loopback name or the listen address, with the listen
 * port), else the listen address. A `Host: phish.example` never reaches a link.
 *
 * @example
 * ```ts
 * import { shareOrigin } from "./share_links.ts";
 * shareOrigin({
 *   publicUrl: null,
 *   origins: [],
 *   host: "phish.example",
 *   protocol: "http:",
 *   listen: { hostname: "127.0.0.1", port: 8080 },
 * }); // "http://127.0.0.1:8080"
 * ```
 */
export function shareOrigin(input: ShareOriginInput): string {
  if (input.publicUrl) return input.publicUrl;
  if (input.origins.length > 0) return input.origins[0];
  const { listen, protocol } = input;
  const named = URL.canParse(`http://${input.host ?? ""}`) ? new URL(`http://${input.host}`) : null;
  const listenName = listen?.hostname.includes(":") ? `[${listen.hostname}]` : listen?.hostname;
  if (
    named && named.username === "" && named.pathname === "/" &&
    (LOOPBACK_NAMES.has(named.hostname) || named.hostname === listenName) &&
    (listen === undefined || Number(named.port || 80) === listen.port)
  ) {
    return `${protocol}//${named.host}`;
  }
  if (!listen) return `${protocol}//localhost`;
  const wildcard = listenName === "0.0.0.0" || listenName === "[::]";
  return `${protocol}//${wildcard ? "localhost" : listenName}:${listen.port}`;
}
