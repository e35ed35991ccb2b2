/** Which address a request really came from, believing `X-Forwarded-For` only from trusted proxies. */

/** Strips the IPv4-mapped IPv6 prefix so `::ffff:127.0.0.1` and `127.0.0.1` compare equal. */
export function normaliseAddress(addr: string): string {
  const trimmed = addr.trim().replace(/^\[|\]$/g, "");
  return trimmed.toLowerCase().startsWith("::ffff:") && trimmed.includes(".")
    ? trimmed.slice(7)
    : trimmed;
}

/** Is the direct peer `direct` one of the `trusted` proxies (whose forwarding headers count)? */
export function isTrustedProxy(direct: string | undefined, trusted: readonly string[]): boolean {
  if (!direct) return false;
  const peer = normaliseAddress(direct);
  return trusted.some((t) => normaliseAddress(t) === peer);
}

/**
 * The client's address. When the direct peer is a trusted proxy, walk `X-Forwarded-For` from the
 * right (each proxy appends) and take the first address that is not itself a trusted proxy.
 *
 * @example
 * ```ts
 * import { clientAddress } from "./proxy.ts";
 * clientAddress("127.0.0.1", "203.0.113.9", ["127.0.0.1"]); // "203.0.113.9"
 * ```
 */
export function clientAddress(
  direct: string | undefined,
  forwardedFor: string | undefined,
  trusted: readonly string[],
): string {
  const peer = direct ? normaliseAddress(direct) : "unknown";
  if (!forwardedFor || !isTrustedProxy(direct, trusted)) return peer;
  const trust = new Set(trusted.map(normaliseAddress));
  const hops = forwardedFor.split(",").map(normaliseAddress).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!trust.has(hops[i])) return hops[i];
  }
  return hops[0] ?? peer;
}
