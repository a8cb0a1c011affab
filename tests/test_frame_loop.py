"""The frame loop (chat/upgraded.py, chat/frames.py's FrameReader), through a raw socket.

It reads whatever the socket holds and handles every frame in it, so these
send frames together, split anywhere, fragmented, and against the rules.
"""

import json
import struct

import pytest
from conftest import client_frame, next_event, raw_websocket, read_frame, send
from tornado.iostream import StreamClosedError

PING, PONG, CLOSE = 0x9, 0xA, 0x8


def message(text: str) -> bytes:
    """Return a masked text frame posting `text`."""
    return client_frame(json.dumps({"type": "message", "text": text}).encode())


async def until_frame(stream, opcode: int) -> bytes:
    """Read the server's frames until one with this opcode; return its payload."""
    while True:
        kind, payload = await read_frame(stream)
        if kind == opcode:
            return payload


async def texts(ws, count: int) -> list[str]:
    """Read the next `count` chat messages; return their texts."""
    return [(await next_event(ws, "message"))["text"] for _ in range(count)]


@pytest.mark.gen_test
async def test_frames_sent_in_one_write_are_all_handled_in_order(connect, http_port):
    """Twenty messages and a ping in one write: each message posted, in order, and a pong."""
    watcher, _ = await connect("watcher")
    raw = await raw_websocket(http_port, "/ws?nick=raw")
    frames = [message(f"m{number}") for number in range(20)]
    frames.insert(10, client_frame(b"are you there", opcode=PING))
    await raw.write(b"".join(frames))
    assert await texts(watcher, 20) == [f"m{number}" for number in range(20)]
    assert await until_frame(raw, PONG) == b"are you there"
    raw.close()


@pytest.mark.gen_test
async def test_a_message_in_fragments_around_a_ping_sent_byte_by_byte_arrives_whole(
        connect, http_port):
    """A message in three fragments with a ping between two, each byte in its own write (every
    header and mask split), arrives as one message; the ping is answered on the way."""
    watcher, _ = await connect("watcher")
    raw = await raw_websocket(http_port, "/ws?nick=raw")
    text = json.dumps({"type": "message", "text": "x" * 60 + " whole"}).encode()
    wire = (client_frame(text[:40], final=False) + client_frame(b"mid", opcode=PING)
            + client_frame(text[40:70], opcode=0, final=False)
            + client_frame(text[70:], opcode=0) + message("after"))
    for byte in wire:
        await raw.write(bytes([byte]))
    assert await texts(watcher, 2) == ["x" * 60 + " whole", "after"]
    assert await until_frame(raw, PONG) == b"mid"
    raw.close()


@pytest.mark.parametrize("wire", [
    pytest.param(bytes([0xC1]) + client_frame(b"{}")[1:], id="a reserved bit set"),
    pytest.param(client_frame(b"nothing before me", opcode=0), id="a continuation of nothing"),
    pytest.param(client_frame(b"start", final=False) + client_frame(b"again", final=False),
                 id="a new message inside a fragmented one"),
    pytest.param(client_frame(b"ping", opcode=PING, final=False), id="a fragmented ping"),
    pytest.param(client_frame(b"p" * 126, opcode=PING), id="a ping of 126 bytes"),
])
@pytest.mark.gen_test
async def test_a_frame_against_the_rules_drops_only_its_connection(connect, http_port, wire):
    """The connection that broke RFC 6455's framing is dropped, the frames after it in the same
    write are never handled, and the room goes on."""
    watcher, _ = await connect("watcher")
    raw = await raw_websocket(http_port, "/ws?nick=raw")
    await raw.write(wire + message("never posted"))
    with pytest.raises(StreamClosedError):
        while True:
            await read_frame(raw)
    await send(watcher, {"type": "message", "text": "still here"})
    assert await texts(watcher, 1) == ["still here"]  # not "never posted"


@pytest.mark.gen_test
async def test_a_header_announcing_too_much_closes_1009_before_the_payload(connect, http_port):
    """A header that announces a megabyte is answered with close 1009 at once: the server does
    not wait for (or keep) the bytes it announced."""
    raw = await raw_websocket(http_port, "/ws?nick=raw")
    header = struct.pack("!BBQ", 0x81, 0x80 | 127, 1 << 20) + b"mask"
    await raw.write(header + b"only a little of it")
    code = await until_frame(raw, CLOSE)
    assert struct.unpack("!H", code[:2])[0] == 1009
    raw.close()
