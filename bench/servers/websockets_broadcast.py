"""The `websockets` library's broadcast: every frame received goes to every connection.

    python bench/servers/websockets_broadcast.py PORT

A reference server for the benchmark, written the way the library's
"broadcast" guide shows it: a set of connections and `broadcast()`, with the
library's defaults (pings every 20 s, compression only if the client asks,
which the load generator does not).
"""

import asyncio
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve

CONNECTIONS: set[ServerConnection] = set()


async def handler(websocket: ServerConnection) -> None:
    """Register a connection and forward each of its messages to everyone."""
    CONNECTIONS.add(websocket)
    try:
        async for message in websocket:
            broadcast(CONNECTIONS, message)
    finally:
        CONNECTIONS.remove(websocket)


async def main(port: int) -> None:
    """Serve on 127.0.0.1:`port` until killed."""
    async with serve(handler, "127.0.0.1", port):
        print(f"websockets broadcast on ws://127.0.0.1:{port}/", flush=True)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
