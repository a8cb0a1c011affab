"""What a chat socket keeps after its handshake (chat/upgraded.py), through real sockets."""

import asyncio
import logging

import pytest
from conftest import next_event, send

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
