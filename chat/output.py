"""Outgoing: what one chat socket has to send, written once per loop tick, and slow readers.

`write_message()` frames and writes each message on its own: to 1000 clients
that is 1000 framings and 1000 writes per message. The broadcast loop instead
frames an event once and `queue`s the same bytes on every socket; at the end
of the loop tick `write_all` gives each socket one write with everything
queued for it. When Tornado's buffer is empty the bytes go straight to the
kernel, which usually takes them all, so no future or callback is needed.

A broadcast's write-out is paced (`Pacer`): at the end of the tick, unless
the last carried several broadcasts and ended less than half its length ago.

A client that stops reading lets bytes pile up in its stream: past
`max_unsent` its owner is told (`close_slow_reader`), and nothing more is
written to it.
"""

import asyncio
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Protocol

import tornado.iostream
import tornado.websocket

# The longest rest between two write-outs, however long the last took (a stall in it, say).
MAX_REST = 0.02
# The rest after a write-out, as a share of its length: writes take at most 2/3 of the time.
REST_SHARE = 0.5


class Owner(Protocol):
    """The socket an Outgoing writes for: its connection, and what to do when it goes wrong."""

    ws_connection: tornado.websocket.WebSocketProtocol | None

    def close_slow_reader(self) -> None:
        """Close the client: it lets data pile up."""

    def lost(self) -> None:
        """Forget the client: its stream closed under a write."""


class Outgoing:
    """Frames queued for one socket this tick, and the bytes its stream has not sent yet."""

    __slots__ = ("owner", "max_unsent", "pacer", "frames", "unsent", "stopped")

    def __init__(self, owner: Owner, max_unsent: int, pacer: "Pacer") -> None:
        self.owner = owner
        self.max_unsent = max_unsent
        self.pacer = pacer  # when a broadcast queued here is written (shared by every socket)
        self.frames: list[bytes] = []  # queued this tick, written by write()
        self.unsent = 0  # bytes handed to the stream that the kernel has not taken yet
        self.stopped = False  # the owner closed, or is closing: queue() refuses

    def closing(self) -> bool:
        """Tell whether the connection is gone or closing: nothing may be queued any more."""
        connection = self.owner.ws_connection
        return connection is None or connection.is_closing()

    def queue(self, frame: bytes) -> None:
        """Add a ready frame to the next write, or raise WebSocketClosedError once stopped."""
        # A flag, not closing(): a broadcast queues on every socket of the room, and asking
        # Tornado costs three calls each. A connection closing under us is caught by write().
        if self.stopped:
            raise tornado.websocket.WebSocketClosedError()
        self.frames.append(frame)

    def stop(self) -> None:
        """Take nothing more: the socket is closing, or closed."""
        self.stopped = True

    def send(self, frame: bytes) -> None:
        """Queue a frame and make sure it is written at the end of this tick."""
        if not self.frames:
            asyncio.get_running_loop().call_soon(self.write)
        self.queue(frame)

    def write(self) -> None:
        """Write the frames queued this tick in one go, or report a client that stopped reading."""
        frames, self.frames = self.frames, []
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        if not data or self.closing():
            return
        if self.unsent > self.max_unsent:
            self.owner.close_slow_reader()
            return
        assert self.owner.ws_connection is not None
        stream = self.owner.ws_connection.stream
        assert stream is not None  # an open WebSocket connection has its stream
        if not stream.writing():
            try:
                data = data[stream.socket.send(data) :]
            except BlockingIOError:
                pass  # the kernel's buffer is full: Tornado waits for room below
            except OSError:
                pass  # a broken connection: Tornado's own write finds out and closes it
            if not data:
                return
        try:
            written = stream.write(data)
        except tornado.iostream.StreamClosedError:
            self.owner.lost()
            return
        self.unsent += len(data)
        written.add_done_callback(partial(self._sent, len(data)))

    def _sent(self, size: int, sent: "asyncio.Future[None]") -> None:
        """Count `size` bytes as sent, or forget the client if the write failed."""
        self.unsent -= size
        if sent.cancelled() or sent.exception() is not None:
            self.owner.lost()


def write_all(outgoing: Iterable[Outgoing]) -> None:
    """Write what each of these has queued (nothing, if a write came first)."""
    for queued in outgoing:
        if queued.frames:
            queued.write()


def write_soon(room: str, outgoing: list[Outgoing]) -> None:
    """Write what a broadcast queued on `room`'s sockets soon: one callback for all (`Pacer`)."""
    if outgoing:
        outgoing[0].pacer.write_soon(room, outgoing)


class Pacer:
    """When broadcasts are written: at the end of the loop tick, or, once messages come faster
    than they are written, after a rest of half as long as the last write-out took.

    Most of a write's cost is the kernel's send(), whatever it carries: to 1000
    clients, some 12 ms a write-out. Messages that come faster than that, each
    written on its own, would leave no time to read the next ones, and the
    latency would climb (the capacity climb in bench/README.md). So a write-out
    that carries more than one broadcast (they came while the last was being
    written) is followed by a rest (at most MAX_REST): the next one carries
    every message that came meanwhile, and a third of the time at least is
    left for reading. A write-out of one broadcast is not: a room whose
    messages come one at a time is written at once, every time.
    """

    __slots__ = ("clock", "waiting", "broadcasts", "resting_until")

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock  # the event loop's clock too
        self.waiting: dict[str, list[Outgoing]] = {}  # room -> its sockets at its latest broadcast
        self.broadcasts = 0  # since the last write-out
        self.resting_until = 0.0  # no write-out starts before this (by the clock)

    def write_soon(self, room: str, outgoing: list[Outgoing]) -> None:
        """Write what the room's sockets queued at the next write-out (its sockets as of now)."""
        if not self.waiting:
            loop = asyncio.get_running_loop()
            rest = self.resting_until - self.clock()
            if rest > 0:
                loop.call_later(rest, self.write_out)
            else:
                loop.call_soon(self.write_out)
        # The latest list has everyone: a socket the room forgot since is closing.
        self.waiting[room] = outgoing
        self.broadcasts += 1

    def write_out(self) -> None:
        """Write every waiting room's sockets; if more than one broadcast waited, rest after."""
        started = self.clock()
        waiting, self.waiting = self.waiting, {}
        behind, self.broadcasts = self.broadcasts > 1, 0
        for outgoing in waiting.values():
            write_all(outgoing)
        took = self.clock() - started
        self.resting_until = started + took + (min(took * REST_SHARE, MAX_REST) if behind else 0)
