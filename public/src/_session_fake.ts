/** A session over a fake transport and a fake clock, for the session's unit tests. */
import type { Clock } from "./clock.ts";
import type { TransportHandlers } from "./transport.ts";
import { Session, type SessionOptions } from "./session.ts";

/** Makes a session (peer "p1", editor) whose links the test opens, welcomes and drops by hand. */
export function setup(options: Partial<SessionOptions> = {}) {
  const timers = new Map<number, () => void>();
  let next = 1;
  const clock: Clock = {
    setTimeout: (fn) => {
      timers.set(next, fn);
      return next++;
    },
    clearTimeout: (id) => void timers.delete(id),
  };
  const links: { handlers: TransportHandlers; sent: unknown[]; opened: boolean }[] = [];
  const notices: string[] = [];
  let n = 0;
  const session = new Session({
    origin: "http://x",
    mapId: "m",
    key: "k",
    name: "Ada",
    color: "#112233",
    clientId: "c",
    nextEditId: () => `c-${++n}`,
    transport: (_target, handlers) => {
      const link = { handlers, sent: [] as unknown[], opened: false };
      links.push(link);
      return {
        name: "fake",
        send: (text) => void link.sent.push(...[JSON.parse(text)].flat()),
        close: () => {},
      };
    },
    clock,
    random: () => 0,
    onNotice: (m) => void notices.push(m),
    ...options,
  });
  /** Opens the newest link (it says hello), once. */
  const open = () => {
    const link = links.at(-1)!;
    if (!link.opened) link.handlers.onOpen();
    link.opened = true;
    return link;
  };
  /** Opens the newest link and welcomes it with `features` at `seq` (of `epoch`, if given). */
  const welcome = (seq: number, features: unknown[] = [], epoch?: string) => {
    const link = open();
    link.handlers.onMessage(JSON.stringify({
      type: "welcome",
      you: { peer: "p1", name: "Ada", color: "#112233", role: "editor" },
      peers: [],
      seq,
      ...(epoch === undefined ? {} : { epoch }),
      features: { type: "FeatureCollection", features },
    }));
    return link;
  };
  /** Opens the newest link and welcomes it with a catch-up: the edit frames after its `since`. */
  const catchUp = (seq: number, ops: unknown[]) => {
    const link = open();
    link.handlers.onMessage(JSON.stringify({
      type: "welcome",
      you: { peer: "p1", name: "Ada", color: "#112233", role: "editor" },
      peers: [],
      seq,
      ops,
    }));
    return link;
  };
  /** The newest link receives a message from the relay. */
  const receive = (message: unknown) => {
    links.at(-1)!.handlers.onMessage(JSON.stringify(message));
  };
  /** Drops the link and lets the retry timer fire. */
  const reconnect = () => {
    links.at(-1)!.handlers.onClose({ code: 1006, reason: "" });
    for (const [id, fn] of [...timers]) {
      timers.delete(id);
      fn();
    }
  };
  return { session, links, notices, open, welcome, catchUp, receive, reconnect };
}
