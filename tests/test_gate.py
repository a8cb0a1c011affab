"""The way in (chat.gate): caps per address and in all, timeouts, running out of descriptors."""

import asyncio
import logging
import re
import socket
import time

import pytest
from tornado.iostream import IOStream
from tornado.netutil import bind_sockets
from tornado.websocket import websocket_connect

from chat.config import Settings
from chat.gate import Gate, OccasionalWarning, Refusal, connection_cap, make_server
from chat.handlers import ChatSocket
from conftest import next_event

HALF_SENT = b"GET / HTTP/1.1\r\nHost: x\r\n"  # a request whose headers never end


# --- the counting and the answers, without I/O


def test_past_an_address_cap_429_past_the_total_cap_503_and_leaving_frees_a_place():
    """An address at its cap gets 429 and others still get in; at the total cap, 503."""
    gate = Gate(address_cap=2, total_cap=3)
    assert [gate.admit("10.0.0.1") for _ in range(3)] == [None, None, gate.too_many]
    assert gate.too_many.status == 429
    assert gate.admit("10.0.0.2") is None
    assert gate.admit("10.0.0.3") is gate.full and gate.full.status == 503
    gate.leave("10.0.0.1")
    assert gate.admit("10.0.0.3") is None
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        gate.leave(address)
    assert gate.open == 0 and gate.open_from == {}


def test_a_cap_of_zero_is_no_cap():
    """Caps of 0 let any number in."""
    gate = Gate(address_cap=0, total_cap=0)
    assert all(gate.admit("10.0.0.1") is None for _ in range(10_000))


def test_the_total_cap_keeps_a_reserve_of_descriptors():
    """The derived cap leaves a tenth of the file limit, and at least 32 descriptors, unused."""
    assert connection_cap(1024) == 1024 - 102
    assert connection_cap(96) == 96 - 32
    assert connection_cap(1_048_576) == 1_048_576 - 104_857


def test_a_refusal_is_one_short_complete_http_response():
    """The raw answer has a status line, a Content-Length that fits, and the reason as one line."""
    response = Refusal(429, "Too many connections from your address.").response()
    head, body = response.split(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 429 Too Many Requests"
    assert b"Connection: close" in lines and f"Content-Length: {len(body)}".encode() in lines
    assert body == b"Too many connections from your address.\n"


def test_warnings_come_once_per_interval_and_count_the_ones_held_back(caplog):
    """Within the interval warnings are held back; the next one says how many."""
    now = [0.0]
    warning = OccasionalWarning(5.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="chat.gate"):
        for moment in (0.0, 1.0, 4.9, 5.0, 6.0):
            now[0] = moment
            warning.warn("Refusing %s", "10.0.0.1")
    assert caplog.messages == [
        "Refusing 10.0.0.1", "Refusing 10.0.0.1 (and 2 more times since the last warning)"
    ]


# --- the app in this process, behind the gate


def timeouts(**overrides) -> list[Settings]:
    """Settings for one test: an in-memory history and short timeouts."""
    return [Settings(db=":memory:", **{"header_timeout": 0.5, "idle_timeout": 0.5, **overrides})]


@pytest.fixture
def gated(io_loop, app, settings):
    """The app behind make_server's server on a free port of 127.0.0.1: (server, port)."""
    server = make_server(app, settings)
    sockets = bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    yield server, sockets[0].getsockname()[1]
    server.stop()


async def connect_from(source: str, port: int) -> IOStream:
    """Open a raw connection to the server from the address `source`."""
    sock = socket.socket()
    sock.bind((source, 0))
    stream = IOStream(sock)
    await stream.connect(("127.0.0.1", port))
    return stream


async def until(condition, timeout: float = 5.0) -> None:
    """Poll the server's counts, which no event announces, until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the counts never got there"
        await asyncio.sleep(0.01)


@pytest.mark.gen_test(timeout=10)
@pytest.mark.parametrize("settings", timeouts())
async def test_every_way_a_connection_ends_gives_its_place_back(settings, gated):
    """Header timeout, idle keep-alive, the peer leaving, a chat socket's end, the server stopping:
    each gives the connection's place back."""
    server, port = gated
    gate = server.gate
    slow = await connect_from("127.0.0.2", port)
    await slow.write(HALF_SENT)
    await until(lambda: gate.open_from == {"127.0.0.2": 1})
    assert await slow.read_until_close() == b""  # the header timeout closed it...
    assert gate.open_from == {} and gate.open == 0  # ...and gave its place back first

    page = await connect_from("127.0.0.3", port)
    await page.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await page.read_until(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    await page.read_bytes(int(re.search(rb"Content-Length: (\d+)", head)[1]))
    assert gate.open_from == {"127.0.0.3": 1}  # kept alive for the page's next request
    assert await page.read_until_close() == b""
    assert gate.open == 0

    leaving = await connect_from("127.0.0.2", port)
    await leaving.write(HALF_SENT)
    await until(lambda: gate.open == 1)
    leaving.close()
    await until(lambda: gate.open == 0)

    ws = await websocket_connect(f"ws://127.0.0.1:{port}/ws?nick=ada")
    await next_event(ws, "welcome")
    assert gate.open_from == {"127.0.0.1": 1}
    ws.close()
    await until(lambda: gate.open == 0)

    waiting = await connect_from("127.0.0.2", port)
    await waiting.write(HALF_SENT)
    ws = await websocket_connect(f"ws://127.0.0.1:{port}/ws?nick=bea")
    await next_event(ws, "welcome")
    await until(lambda: gate.open == 2)
    server.stop()  # as run.py stops: the listening socket, the requests, then the chat sockets
    await server.close_all_connections()
    assert await waiting.read_until_close() == b""
    closing = asyncio.ensure_future(ChatSocket.close_all(1001, "Going away.", grace=2.0))
    while await ws.read_message() is not None:  # the client answers the close once it reads
        pass
    await closing
    assert ws.close_code == 1001
    ws.close()  # let the client object go too
    assert gate.open == 0 and gate.open_from == {}


@pytest.mark.gen_test(timeout=5)
@pytest.mark.parametrize("settings", timeouts(header_timeout=30, idle_timeout=0.3))
async def test_a_kept_alive_connection_is_closed_after_the_idle_timeout(settings, gated):
    """After a response, the wait for the next request is limited by --idle-timeout."""
    server, port = gated
    page = await connect_from("127.0.0.2", port)
    await page.write(b"GET /invite.svg?address=9 HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await page.read_until(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404")
    await page.read_bytes(int(re.search(rb"Content-Length: (\d+)", head)[1]))
    assert await page.read_until_close() == b""  # in 0.3 s, not the header timeout's 30
    assert server.gate.open == 0


@pytest.mark.gen_test(timeout=5)
@pytest.mark.parametrize("settings", timeouts())
async def test_a_request_whose_body_never_comes_is_closed(settings, gated):
    """Headers that announce a body which never arrives: closed after the header timeout again."""
    server, port = gated
    stream = await connect_from("127.0.0.2", port)
    await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
    assert await stream.read_until_close() == b""
    assert server.gate.open == 0
