/** Baseline: the bare Deno.upgradeWebSocket broadcast, the runtime's floor (one send per frame per peer). */

/**
 * Serves the broadcast: a socket on `/ws/<room>` joins `<room>`, and every text frame it sends is
 * forwarded unchanged to the other sockets of that room. Logs `{"event":"listening","port":N}`.
 */
export function serveBroadcast(port: number): Deno.HttpServer {
  const rooms = new Map<string, Set<WebSocket>>();
  return Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: ({ port }) => console.log(JSON.stringify({ event: "listening", port })),
  }, (req) => {
    const url = new URL(req.url);
    if (!url.pathname.startsWith("/ws/")) return new Response("not found", { status: 404 });
    const room = url.pathname.slice(4);
    const protocol = req.headers.get("sec-websocket-protocol")?.split(",")[0]?.trim();
    const { socket, response } = Deno.upgradeWebSocket(req, protocol ? { protocol } : {});
    socket.onopen = () => {
      let peers = rooms.get(room);
      if (!peers) rooms.set(room, peers = new Set());
      peers.add(socket);
    };
    socket.onmessage = (e) => {
      const peers = rooms.get(room);
      if (!peers) return;
      for (const p of peers) {
        if (p !== socket && p.readyState === WebSocket.OPEN) p.send(e.data);
      }
    };
    socket.onclose = () => {
      const peers = rooms.get(room);
      peers?.delete(socket);
      if (peers?.size === 0) rooms.delete(room);
    };
    socket.onerror = () => {};
    return response;
  });
}

if (import.meta.main) serveBroadcast(Number(Deno.args[0] ?? "0"));
