"""Shared fixtures: a fresh app per test on a real port, and helpers to read events."""

import json
import os
import struct
from urllib.parse import urlencode

import pytest
from redis_server import RedisServer
from tornado.httpclient import HTTPRequest
from tornado.iostream import IOStream
from tornado.tcpclient import TCPClient
from tornado.websocket import websocket_connect

from chat.app import make_app
from chat.config import Settings
from chat.handlers import ChatSocket


@pytest.fixture
def settings(tmp_path) -> Settings:
    """The settings a test's app is built from; override this fixture to change them."""
    # Every simulated person connects from 127.0.0.1, one address sharing one flood limit:
    # the tests of the limit set their own; the rest get one a whole class could share.
    return Settings(db=tmp_path / "chat.db", history=5, max_text=100, rate=100, burst=1000)


@pytest.fixture
def app(settings):
    """A fresh application for each test (pytest-tornado's http_server serves it)."""
    app = make_app(settings)
    yield app
    app.settings["hub"].store.close()


@pytest.fixture(autouse=True)
def no_waiters():
    """Start and end every test with nobody connected."""
    ChatSocket.waiters.clear()
    yield
    ChatSocket.waiters.clear()


async def next_event(ws, kind: str) -> dict:
    """Read until an event of this type arrives; fail if the server closed."""
    while True:
        raw = await ws.read_message()
        assert raw is not None, f"closed before a {kind!r} event"
        event = json.loads(raw)
        if event["type"] == kind:
            return event


async def send(ws, event: dict) -> None:
    """Send one event as a JSON text frame."""
    await ws.write_message(json.dumps(event))


@pytest.fixture
def redis_server(tmp_path):
    """A fresh redis-server with no persistence, stopped when the test ends."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def connect(http_server, http_port):
    """Return a function that opens a chat socket and awaits its welcome (proof it joined).

    Every socket it opened is closed when the test ends.
    """
    opened = []

    async def open_socket(nick: str | None = None, path: str = "/ws", source: str | None = None,
                          **query: str | int | None):
        """Connect (from the loopback address `source`, e.g. 127.0.0.2, if given); `query`
        adds the URL's other arguments (session, room, since) that are not None."""
        arguments = {name: value for name, value in {"nick": nick, **query}.items()
                     if value is not None}
        url = f"ws://127.0.0.1:{http_port}{path}"
        if arguments:
            url += "?" + urlencode(arguments)
        ws = await websocket_connect(HTTPRequest(url, network_interface=source))
        opened.append(ws)
        return ws, await next_event(ws, "welcome")

    yield open_socket
    for ws in opened:
        ws.close()


async def raw_websocket(port: int, path: str, source: str | None = None) -> IOStream:
    """Complete a WebSocket handshake by hand: a client that writes frames whatever it is told.

    `source` binds the client to another loopback address (127.0.0.2...).
    """
    stream = await TCPClient().connect("127.0.0.1", port, source_ip=source)
    await stream.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    response = await stream.read_until(b"\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 101"), response
    return stream


def client_frame(payload: bytes, opcode: int = 0x1, final: bool = True) -> bytes:
    """Return one masked frame, as a browser sends it (opcode 1 text, 0 continuation,
    8 close, 9 ping); `final=False` for all but the last of a fragmented message."""
    mask = os.urandom(4)
    length = len(payload)
    first = (0x80 if final else 0) | opcode
    if length < 126:
        header = struct.pack("!BB", first, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, length)
    return header + mask + bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))


async def read_frame(stream: IOStream) -> tuple[int, bytes]:
    """Read one unmasked frame from the server: its opcode (1 text, 8 close, 9 ping) and payload."""
    first, second = await stream.read_bytes(2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await stream.read_bytes(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await stream.read_bytes(8))
    return first & 0x0F, await stream.read_bytes(length) if length else b""
