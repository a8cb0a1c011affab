"""Pinger: one timer that pings every chat socket and drops the ones that stop answering.

Tornado's own `websocket_ping_interval` runs a ping coroutine per connection (a
task, its frame and a sleeping timer: about 1.5 KB each, idle or not); this
keeps one timer for the whole server instead.
"""

import logging
import secrets
from collections.abc import Callable
from functools import partial

import tornado.websocket
from tornado.ioloop import IOLoop

from chat.handlers import ChatSocket

log = logging.getLogger(__name__)


class Pinger:
    """Ping every socket each `interval` seconds; close those still silent `timeout` seconds later.

    An interval of 0 turns pings off; a timeout of 0 pings without ever closing.
    """

    def __init__(
        self, sockets: Callable[[], list[ChatSocket]], interval: float, timeout: float
    ) -> None:
        self.sockets = sockets
        self.interval = interval
        self.timeout = min(timeout, interval)
        self.io_loop: IOLoop | None = None
        self.timer: object | None = None  # the one pending call: the next round or its check

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

    def schedule(self, delay: float, callback: Callable[[], None]) -> None:
        """Make `callback` the one pending call, `delay` seconds from now."""
        assert self.io_loop is not None
        self.timer = self.io_loop.call_later(delay, callback)

    def ping_all(self) -> None:
        """Ping every open socket, then check for their answers after the timeout."""
        pinged = []
        payload = secrets.token_bytes(8)  # a pong must echo it: an unasked pong proves nothing
        for socket in self.sockets():
            try:
                socket.ping(payload)
            except tornado.websocket.WebSocketClosedError:
                continue  # already closing: on_close forgets it
            pinged.append(socket)
        if self.timeout > 0:
            self.schedule(self.timeout, partial(self.drop_silent, pinged))
        else:
            self.schedule(self.interval, self.ping_all)

    def drop_silent(self, pinged: list[ChatSocket]) -> None:
        """Close each pinged socket that has not answered; the next round follows the interval."""
        for socket in pinged:
            closing = socket.ws_connection is None or socket.ws_connection.is_closing()
            if not socket.answered and not closing:
                log.warning("%s answered no ping in %g s; closing it", socket.nick, self.timeout)
                socket.close(reason="ping timed out")  # what Tornado's own pings sent
        self.schedule(self.interval - self.timeout, self.ping_all)
