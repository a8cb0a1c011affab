// The lesson's Node server: `ws` from the npm registry, every message to every client.
//
//     node bench/servers/node_ws/server.js PORT
//
// A reference server for the benchmark, as the `ws` README's broadcast example
// writes it (the sender included), with the library's defaults (no pings, no
// compression).
'use strict';

const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2]);
const wss = new WebSocketServer({ host: '127.0.0.1', port });

wss.on('connection', (ws) => {
  ws.on('error', console.error);
  ws.on('message', (msg, isBinary) => {
    wss.clients.forEach((c) => {
      if (c.readyState === WebSocket.OPEN) c.send(msg, { binary: isBinary });
    });
  });
});

wss.on('listening', () => console.log(`node ws broadcast on ws://127.0.0.1:${port}/`));
