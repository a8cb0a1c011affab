"""What a chat socket keeps after its handshake (chat/upgraded.py), through real sockets."""

import asyncio
import gc
import logging
import sys

import pytest
import tornado.httpserver
import tornado.ioloop
import tornado.netutil
from conftest import next_event, send
from tornado.websocket import websocket_connect

from chat.app import make_app
from chat.config import Settings
from chat.handlers import ChatSocket


@pytest.mark.gen_test
async def test_open_socket_keeps_only_a_slim_request(connect):
    """Once open, a socket's request names method, path and address; the 101's headers are gone."""
    ada, _ = await connect(nick="ada", session="a-secret-session-of-the-page")
    [socket] = ChatSocket.everyone()
    request = socket.request
    assert (request.method, request.uri, request.remote_ip) == ("GET", "/ws", "127.0.0.1")
    assert list(request.headers) == ["Host"] and request.connection is None
    assert request.query_arguments == {}
    assert list(socket._headers) == []  # the 101's, sent long ago
    await send(ada, {"type": "message", "text": "still reading frames"})
    assert (await next_event(ada, "message"))["text"] == "still reading frames"


@pytest.mark.gen_test
async def test_frame_loop_runs_after_the_handshake_ends(connect, caplog):
    """With no handshake coroutine left running, frames are read and a close reaches on_close."""
    ada, _ = await connect(nick="ada")
    bob, _ = await connect(nick="bob")
    handshakes = [task for task in asyncio.all_tasks()
                  if task.get_coro().__qualname__ == "RequestHandler._execute"]
    assert handshakes == []  # Tornado's own would await the frame loop for as long as it runs
    await send(bob, {"type": "message", "text": "hello"})
    assert (await next_event(ada, "message"))["text"] == "hello"
    with caplog.at_level(logging.INFO, logger="chat.handlers"):
        bob.close()
        left = await next_event(ada, "leave")
    assert left["nick"] == "bob"
    assert [waiter.nick for waiter in ChatSocket.everyone()] == ["ada"]
    assert "Uncaught exception" not in caplog.text


def test_a_frame_loop_dropped_with_its_closed_event_loop_goes_quietly(tmp_path):
    """A socket still open when its event loop closes (a test's end, say) is collected quietly,
    not with an 'Event loop is closed' raised into whatever runs the garbage collector."""
    io_loop = tornado.ioloop.IOLoop(make_current=False)

    app = make_app(Settings(db=tmp_path / "chat.db"))

    async def connect_one() -> None:
        [listening] = tornado.netutil.bind_sockets(0, "127.0.0.1")
        server = tornado.httpserver.HTTPServer(app)
        server.add_sockets([listening])
        port = listening.getsockname()[1]
        client = await websocket_connect(f"ws://127.0.0.1:{port}/ws?nick=ada")
        await next_event(client, "welcome")

    io_loop.run_sync(connect_one)  # the server's frame loop now waits for a read
    io_loop.close(all_fds=True)  # as pytest-tornado closes a test's loop
    app.settings["hub"].store.close()
    ChatSocket.waiters.clear()
    unraisable = []
    default_hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        gc.collect()
    finally:
        sys.unraisablehook = default_hook
    assert [str(report.exc_value) for report in unraisable] == []
