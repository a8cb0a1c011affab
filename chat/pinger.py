"""Pinger: one timer that pings every chat socket and drops the ones that stop answering.

Tornado's own `websocket_ping_interval` runs a ping coroutine per connection (a
task, its frame and a sleeping timer: about 1.5 KB each, idle or not); this
keeps one timer for the whole server instead. Each round's ping carries 8
random bytes, and only a pong that echoes them is an answer: a client that
sends pongs unasked is still found silent.
"""

import logging
import secrets
from collections.abc import Callable, Sequence
from typing import Protocol

import tornado.websocket
from tornado.ioloop import IOLoop

log = logging.getLogger(__name__)


class Pingable(Protocol):
    """What the pinger needs of a socket: ping it, see if it is closing, close it."""

    nick: str | None

    def ping(self, data: bytes) -> None:
        """Send a ping frame carrying `data` (raise WebSocketClosedError if closed)."""

    def closing(self) -> bool:
        """Tell whether the connection is closed or closing."""

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Close the connection."""


class Pinger:
    """Ping every socket each `interval` seconds; close those still silent `timeout` seconds later.

    An interval of 0 turns pings off; a timeout of 0 pings without ever closing.
    """

    def __init__(
        self, sockets: Callable[[], Sequence[Pingable]], interval: float, timeout: float
    ) -> None:
        self.sockets = sockets
        self.interval = interval
        self.timeout = min(timeout, interval)
        self.io_loop: IOLoop | None = None
        self.timer: object | None = None  # the one pending call: the next round or its check
        self.payload = b""  # what this round's pongs must carry
        self.silent: set[Pingable] = set()  # pinged this round, not answered yet

    def start(self) -> None:
        """Send the first pings `interval` seconds from now, on the current IOLoop."""
        if self.interval > 0:
            self.io_loop = IOLoop.current()
            self.schedule(self.interval, self.ping_all)

    def stop(self) -> None:
        """Cancel the pending round or check: no more pings."""
        if self.io_loop is not None and self.timer is not None:
            self.io_loop.remove_timeout(self.timer)
        self.timer = None
        self.silent.clear()

    def schedule(self, delay: float, callback: Callable[[], None]) -> None:
        """Make `callback` the one pending call, `delay` seconds from now."""
        assert self.io_loop is not None
        self.timer = self.io_loop.call_later(delay, callback)

    def ping_all(self) -> None:
        """Ping every open socket, then check for their answers after the timeout."""
        self.payload = secrets.token_bytes(8)
        self.silent = set()
        for socket in self.sockets():
            try:
                socket.ping(self.payload)
            except tornado.websocket.WebSocketClosedError:
                continue  # already closing: on_close forgets it
            self.silent.add(socket)
        if self.timeout > 0:
            self.schedule(self.timeout, self.drop_silent)
        else:
            self.schedule(self.interval, self.ping_all)

    def answered(self, socket: Pingable, data: bytes) -> None:
        """Take a pong: it answers this round's ping if it echoes its payload."""
        if data == self.payload:
            self.silent.discard(socket)

    def drop_silent(self) -> None:
        """Close each pinged socket that has not answered; the next round follows the interval."""
        silent, self.silent = self.silent, set()
        for socket in silent:
            if not socket.closing():
                log.warning("%s answered no ping in %g s; closing it", socket.nick, self.timeout)
                socket.close(reason="ping timed out")  # what Tornado's own pings sent
        self.schedule(self.interval - self.timeout, self.ping_all)
