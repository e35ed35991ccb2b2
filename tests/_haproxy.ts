/** Starts real HAProxy (haproxy/haproxy.cfg) with test certificates in front of a relay, for end-to-end tests. */

import NodeWebSocket from "ws";
import { signalQuietly, sleep, spawnLines, terminate } from "./_process.ts";

const ROOT = new URL("../", import.meta.url);
const HAPROXY_CFG = new URL("haproxy/haproxy.cfg", ROOT).pathname;
const STRIP_UPGRADE_CFG = new URL("tests/haproxy_strip_upgrade.cfg", ROOT).pathname;
const MAKE_CERTS = new URL("certs/make-certs.sh", ROOT).pathname;

/** Certificates made by `certs/make-certs.sh` in a directory. */
export interface TestCerts {
  /** The directory holding the files below. */
  dir: string;
  /** The local CA's certificate (PEM file): what clients trust. */
  caFile: string;
  /** The CA's own directory (`ca.pem`, `ca-key.pem`), kept apart from the server's files. */
  caDir: string;
  /** The CA certificate's PEM text, for `Deno.createHttpClient({ caCerts: [caPem] })`. */
  caPem: string;
  /** Server certificate + key in one PEM file: what HAProxy's `crt` reads. */
  combinedFile: string;
  certFile: string;
  keyFile: string;
  /** Deletes the directory (only if {@link makeTestCerts} made it). */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options for {@link makeTestCerts}. */
export interface MakeTestCertsOptions {
  /** Names and IPs the certificate is valid for. @default ["localhost", "127.0.0.1", "::1"] */
  names?: string[];
  /** Write here instead of a fresh temp dir (which is then not deleted on dispose). */
  dir?: string;
}

/**
 * Makes a local CA and a server certificate signed by it with `certs/make-certs.sh`.
 *
 * @example
 * ```ts
 * await using certs = await makeTestCerts();
 * const client = Deno.createHttpClient({ caCerts: [certs.caPem] });
 * ```
 */
export async function makeTestCerts(options: MakeTestCertsOptions = {}): Promise<TestCerts> {
  const owned = options.dir === undefined;
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "duplexmap-certs-" });
  const caDir = `${dir}/ca`;
  const out = await run("sh", [
    MAKE_CERTS,
    "--out",
    dir,
    "--ca-dir",
    caDir,
    ...(options.names ?? []),
  ]);
  if (!out.success) {
    throw new Error(`certs/make-certs.sh failed (is openssl installed?):\n${out.stderr}`);
  }
  const caFile = `${dir}/ca.pem`;
  return {
    dir,
    caFile,
    caDir,
    caPem: await Deno.readTextFile(caFile),
    combinedFile: `${dir}/haproxy.pem`,
    certFile: `${dir}/server.pem`,
    keyFile: `${dir}/server-key.pem`,
    [Symbol.asyncDispose]: async () => {
      if (owned) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Options for {@link startHaproxy}. */
export interface StartHaproxyOptions {
  /** Port of the relay on 127.0.0.1 (e.g. `relay.port` from tests/_relay.ts). */
  relayPort: number;
  /** @default "127.0.0.1" */
  relayHost?: string;
  /** Reuse certificates (a directory written by `certs/make-certs.sh`); default: fresh ones. */
  certDir?: string;
  /**
   * Extra or overriding `DM_*` variables of haproxy.cfg, e.g.
   * `{ DM_TIMEOUT_CLIENT: "1s", DM_MAX_CONN_PER_ADDR: "3" }`.
   */
  env?: Record<string, string>;
  /** Another configuration file instead of haproxy/haproxy.cfg (e.g. haproxy-cluster.cfg). */
  config?: string;
  /** Wait until `/healthz` answers 200 through HAProxy. @default true */
  waitHealthy?: boolean;
  /**
   * Also open a second https port that strips WebSocket upgrades, like a company gateway that
   * inspects TLS (tests/haproxy_strip_upgrade.cfg): see `stripUpgradeUrl`. @default false
   */
  stripUpgrade?: boolean;
}

/** Options of {@link HaproxyProcess.webSocket}. */
export interface ProxiedWebSocketOptions {
  protocols?: string[];
  /** Source address, e.g. "127.0.0.2": another client as far as HAProxy can tell. */
  localAddress?: string;
  headers?: Record<string, string>;
  /** npm `ws` instead of Deno's WebSocket: another HTTP/1.1 client implementation. @default false */
  nodeWs?: boolean;
}

/** A running HAProxy in front of a relay. */
export interface HaproxyProcess {
  httpsPort: number;
  httpPort: number;
  /** `https://127.0.0.1:<httpsPort>` */
  httpsUrl: string;
  /** `wss://127.0.0.1:<httpsPort>` */
  wssUrl: string;
  /** `http://127.0.0.1:<httpPort>` (redirects to https) */
  httpUrl: string;
  /**
   * With `stripUpgrade`: `https://127.0.0.1:<port>` of the same relay through a frontend that
   * removes `Upgrade` (WebSockets fail there; plain HTTP works). Otherwise null.
   */
  stripUpgradeUrl: string | null;
  /** The local CA's certificate file and PEM text. */
  caFile: string;
  caPem: string;
  /** The certificate directory in use. */
  certDir: string;
  /** Every line HAProxy wrote (its request log included), across restarts. */
  logs: string[];
  /** The environment HAProxy runs with (ports, paths, timeouts). */
  env: Record<string, string>;
  /** An HTTP client trusting the local CA; closed by stop(). */
  client: Deno.HttpClient;
  /** `fetch(httpsUrl + path)` trusting the local CA. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /**
   * A WebSocket to `wssUrl + path` trusting the local CA, optionally from another loopback source
   * address (e.g. "127.0.0.2") to act as a different client.
   *
   * By default it is Deno's WebSocket (given an HttpClient, the only way to trust a CA in process);
   * `nodeWs: true` makes it npm `ws`, whose event API is the WebSocket one. Both make the classic
   * HTTP/1.1 Upgrade (Deno's tries WebSocket over HTTP/2 only when HTTP/1.1 fails, which it does
   * not here; HAProxy's log says `HTTP/1.1` for them). WebSocket over HTTP/2 (RFC 8441) is what
   * Chromium does through HAProxy: tests/browser_haproxy_test.ts checks that.
   */
  webSocket(path: string, options?: ProxiedWebSocketOptions): WebSocket;
  /** SIGTERM (hard stop: every connection closes now), then start again on the same ports. */
  restart(): Promise<void>;
  /** SIGTERM and wait; safe to call twice. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `haproxy -db -f haproxy/haproxy.cfg` on two free loopback ports in front of a relay.
 *
 * @example
 * ```ts
 * await using relay = await startRelay({ args: ["--memory", "--trust-proxy", "127.0.0.1"] });
 * await using proxy = await startHaproxy({ relayPort: relay.port });
 * const res = await proxy.fetch("/healthz");
 * ```
 */
export async function startHaproxy(options: StartHaproxyOptions): Promise<HaproxyProcess> {
  await requireTool("haproxy", ["-v"], "apt-get install -y haproxy");
  const ownedCerts = options.certDir === undefined ? await makeTestCerts() : undefined;
  const certDir = options.certDir ?? ownedCerts!.dir;
  const caFile = `${certDir}/ca.pem`;
  const caPem = await Deno.readTextFile(caFile);
  const logs: string[] = [];
  const client = Deno.createHttpClient({ caCerts: [caPem] });
  const sourceClients = new Map<string, Deno.HttpClient>();

  const configs = [
    options.config ?? HAPROXY_CFG,
    ...(options.stripUpgrade ? [STRIP_UPGRADE_CFG] : []),
  ];
  let env: Record<string, string> = {};
  let child: Deno.ChildProcess | undefined;
  let exited: Promise<Deno.CommandStatus> | undefined;
  // Ports picked by closing a listener can be taken by someone else before HAProxy binds them,
  // so a failed bind is retried with new ports.
  for (let attempt = 1;; attempt++) {
    const httpsPort = await freePort();
    let httpPort = await freePort();
    while (httpPort === httpsPort) httpPort = await freePort();
    env = {
      DM_BIND_ADDR: "127.0.0.1",
      DM_HTTPS_PORT: String(httpsPort),
      DM_HTTP_PORT: String(httpPort),
      DM_RELAY_ADDR: `${options.relayHost ?? "127.0.0.1"}:${options.relayPort}`,
      DM_CERT: `${certDir}/haproxy.pem`,
      DM_ACME_ADDR: `127.0.0.1:${await freePort()}`,
      DM_HEALTH_INTERVAL: "500ms",
      // Small enough for any CI machine's open-files limit.
      DM_MAXCONN: "1000",
      DM_HARD_STOP_AFTER: "5s",
      DM_CLOSE_SPREAD_TIME: "0s",
      ...(options.stripUpgrade ? { DM_STRIP_PORT: String(await freePort()) } : {}),
      // Only root can switch to the haproxy user; as root (CI) the privilege drop is exercised too.
      ...(Deno.uid() === 0 ? {} : { DM_UNPRIVILEGED: "1" }),
      ...options.env,
    };
    ({ child, exited } = spawn(env, logs, configs));
    const up = await waitListening(httpsPort, exited);
    if (up) break;
    const bindFailure = logs.some((l) => /cannot bind|Address already in use/i.test(l));
    if (!bindFailure || attempt >= 5) {
      client.close();
      await ownedCerts?.[Symbol.asyncDispose]();
      throw new Error(`haproxy did not start:\n${logs.slice(-30).join("\n")}`);
    }
  }

  const httpsPort = Number(env.DM_HTTPS_PORT);
  const httpPort = Number(env.DM_HTTP_PORT);
  const httpsUrl = `https://127.0.0.1:${httpsPort}`;

  const stopChild = async () => {
    if (!child || !exited) return;
    const [c, e] = [child, exited];
    child = undefined;
    exited = undefined;
    await terminate({ child: c, status: e }, 5_000);
  };

  const waitHealthy = async () => {
    for (let i = 0; i < 100; i++) {
      try {
        const res = await fetch(`${httpsUrl}/healthz`, { client });
        await res.body?.cancel();
        if (res.status === 200) return;
      } catch {
        // Not up yet.
      }
      await sleep(100);
    }
    throw new Error(`/healthz never answered 200 through haproxy:\n${logs.slice(-30).join("\n")}`);
  };
  if (options.waitHealthy ?? true) await waitHealthy();

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopChild();
    client.close();
    for (const c of sourceClients.values()) c.close();
    sourceClients.clear();
    await ownedCerts?.[Symbol.asyncDispose]();
  };

  return {
    httpsPort,
    httpPort,
    httpsUrl,
    wssUrl: `wss://127.0.0.1:${httpsPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    stripUpgradeUrl: env.DM_STRIP_PORT ? `https://127.0.0.1:${env.DM_STRIP_PORT}` : null,
    caFile,
    caPem,
    certDir,
    logs,
    env,
    client,
    fetch: (path, init) => fetch(`${httpsUrl}${path}`, { ...init, client }),
    webSocket: (path, wsOptions = {}) => {
      const url = `wss://127.0.0.1:${httpsPort}${path}`;
      if (wsOptions.nodeWs) {
        const ws = new NodeWebSocket(url, wsOptions.protocols ?? [], {
          ca: caPem,
          localAddress: wsOptions.localAddress,
          headers: wsOptions.headers,
        });
        // An EventEmitter throws an unhandled "error"; a failed connect is reported by the
        // "close" event that follows, as with Deno's WebSocket.
        ws.on("error", () => {});
        // The npm client implements the WebSocket interface the tests use (addEventListener,
        // send, close, readyState, protocol, binaryType); only its declared type differs.
        return ws as unknown as WebSocket;
      }
      let wsClient = client;
      if (wsOptions.localAddress) {
        wsClient = sourceClients.get(wsOptions.localAddress) ??
          Deno.createHttpClient({ caCerts: [caPem], localAddress: wsOptions.localAddress });
        sourceClients.set(wsOptions.localAddress, wsClient);
      }
      // Deno's WebSocket accepts an HttpClient (for its CA and source address) in its options.
      return new WebSocket(url, {
        protocols: wsOptions.protocols,
        headers: wsOptions.headers,
        client: wsClient,
      });
    },
    restart: async () => {
      if (stopped) throw new Error("restart() after stop()");
      await stopChild();
      // The ports were ours a moment ago; retry briefly in case the kernel still holds them.
      for (let attempt = 1;; attempt++) {
        ({ child, exited } = spawn(env, logs, configs));
        if (await waitListening(httpsPort, exited)) break;
        if (attempt >= 20) {
          throw new Error(`haproxy did not restart:\n${logs.slice(-30).join("\n")}`);
        }
        await sleep(250);
      }
      if (options.waitHealthy ?? true) await waitHealthy();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A HOME directory whose NSS database trusts a CA, for Chromium on Linux. */
export interface ChromiumCaHome {
  /** The directory; pass `env` to `launchChromium({ env })` (tests/_browser.ts). */
  home: string;
  /** `{ HOME: home }` */
  env: Record<string, string>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Makes a temporary HOME whose `~/.pki/nssdb` trusts `caFile` for TLS servers, so Chromium
 * launched with `env: { HOME }` accepts HAProxy's certificate the way a user's browser does after
 * importing the CA: no `--ignore-certificate-errors`. Needs `certutil` (libnss3-tools).
 *
 * @example
 * ```ts
 * await using trust = await chromiumCaHome(proxy.caFile);
 * const browser = await launchChromium({ env: trust.env });
 * ```
 */
export async function chromiumCaHome(caFile: string): Promise<ChromiumCaHome> {
  await requireTool("certutil", ["-H"], "apt-get install -y libnss3-tools");
  const home = await Deno.makeTempDir({ prefix: "duplexmap-chromium-home-" });
  const db = `sql:${home}/.pki/nssdb`;
  await Deno.mkdir(`${home}/.pki/nssdb`, { recursive: true });
  for (
    const args of [
      ["-N", "-d", db, "--empty-password"],
      ["-A", "-d", db, "-t", "C,,", "-n", "Duplex Map test CA", "-i", caFile],
    ]
  ) {
    const out = await run("certutil", args);
    if (!out.success) {
      await Deno.remove(home, { recursive: true }).catch(() => {});
      throw new Error(`certutil ${args.join(" ")} failed:\n${out.stderr}`);
    }
  }
  return {
    home,
    env: { HOME: home },
    [Symbol.asyncDispose]: async () => {
      await Deno.remove(home, { recursive: true }).catch(() => {});
    },
  };
}

/** A running tinyproxy (a real forward proxy, as in company networks). */
export interface TinyproxyProcess {
  port: number;
  /** `http://127.0.0.1:<port>`: for `--proxy-server=` or `Deno.createHttpClient({ proxy })`. */
  url: string;
  /** Every line tinyproxy logged (one `CONNECT` request line per tunnel it opened). */
  logs: string[];
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts tinyproxy in the foreground on a free loopback port with a temporary config that lets
 * 127.0.0.1 open `CONNECT` tunnels to the given ports only (as a corporate proxy allows 443).
 * `extraConfig` lines are appended to the config.
 *
 * @example
 * ```ts
 * await using proxy = await startTinyproxy({ connectPorts: [hp.httpsPort] });
 * // launchChromium({ args: [`--proxy-server=${proxy.url}`, "--proxy-bypass-list=<-loopback>"] })
 * ```
 */
export async function startTinyproxy(
  options: { connectPorts: number[]; extraConfig?: string[] },
): Promise<TinyproxyProcess> {
  await requireTool("tinyproxy", ["-v"], "apt-get install -y tinyproxy");
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-tinyproxy-" });
  const logs: string[] = [];
  for (let attempt = 1;; attempt++) {
    const port = await freePort();
    const config = [
      `Port ${port}`,
      "Listen 127.0.0.1",
      "Timeout 600",
      "MaxClients 100",
      "Allow 127.0.0.1",
      // Without ConnectPort lines tinyproxy would tunnel to any port; a real proxy limits them.
      ...options.connectPorts.map((p) => `ConnectPort ${p}`),
      "LogLevel Connect",
      ...(options.extraConfig ?? []),
    ];
    await Deno.writeTextFile(`${dir}/tinyproxy.conf`, config.join("\n") + "\n");
    const { child, status: exited } = spawnLines(
      "tinyproxy",
      { args: ["-d", "-c", `${dir}/tinyproxy.conf`] },
      (line) => logs.push(line),
    );
    if (await waitListening(port, exited)) {
      let stopped = false;
      const stop = async () => {
        if (stopped) return;
        stopped = true;
        signalQuietly(child, "SIGTERM");
        await exited;
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      };
      return {
        port,
        url: `http://127.0.0.1:${port}`,
        logs,
        stop,
        [Symbol.asyncDispose]: stop,
      };
    }
    await exited;
    if (attempt >= 5) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw new Error(`tinyproxy did not start:\n${logs.slice(-20).join("\n")}`);
    }
  }
}

/**
 * Fails with a message saying what to install when a command-line tool is missing.
 * Tests must fail, not skip, when a tool they need is absent.
 */
export async function requireTool(cmd: string, args: string[], install: string): Promise<void> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    if (out.code === 127) throw new Error("not found");
  } catch {
    throw new Error(`'${cmd}' is required for this test but is not installed (${install})`);
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await Promise.resolve();
  return port;
}

/** Runs a command to completion; stdout and stderr as text. */
export async function run(
  cmd: string,
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<{ success: boolean; code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: options.env,
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return {
    success: out.success,
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

function spawn(
  env: Record<string, string>,
  logs: string[],
  configs: string[],
): { child: Deno.ChildProcess; exited: Promise<Deno.CommandStatus> } {
  const { child, status } = spawnLines(
    "haproxy",
    // -db: foreground, no daemon, so the test owns the process and sees its log on stdout.
    { args: ["-db", ...configs.flatMap((f) => ["-f", f])], env },
    (line) => logs.push(line),
  );
  return { child, exited: status };
}

/** True once the port accepts connections; false if HAProxy exits first or never listens. */
async function waitListening(port: number, exited: Promise<Deno.CommandStatus>): Promise<boolean> {
  let done = false;
  exited.then(() => done = true);
  for (let i = 0; i < 100 && !done; i++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return true;
    } catch {
      await sleep(50);
    }
  }
  return false;
}
