// Baseline: Socket.IO rooms, the usual choice (node bench/baselines/socketio.mjs [port]).

// A client connects with `query: { room }`, joins that room, and every "m" event it emits is
// re-emitted unchanged to the rest of the room (`socket.to(room).emit`).
import { createServer } from "node:http";
import { Server } from "socket.io";

function main(port) {
  const server = createServer();
  const io = new Server(server, {
    transports: ["websocket"],
    perMessageDeflate: false,
    serveClient: false,
    maxHttpBufferSize: 64 * 1024 * 1024,
  });
  io.on("connection", (socket) => {
    const room = String(socket.handshake.query.room ?? "default");
    socket.join(room);
    socket.on("m", (data) => {
      socket.to(room).emit("m", data);
    });
  });
  server.listen(port, "127.0.0.1", () => {
    console.log(JSON.stringify({ event: "listening", port: server.address().port }));
  });
}

main(Number(process.argv[2] ?? "0"));
