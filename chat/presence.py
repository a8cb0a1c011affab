"""Presence: a room's join and leave events of one loop tick, sent to everyone together.

A join told to everyone costs a write per socket in the room; in a crowd
joining at once that is the room's size for every join. Gathered until the
end of the loop tick, the tick's joins and leaves go out as their usual
frames, in order, with one queue per socket for all of them (see
docs/protocol.md: a join may name someone your welcome already listed).
Any other event for the room flushes them first, so nothing overtakes them.
"""

import asyncio

from chat.hub import Audience
from chat.protocol import Event


class Presence:
    """The join and leave events waiting for the end of this loop tick, room by room."""

    def __init__(self, audience: Audience) -> None:
        self.audience = audience
        self.waiting: dict[str, list[Event]] = {}  # room -> its events, oldest first

    def announce(self, room: str, event: Event) -> None:
        """Send a join or leave to the room at the end of this loop tick, with the tick's others."""
        events = self.waiting.get(room)
        if events is None:
            self.waiting[room] = events = []
            asyncio.get_running_loop().call_soon(self.flush, room)
        events.append(event)

    def flush(self, room: str) -> None:
        """Send the room's waiting events now, if it has any (before anything else for it)."""
        events = self.waiting.pop(room, None)
        if events:
            self.audience.broadcast_many(room, events)
