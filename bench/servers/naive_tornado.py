"""The design card done plainly: a class-level set and `write_message` to every waiter.

    python bench/servers/naive_tornado.py PORT

A reference server for the benchmark: every frame received goes, as it is, to
every connected socket (the sender included), with no JSON, no store, no
limits, Tornado's defaults (no pings, `check_origin` refusing other sites).
"""

import asyncio
import sys

import tornado.web
import tornado.websocket


class BroadcastSocket(tornado.websocket.WebSocketHandler):
    """One connection; `waiters` is everyone connected."""

    waiters: set["BroadcastSocket"] = set()

    def open(self) -> None:
        self.waiters.add(self)

    def on_close(self) -> None:
        self.waiters.discard(self)

    def on_message(self, message: str | bytes) -> None:
        for waiter in self.waiters:
            waiter.write_message(message)


async def main(port: int) -> None:
    """Serve on 127.0.0.1:`port` until killed."""
    application = tornado.web.Application([(r"/", BroadcastSocket)])
    application.listen(port, "127.0.0.1")
    print(f"naive tornado broadcast on ws://127.0.0.1:{port}/", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
