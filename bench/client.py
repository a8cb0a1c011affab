"""One connection of the load generator's swarm: an asyncio protocol on a raw socket.

To stay out of the way of the server it measures, most clients never parse a
frame: they count the phase's tokens and end markers in the raw bytes they
receive (phase.TokenCounter), and answer pings by looking for the ping opcode
byte, which never occurs in the ASCII payloads (a false match costs one
harmless unsolicited pong). Only the senders and a sample of clients parse
frames: the senders to send the next message when their own comes back, the
sample to time latency (every payload carries its send time) and to answer
pings with the ping's payload; they too count every token and end marker in
a frame, as one frame may hold several (a welcome's history).
"""

import asyncio
import socket
import time
from collections.abc import Callable

from bench.frames import accepted, client_frame, new_key, ping_frames, split_frames
from bench.phase import Phase, TokenCounter, bench_messages


class Client(asyncio.Protocol):
    """One WebSocket connection; it counts tokens, or parses frames if it is a sender or sampled."""

    def __init__(self, index: int, parses: bool, sampled: bool,
                 handshake: Callable[[bytes], bytes] | None) -> None:
        self.index = index
        self.parses = parses
        self.sampled = sampled
        self.handshake = handshake  # Sec-WebSocket-Key -> this client's upgrade request
        self.transport: asyncio.Transport | None = None
        self.key = new_key()
        self.handshaken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.greeted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.head = b""  # the handshake answer so far
        self.rest = b""  # parsing: an incomplete frame
        self.ping_rest = b""  # counting: a ping frame cut by a chunk boundary
        self.closed = False
        self.to_send = 0  # closed loop: messages left to send after the first window
        self.reset(None)

    def reset(self, phase: Phase | None) -> None:
        """Start counting for a new phase."""
        self.phase = phase
        self.count = 0
        self.ends = 0
        self.last_data = 0  # monotonic ns of the last bench message received
        self.counter = TokenCounter(phase.token, phase.end) if phase and not self.parses else None
        self.finished = phase is None or self.closed
        self.next_seq = 0

    # handshake

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        raw = transport.get_extra_info("socket")
        if raw is not None:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport.write(self.handshake(self.key))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.handshaken.done():
            self.handshaken.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.greeted.done():  # closed unwelcomed: the phases count it as lost
            self.greeted.set_result(None)
        self.finish()

    def data_received(self, data: bytes) -> None:
        if self.handshaken.done():
            if not self.greeted.done():  # the first bytes after the handshake's answer
                self.greeted.set_result(None)
            if self.parses:
                self.parse(data)
            else:
                self.scan(data)
            return
        self.head += data
        end = self.head.find(b"\r\n\r\n")
        if end < 0:
            return
        head, data = self.head[:end], self.head[end + 4:]
        self.head = b""
        if not accepted(head, self.key):
            self.handshaken.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
            self.transport.close()
            return
        self.handshaken.set_result(None)
        if data:
            self.data_received(data)

    # counting clients

    def scan(self, data: bytes) -> None:
        """Count the phase's tokens and end markers in a chunk, and answer pings."""
        if self.ping_rest or b"\x89" in data:
            pings, self.ping_rest = ping_frames(self.ping_rest + data if self.ping_rest else data)
            for payload in pings:
                self.transport.write(client_frame(0xA, payload))
        if self.counter is None:
            return
        count, ends = self.counter.feed(data)
        if count:
            self.count += count
            self.last_data = time.monotonic_ns()
        if ends:
            self.ends += ends
            if self.ends >= len(self.phase.senders):
                self.finish()

    # parsing clients

    def parse(self, data: bytes) -> None:
        """Read whole frames: time bench messages, drive the sender's window, answer pings."""
        frames, self.rest = split_frames(self.rest + data if self.rest else data)
        now = time.monotonic_ns()
        phase = self.phase
        for opcode, payload in frames:
            if opcode == 0x9:
                self.transport.write(client_frame(0xA, payload))
                continue
            if opcode not in (0x1, 0x2) or phase is None:
                continue  # close frames: the server then closes the socket
            # Usually one message or one end marker per frame (welcome, join, leave and
            # rooms hold neither), but a welcome's history can hold several of both.
            for sender, seq, sent in bench_messages(payload, phase.token):
                self.count += 1
                self.last_data = now
                if self.sampled:
                    latency = now - sent
                    phase.latencies.append(latency)
                    if seq == b"0":
                        phase.first[sender] = max(phase.first.get(sender, 0), latency)
                if sender == self.index and self.to_send and phase.active:
                    self.send_message()
                    self.to_send -= 1
                    if not self.to_send:
                        self.send_end()
            ends = payload.count(phase.end)
            if ends:
                self.ends += ends
                if self.ends >= len(phase.senders):
                    self.finish()

    # sending

    def send_message(self) -> None:
        """Send the next bench message of the current phase."""
        phase = self.phase
        self.transport.write(client_frame(0x1, phase.payload(self.index, self.next_seq)))
        self.next_seq += 1
        phase.sent += 1

    def send_end(self) -> None:
        """Tell everyone this sender has sent its last message of the phase."""
        self.transport.write(client_frame(0x1, self.phase.end_marker(self.index)))

    def finish(self) -> None:
        """Note that this client has everything it will get in this phase."""
        if not self.finished:
            self.finished = True
            if self.phase is not None:
                self.phase.on_finished()


