"""WebSocket text frames (RFC 6455, server to client), built once to be written to many sockets."""

import struct


def text_frame(payload: bytes) -> bytes:
    """Return a whole, unmasked text frame carrying `payload` (UTF-8)."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length <= 0xFFFF:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload
