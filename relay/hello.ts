/** The hello handshake: hello first, the key, room on the map and for the address, the join. */
import { authorIdOf } from "./comments.ts";
import type { ConnectionHost, ConnectionInfo } from "./connection_host.ts";
import { MOVED_REASON, UNKNOWN_MAP_OR_KEY } from "./protocol.ts";
import type { Peer } from "./peer.ts";
import { CloseCode } from "./protocol.ts";
import type { ClientMessage, ErrorCode, HelloMessage, Role } from "./protocol.ts";
import type { Room } from "./room.ts";
import type { Opened, Outcome } from "./map_registry.ts";
import type { MaybePromise } from "./map_store.ts";

/** What the handshake uses of the connection saying hello. */
export interface Greeter {
  /** Is it still open? (It may close while its map loads from an asynchronous store.) */
  readonly open: boolean;
  /** Where it comes from. */
  readonly info: ConnectionInfo;
  /** The peer it speaks for. */
  readonly peer: Peer;
  /** Closes from the server side. */
  close(code: number, reason: string): void;
  /** Sends an `error` and closes. */
  fatal(code: ErrorCode, message: string, closeCode: number): void;
  /** Logs a client's breach of the protocol or a limit. */
  violation(kind: string, fields?: Record<string, unknown>): void;
}

/** A hello that passed: the map it joins and the role its key gives. */
export interface Admitted {
  /** The hello itself. */
  hello: HelloMessage;
  /** The map, in memory. */
  room: Room;
  /** What the key allows. */
  role: Role;
}

/**
 * Checks that the first message is a hello, its key, and that the map and the client's address
 * have room for one more peer; on a refusal it answers and closes `conn` and returns null. A
 * promise when the map is being read from an asynchronous store.
 */
export function admit(
  host: ConnectionHost,
  conn: Greeter,
  msg: ClientMessage,
): MaybePromise<Admitted | null> {
  if (msg.type !== "hello") {
    conn.violation("hello_required");
    conn.fatal("hello_required", "the first message must be hello", CloseCode.Policy);
    return null;
  }
  const auth = host.maps.open(conn.info.mapId, msg.key);
  if (auth instanceof Promise) return auth.then((a) => admitOpened(host, conn, msg, a));
  return admitOpened(host, conn, msg, auth);
}

/** The rest of {@link admit} once the map is open (or refused). */
function admitOpened(
  host: ConnectionHost,
  conn: Greeter,
  msg: HelloMessage,
  auth: Outcome<Opened>,
): Admitted | null {
  // Gone while its map loaded: nothing to count or answer.
  if (!conn.open) return null;
  if (!auth.ok) {
    if (auth.reason === "unavailable") {
      conn.fatal("internal", auth.message, CloseCode.InternalError);
      return null;
    }
    if (auth.reason === "capacity" || auth.reason === "retry") {
      conn.close(CloseCode.TryAgainLater, auth.message);
      return null;
    }
    conn.violation("bad_key");
    conn.close(CloseCode.Policy, UNKNOWN_MAP_OR_KEY);
    return null;
  }
  const { room, role } = auth.value;
  // Moved out while it loaded (its lease went meanwhile): the peer reconnects to its new holder.
  if (!host.maps.isLive(room)) {
    conn.close(CloseCode.Moved, MOVED_REASON);
    return null;
  }
  if (room.peerCount >= host.limits.maxPeersPerMap) {
    conn.close(CloseCode.TryAgainLater, "map is full; try again later");
    return null;
  }
  const maps = host.maps.admit(conn.info.addr, room);
  if (maps !== null) {
    conn.violation("maps_per_addr", { maps });
    conn.close(
      CloseCode.TryAgainLater,
      `your address already has peers on ${maps} maps, the most allowed; close one first`,
    );
    return null;
  }
  return { hello: msg, room, role };
}

/** Joins an admitted peer to its map: its profile, the welcome (a catch-up or the map), the logs. */
export function join(
  host: ConnectionHost,
  conn: Greeter,
  { hello: msg, room, role }: Admitted,
): void {
  const peer = conn.peer;
  peer.name = msg.name;
  peer.color = msg.color.toLowerCase();
  peer.role = role;
  peer.client = msg.client;
  peer.comments = msg.comments === true;
  peer.author = msg.author === undefined ? undefined : authorIdOf(room.id, msg.author);
  // A client ahead of the store saw acknowledged edits the store no longer has (a restore, a
  // lost log): it gets the whole map, and the operator must hear of it.
  if ((msg.since ?? 0) > room.seq) {
    host.logger.log("store_behind_client", { map: room.id, since: msg.since, seq: room.seq });
  }
  if (room.join(peer, msg.since, msg.epoch, msg.commentsAt) === "epoch_mismatch") {
    // A since from another history (a restored backup, a moved map): the whole map instead.
    host.logger.log("epoch_mismatch", { map: room.id, since: msg.since, seq: room.seq });
  }
  host.touch(room);
  conn.info.onJoin?.();
  host.logger.log("connect", {
    map: room.id,
    peer: peer.id,
    role,
    addr: conn.info.addr,
    transport: conn.info.transport,
    catchUp: msg.since !== undefined,
  });
}
