/** The transport policy of the map page: WebSocket first, the HTTP fallback when upgrades are stripped. */
import { HTTP_TRANSPORT_NAME, httpTransport } from "./http_transport.ts";
import { CloseCode } from "../../relay/protocol.ts";
import {
  type Transport,
  type TransportFactory,
  type TransportTarget,
  UNKNOWN_MAP_OR_KEY,
  websocketTransport,
} from "./transport.ts";

/** Options for {@link createFallbackTransport}. */
export interface FallbackTransportOptions {
  /** Tried first. @default websocketTransport */
  primary?: TransportFactory;
  /** Used once the primary is known not to work here. @default httpTransport */
  fallback?: TransportFactory;
  /**
   * Asked after the primary failed before it ever opened: does the relay answer plain HTTP? If so,
   * something between here and the relay blocks WebSockets. @default {@link probeRelay}
   */
  probe?: (target: TransportTarget) => Promise<boolean>;
  /** Called once, when this factory switches to the fallback for good. */
  onFallback?: () => void;
}

/**
 * How many failed WebSocket attempts in a row, each followed by a probe that found the relay
 * reachable over HTTP, switch a page whose WebSocket had worked before to the fallback.
 */
export const STRIKES_AFTER_WORKED = 3;

/**
 * Whether the relay answers plain HTTP on the page's origin: `GET /ws/<id>` without an upgrade gets
 * `426` from the relay itself (docs/PROTOCOL.md section 2, "No upgrade"), or else `GET /healthz`
 * answers 200 (a gateway that refuses the `/ws/` path outright). A network error, a timeout or a
 * proxy's 502/503 (the relay is down or restarting) says no.
 */
export async function probeRelay(target: TransportTarget, timeoutMs = 5_000): Promise<boolean> {
  const ask = async (path: string) => {
    try {
      const res = await fetch(new URL(path, target.origin), {
        cache: "no-store",
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body?.cancel();
      return res.status;
    } catch {
      return 0;
    }
  };
  if (await ask(`/ws/${encodeURIComponent(target.mapId)}`) === 426) return true;
  return await ask("/healthz") === 200;
}

/**
 * Makes the page's transport factory. Each attempt tries the primary (WebSocket); when it closes
 * before it ever opened and the {@link FallbackTransportOptions.probe} finds the relay reachable
 * over plain HTTP, the same attempt continues over the fallback (HTTP), and so does every later
 * attempt from this factory: a page behind an Upgrade-stripping proxy stays on HTTP, and pays the
 * failed WebSocket only once. A primary that opened but ended before it delivered a single message
 * (a gateway that passes the upgrade and then holds the frames, so the owner gave up waiting for
 * `welcome`, or one that closes it at once with a policy close) is reported to the owner as it is,
 * and the probe decides whether the next attempt goes over HTTP; an attempt made while that probe
 * is out waits for its answer. A primary that fails while the relay is unreachable (it is
 * restarting, the network is down) is an ordinary close, so the owner backs off and tries the
 * WebSocket again. Once a WebSocket has delivered a message here, WebSockets pass on this path:
 * a failure after that is taken for an outage even when the probe finds the relay reachable (the
 * network came back between the two, as it does on a flaky link), and only
 * {@link STRIKES_AFTER_WORKED} such failures in a row (the page moved onto a network that blocks
 * them) send it to the fallback. The transport's `name` follows the switch, so the connection
 * indicator says which one is in use.
 *
 * @example
 * ```ts ignore
 * const transport = createFallbackTransport({ onFallback: () => console.info("using HTTP") });
 * new Session({ ...options, transport });
 * ```
 */
export function createFallbackTransport(options: FallbackTransportOptions = {}): TransportFactory {
  const primary = options.primary ?? websocketTransport;
  const fallback = options.fallback ?? httpTransport;
  const probe = options.probe ?? ((target: TransportTarget) => probeRelay(target));
  let useFallback = false;
  // A WebSocket has delivered a message to this page: WebSockets pass on this path, so a later
  // failure is first taken for an outage, not for a proxy.
  let worked = false;
  // Failed attempts in a row after which the relay still answered plain HTTP.
  let strikes = 0;
  // The probe after a primary that opened but stayed silent; the next attempt waits for it.
  let pendingProbe: Promise<void> | null = null;
  // Whether a failed primary, with this answer of the probe, sends this page to the fallback.
  const blocked = (reachable: boolean) => {
    if (!reachable) {
      strikes = 0;
      return false;
    }
    if (useFallback) return true;
    strikes += 1;
    if (worked && strikes < STRIKES_AFTER_WORKED) return false;
    useFallback = true;
    options.onFallback?.();
    return true;
  };
  return (target, handlers) => {
    if (useFallback) return fallback(target, handlers);
    // "waiting": for a probe of an earlier attempt; "primary": the WebSocket attempt; "probing":
    // it failed and the probe is out; "fallback": this attempt continues over HTTP; "closed": the
    // owner has had its onClose.
    let phase: "waiting" | "primary" | "probing" | "fallback" | "closed" = "primary";
    let opened = false;
    let received = false;
    let ownerClosed = false;
    let current: Transport | null = null;
    const report = (info: { code: number; reason: string }) => {
      if (phase === "closed") return;
      phase = "closed";
      handlers.onClose(info);
    };
    const startFallback = () => {
      phase = "fallback";
      current = fallback(target, {
        onOpen: () => handlers.onOpen(),
        onMessage: (text) => handlers.onMessage(text),
        onClose: report,
      });
    };
    const startPrimary = () => {
      phase = "primary";
      current = primary(target, {
        onOpen: () => {
          opened = true;
          handlers.onOpen();
        },
        onMessage: (text) => {
          received = true;
          worked = true;
          strikes = 0;
          handlers.onMessage(text);
        },
        onClose: (info) => {
          if (phase !== "primary") return;
          // The relay's own refusal of the key came over this WebSocket: it works here.
          const relayAnswered = info.code === CloseCode.Policy &&
            info.reason === UNKNOWN_MAP_OR_KEY;
          if (received || relayAnswered || (ownerClosed && !opened)) {
            report(info);
            return;
          }
          if (opened) {
            // It opened, so the owner has sent hello on it: report the close as it is, and let
            // the probe decide where the next attempt goes.
            report(info);
            const asked: Promise<void> = probe(target).then((r) => void blocked(r), () => {})
              .finally(() => {
                if (pendingProbe === asked) pendingProbe = null;
              });
            pendingProbe = asked;
            return;
          }
          phase = "probing";
          probe(target).then((reachable) => {
            if (phase !== "probing") return;
            if (!blocked(reachable)) {
              report(info);
              return;
            }
            startFallback();
          }, () => report(info));
        },
      });
    };
    if (pendingProbe) {
      phase = "waiting";
      pendingProbe.then(() => {
        if (phase !== "waiting") return;
        if (useFallback) startFallback();
        else startPrimary();
      });
    } else {
      startPrimary();
    }
    return {
      get name() {
        return current?.name ?? (useFallback ? HTTP_TRANSPORT_NAME : "websocket");
      },
      send(text) {
        current?.send(text);
      },
      close(code = 1000, reason = "") {
        ownerClosed = true;
        if (phase === "probing" || phase === "waiting") report({ code, reason });
        else current?.close(code, reason);
      },
    };
  };
}
