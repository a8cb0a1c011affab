"""Floods, slow and dead clients, and other sites' pages, through real sockets."""

import asyncio
import logging
import re
import socket
import struct

import pytest
from conftest import client_frame, next_event, raw_websocket, read_frame, send
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.iostream import IOStream
from tornado.websocket import websocket_connect

from chat.config import Settings

HANDSHAKE = (
    "GET /ws?nick={nick} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n"
)


def limits(**overrides) -> list[Settings]:
    """Settings for one test: an in-memory history and the limits it exercises."""
    return [Settings(db=":memory:", **overrides)]


async def silent_client(port: int, nick: str, receive_buffer: int = 4096) -> IOStream:
    """Complete a WebSocket handshake, then never read again (nor answer pings)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    stream = IOStream(sock)
    await stream.connect(("127.0.0.1", port))
    await stream.write(HANDSHAKE.format(nick=nick).encode())
    assert (await stream.read_until(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    return stream


@pytest.mark.gen_test
@pytest.mark.parametrize("settings", limits(rate=0.001, burst=3))
async def test_a_flood_is_rate_limited_and_not_broadcast(settings, connect):
    """Past the burst, frames get rate_limited with retry_after, and others see none of them."""
    flooder, _ = await connect(nick="flooder", source="127.0.0.2")
    watcher, _ = await connect(nick="watcher")
    for number in range(5):
        await send(flooder, {"type": "message", "text": f"m{number}", "ref": f"c-{number}"})
    errors = [await next_event(flooder, "error") for _ in range(2)]
    assert [(e["code"], e["ref"]) for e in errors] == [
        ("rate_limited", "c-3"), ("rate_limited", "c-4")]
    assert all(e["retry_after"] > 0 and e["message"] for e in errors)
    received = [await next_event(watcher, "message") for _ in range(3)]
    assert [m["text"] for m in received] == ["m0", "m1", "m2"]
    await send(watcher, {"type": "message", "text": "marker"})
    assert (await next_event(watcher, "message"))["text"] == "marker"  # nothing else came


@pytest.mark.gen_test
@pytest.mark.parametrize("settings", limits(rate=0.001, burst=10))
async def test_reconnecting_does_not_refill_the_flood_limit(settings, connect, http_port):
    """"Connect, send 10, close" in a loop draws on one bucket: the second round reaches nobody."""
    watcher, _ = await connect(nick="watcher")
    for round in range(3):
        flooder = await raw_websocket(http_port, f"/ws?nick=flooder{round}", source="127.0.0.2")
        for number in range(10):
            await flooder.write(client_frame(f"round {round} message {number}".encode()))
        await flooder.write(client_frame(struct.pack("!H", 1000), opcode=0x8))
        await flooder.read_until_close()  # the server has read all ten
    await send(watcher, {"type": "message", "text": "marker"})
    texts = []
    while not texts or texts[-1] != "marker":
        texts.append((await next_event(watcher, "message"))["text"])
    assert texts == [f"round 0 message {number}" for number in range(10)] + ["marker"]


@pytest.mark.gen_test
@pytest.mark.parametrize("settings", limits(max_per_ip=2))
async def test_connecting_in_a_loop_is_refused_with_429_and_retry_after(
    settings, connect, http_port
):
    """Past twice --max-per-ip new connections at once, an address gets 429 and Retry-After."""
    for number in range(4):
        ws, _ = await connect(nick=f"tab{number}")
        ws.close()
    with pytest.raises(HTTPClientError) as refused:
        await websocket_connect(f"ws://127.0.0.1:{http_port}/ws?nick=tab5")
    assert refused.value.code == 429
    assert "Too many new connections" in refused.value.response.reason
    assert int(refused.value.response.headers["Retry-After"]) >= 1
    _, elsewhere = await connect(nick="neighbour", source="127.0.0.3")  # other addresses get in
    assert elsewhere["nick"] == "neighbour"


@pytest.mark.gen_test
@pytest.mark.parametrize("settings", limits(max_per_ip=2))
async def test_connections_per_address_are_capped_with_429(settings, connect, http_port):
    """The connection past --max-per-ip gets 429 and a reason; a freed slot is reusable."""
    first, _ = await connect(nick="tab1")
    second, _ = await connect(nick="tab2")
    with pytest.raises(HTTPClientError) as refused:
        await websocket_connect(f"ws://127.0.0.1:{http_port}/ws?nick=tab3")
    assert refused.value.code == 429
    assert "Too many connections" in refused.value.response.reason
    first.close()
    assert (await next_event(second, "leave"))["nick"] == "tab1"
    _, welcome = await connect(nick="tab3")
    assert welcome["nick"] == "tab3"


@pytest.mark.gen_test(timeout=30)
@pytest.mark.parametrize("settings", limits(rate=0, max_unsent=256 * 1024))
async def test_a_client_that_stops_reading_is_closed_and_others_get_everything(
    settings, connect, http_port, caplog
):
    """Past --max-unsent the reader-that-stopped gets 1013 and is dropped; the rest get all."""
    caplog.set_level(logging.WARNING, logger="chat.handlers")
    sender, _ = await connect(nick="sender")
    watcher, _ = await connect(nick="watcher")
    stuck = await silent_client(http_port, "stuck")
    total = 3000  # about 6 MB each: more than the kernel's socket buffers can hide

    async def send_burst() -> None:
        for number in range(total):
            await sender.write_message(f"{number} " + "x" * 1900)

    async def receive_all(ws) -> list[int]:
        return [int((await next_event(ws, "message"))["text"].split()[0]) for _ in range(total)]

    _, *received = await asyncio.gather(send_burst(), receive_all(sender), receive_all(watcher))
    assert received == [list(range(total))] * 2
    assert (await next_event(watcher, "leave"))["nick"] == "stuck"
    closing = [r.getMessage() for r in caplog.records if "is not reading" in r.getMessage()]
    assert len(closing) == 1 and closing[0].startswith("stuck ")
    waiting = int(re.search(r"(\d+) bytes waiting", closing[0]).group(1))
    # One write past the limit, no more: a write carries one loop tick's messages, which
    # on a busy machine can be many more than one (the sender's frames pile up unread).
    assert settings.max_unsent < waiting <= 2 * settings.max_unsent
    stuck.close()


# The timeout is the promise: interval + timeout + 5 s, plus 3 s to connect on a busy machine.
@pytest.mark.gen_test(timeout=0.2 + 0.2 + 5 + 3)
@pytest.mark.parametrize("settings", limits(ping_interval=0.2, ping_timeout=0.2))
async def test_a_silent_peer_is_found_by_ping_and_leaves(settings, connect, http_port):
    """A peer answering no ping leaves within interval + timeout + 5 s; one that answers stays."""
    watcher, _ = await connect(nick="watcher")  # Tornado's client answers every ping
    silent = await silent_client(http_port, "silent")
    assert (await next_event(watcher, "join"))["nick"] == "watcher"
    assert (await next_event(watcher, "join"))["nick"] == "silent"
    assert (await next_event(watcher, "leave"))["nick"] == "silent"
    # Over 5 s of rounds went by, each pinging the watcher too: it is still in the room.
    await send(watcher, {"type": "message", "text": "still here"})
    assert (await next_event(watcher, "message"))["text"] == "still here"
    silent.close()


@pytest.mark.gen_test(timeout=0.2 + 0.2 + 5 + 3)
@pytest.mark.parametrize("settings", limits(ping_interval=0.2, ping_timeout=0.2))
async def test_a_pong_that_answers_no_ping_keeps_nobody_in(settings, connect, http_port):
    """A peer that sends pongs of its own but never echoes the ping is dropped all the same."""
    watcher, _ = await connect(nick="watcher")  # read all along: Tornado's client then pongs
    faker = await raw_websocket(http_port, "/ws?nick=faker")

    async def fake_pongs() -> int:
        pings = 0
        while (frame := await read_frame(faker))[0] != 0x8:  # until the server closes it
            if frame[0] == 0x9:
                pings += 1
                await faker.write(client_frame(b"pong " + frame[1][::-1], opcode=0xA))
        return pings

    faking = asyncio.ensure_future(fake_pongs())
    assert (await next_event(watcher, "join"))["nick"] == "watcher"
    assert (await next_event(watcher, "join"))["nick"] == "faker"
    assert (await next_event(watcher, "leave"))["nick"] == "faker"
    assert await faking >= 1
    faker.close()


@pytest.mark.gen_test
@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:1", "null"])
async def test_another_sites_page_is_refused_with_403(http_server, http_port, origin):
    """A handshake whose Origin is another site is refused."""
    request = HTTPRequest(f"ws://127.0.0.1:{http_port}/ws", headers={"Origin": origin})
    with pytest.raises(HTTPClientError) as refused:
        await websocket_connect(request)
    assert refused.value.code == 403


@pytest.mark.gen_test
@pytest.mark.parametrize("settings", limits(allow_origins=("http://teacher.local:3000",)))
@pytest.mark.parametrize("origin", ["http://teacher.local:3000", "same"])
async def test_same_origin_and_allowed_origins_are_let_in(settings, http_server, http_port, origin):
    """The page's own origin and each --allow-origin are accepted."""
    if origin == "same":
        origin = f"http://127.0.0.1:{http_port}"
    request = HTTPRequest(f"ws://127.0.0.1:{http_port}/ws?nick=ada", headers={"Origin": origin})
    ws = await websocket_connect(request)
    assert (await next_event(ws, "welcome"))["nick"] == "ada"
    ws.close()


@pytest.mark.gen_test
async def test_an_allowed_origin_must_match_exactly(http_server, http_port):
    """Without --allow-origin, a look-alike of an allowed origin is refused."""
    request = HTTPRequest(
        f"ws://127.0.0.1:{http_port}/ws", headers={"Origin": "http://teacher.local:3000"}
    )
    with pytest.raises(HTTPClientError) as refused:
        await websocket_connect(request)
    assert refused.value.code == 403
