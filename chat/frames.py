"""WebSocket frames (RFC 6455): ours, built once to be written to many sockets, and theirs,
read whole from whatever the socket had.

`FrameReader` turns the bytes a client sent into its messages and control
frames, as Tornado's frame loop does, but from one read of everything the
socket holds rather than three reads (header, mask, payload) per frame.
"""

import struct

from tornado.util import _websocket_mask  # Tornado's C unmasking (private: below Tornado 7)

FIN, RSV, OPCODE = 0x80, 0x70, 0x0F
CONTROL = 0x8  # opcodes from 8 up: close, ping, pong


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


class BadFrame(Exception):
    """The client broke the framing rules: the connection is dropped, as Tornado drops it."""


class TooBig(Exception):
    """A message longer than the limit was announced: refused before its bytes are read."""


class FrameReader:
    """A client's frames as its bytes arrive: whole messages (fragments joined), control frames."""

    def __init__(self, max_message_size: int) -> None:
        self.max_message_size = max_message_size
        self._partial = bytearray()  # the start of a frame whose end has not arrived
        self._fragments: bytearray | None = None  # a message sent in several frames, so far
        self._fragments_opcode = 0

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Return the (opcode, payload) of every message and control frame `data` completes.

        Raises TooBig as soon as a header announces more than the limit, and
        BadFrame for reserved bits, a fragmented or long control frame, or a
        fragment out of place.
        """
        if self._partial:
            self._partial += data
            buffer: bytes | bytearray = self._partial
        else:
            buffer = data
        done: list[tuple[int, bytes]] = []
        start, end = 0, len(buffer)
        while end - start >= 2:
            first, second = buffer[start], buffer[start + 1]
            opcode, length, at = first & OPCODE, second & 0x7F, start + 2
            if first & RSV:
                raise BadFrame("reserved bits set: no extension was agreed")
            if opcode & CONTROL and (length >= 126 or not first & FIN):
                raise BadFrame("a control frame must be short and whole")
            if length == 126:
                if end - at < 2:
                    break
                length, at = struct.unpack_from("!H", buffer, at)[0], at + 2
            elif length == 127:
                if end - at < 8:
                    break
                length, at = struct.unpack_from("!Q", buffer, at)[0], at + 8
            if length + (len(self._fragments or b"") if not opcode & CONTROL else 0) > (
                    self.max_message_size):
                raise TooBig()
            mask_at, at = at, at + 4 if second & 0x80 else at
            if end - at < length:
                break
            payload = bytes(buffer[at:at + length])
            if second & 0x80:
                payload = _websocket_mask(bytes(buffer[mask_at:at]), payload)
            start = at + length
            message = self._assemble(first & FIN, opcode, payload)
            if message is not None:
                done.append(message)
        if buffer is self._partial:
            del self._partial[:start]
        else:
            self._partial += buffer[start:]
        return done

    def _assemble(self, final: int, opcode: int, payload: bytes) -> tuple[int, bytes] | None:
        """Return the message this frame ends (or is), None while a fragmented one goes on."""
        if opcode & CONTROL:  # may come between the fragments of a message
            return opcode, payload
        if opcode == 0:  # a continuation
            if self._fragments is None:
                raise BadFrame("a continuation frame with nothing to continue")
            self._fragments += payload
            if not final:
                return None
            message = self._fragments_opcode, bytes(self._fragments)
            self._fragments = None
            return message
        if self._fragments is not None:
            raise BadFrame("a new message before the last one ended")
        if not final:
            self._fragments, self._fragments_opcode = bytearray(payload), opcode
            return None
        return opcode, payload
