"""The WebSocket wire format as the load generator speaks it: the upgrade, and frames.

No I/O. Frames from the generator are masked with the all-zero key, which
servers accept like any other key (it only saves the XOR; there is no proxy
on loopback to protect). Server frames are split without unmasking, since
servers never mask.
"""

import base64
import hashlib
import secrets

HANDSHAKE_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def new_key() -> bytes:
    """Return a fresh Sec-WebSocket-Key."""
    return base64.b64encode(secrets.token_bytes(16))


def upgrade_request(host: str, port: int, target: str, key: bytes) -> bytes:
    """Return the HTTP upgrade request for `target` (path and query) with this key."""
    return (
        f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def accepted(head: bytes, key: bytes) -> bool:
    """Return whether the server's answer `head` accepts the upgrade asked with `key`."""
    accept = base64.b64encode(hashlib.sha1(key + HANDSHAKE_GUID).digest())
    return head.startswith(b"HTTP/1.1 101") and accept in head


def client_frame(opcode: int, payload: bytes) -> bytes:
    """Return a final client frame, masked with the all-zero key."""
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


def split_frames(buffer: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Split the complete server frames off `buffer`: [(opcode, payload)] and what is left."""
    frames = []
    position, size = 0, len(buffer)
    while size - position >= 2:
        length = buffer[position + 1] & 0x7F
        start = position + 2
        if length == 126:
            start += 2
            if size < start:
                break
            length = int.from_bytes(buffer[position + 2:start], "big")
        elif length == 127:
            start += 8
            if size < start:
                break
            length = int.from_bytes(buffer[position + 2:start], "big")
        end = start + length
        if end > size:
            break
        frames.append((buffer[position] & 0x0F, buffer[start:end]))
        position = end
    return frames, buffer[position:]


def ping_frames(data: bytes) -> tuple[list[bytes], bytes]:
    """Find ping frames in raw server bytes: their payloads, and a ping cut off at the end.

    A ping is 0x89, a length under 126, then the payload. The bench payloads are
    ASCII, so 0x89 occurs elsewhere only inside a long frame's length field:
    such a false match costs one harmless unsolicited pong.
    """
    payloads = []
    position = data.find(b"\x89")
    while position >= 0:
        if position + 2 > len(data):
            return payloads, data[position:]
        length = data[position + 1]
        if length < 126:
            end = position + 2 + length
            if end > len(data):
                return payloads, data[position:]
            payloads.append(data[position + 2:end])
        position = data.find(b"\x89", position + 1)
    return payloads, b""
