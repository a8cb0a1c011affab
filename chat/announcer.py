"""RoomsAnnouncer: tell everyone which rooms are busy, at most once a second, only if it changed.

Every room that opens or empties changes the list that every page shows. A
classmate looping "connect, close" in a new room would otherwise send every
bystander two `rooms` events per loop; coalesced, they get at most one a
second, and none at all for a room that came and went within that second.
"""

import asyncio
from collections.abc import Callable

from chat import protocol
from chat.protocol import Event

EVERY = 1.0  # seconds between two `rooms` events at most


class RoomsAnnouncer:
    """Coalesce changes of the busy rooms into one `rooms` event per interval."""

    def __init__(
        self,
        send: Callable[[Event], None],
        every: float = EVERY,
        call_later: Callable[[float, Callable[[], None]], asyncio.Handle] | None = None,
    ) -> None:
        self.send = send  # the broadcast to every room (ChatSocket.broadcast_everywhere)
        self.every = every
        self.call_later = call_later  # None: the running loop's (tests pass their own)
        self.sent: list[str] | None = None  # the list everyone has now (None: not known)
        self.latest: list[str] | None = None  # the newest list, waiting for the timer
        self.timer: asyncio.Handle | None = None

    def update(self, rooms: list[str]) -> None:
        """Take the newest list of busy rooms; announce it now, or when the interval ends."""
        self.latest = rooms
        if self.timer is None:
            self.flush()

    def flush(self) -> None:
        """Announce the newest list if it differs from the last one sent, then wait an interval."""
        self.timer = None
        if self.latest is None or self.latest == self.sent:
            return
        self.sent = self.latest
        self.send(protocol.rooms(self.sent))
        call_later = self.call_later or asyncio.get_running_loop().call_later
        self.timer = call_later(self.every, self.flush)

    def stop(self) -> None:
        """Cancel the pending announcement (at shutdown)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
