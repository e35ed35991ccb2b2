// Baseline: a minimal Node `ws` room broadcast (node bench/baselines/node_ws.mjs [port]).

// A socket on /ws/<room> joins <room>; every text frame is forwarded unchanged to the other
// sockets of that room, as the usual hand-written `ws` hub does.
import { createServer } from "node:http";
import { WebSocketServer } from "ws";

function main(port) {
  const rooms = new Map();
  const server = createServer((_req, res) => {
    res.writeHead(404).end("not found");
  });
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: false,
    handleProtocols: (protocols) => protocols.values().next().value ?? false,
  });
  wss.on("connection", (socket, req) => {
    const room = (req.url ?? "/").replace(/^\/ws\//, "");
    let peers = rooms.get(room);
    if (!peers) rooms.set(room, peers = new Set());
    peers.add(socket);
    socket.on("message", (data, isBinary) => {
      for (const p of peers) {
        if (p !== socket && p.readyState === 1) p.send(data, { binary: isBinary });
      }
    });
    socket.on("close", () => {
      peers.delete(socket);
      if (peers.size === 0) rooms.delete(room);
    });
    socket.on("error", () => {});
  });
  server.listen(port, "127.0.0.1", () => {
    console.log(JSON.stringify({ event: "listening", port: server.address().port }));
  });
}

main(Number(process.argv[2] ?? "0"));
