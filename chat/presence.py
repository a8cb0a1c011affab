"""Presence: a room's join and leave events of a moment, sent to everyone together.

A join told to everyone costs a write per socket in the room; in a crowd
joining at once that is the room's size for every join. Gathered for a
moment that grows with the room (WAIT_PER_PERSON, at most MAX_WAIT), the
joins and leaves go out as their usual frames, in order, with one queue per
socket for all of them: a crowd of 2000 costs a few rounds of writes, not
one per join (see docs/protocol.md: a join may name someone your welcome
already listed). Any other event for the room flushes them first, so
nothing overtakes them.
"""

import asyncio

from chat.hub import Audience
from chat.protocol import Event

# How long a join or leave waits for others, per person in the room, and at most: a
# flush is a write to each of them, so this bounds presence to ~10 % of the time.
WAIT_PER_PERSON = 0.0001
MAX_WAIT = 0.25


class Presence:
    """The join and leave events waiting to go out together, room by room."""

    def __init__(self, audience: Audience) -> None:
        self.audience = audience
        self.waiting: dict[str, list[Event]] = {}  # room -> its events, oldest first

    def announce(self, room: str, event: Event) -> None:
        """Send a join or leave to the room soon, with the others of the moment (in 3 ms in a
        room of 30, in 0.2 s in a room of 2000)."""
        events = self.waiting.get(room)
        if events is None:
            self.waiting[room] = events = []
            wait = min(event["online"] * WAIT_PER_PERSON, MAX_WAIT)
            asyncio.get_running_loop().call_later(wait, self.flush, room)
        events.append(event)

    def flush(self, room: str) -> None:
        """Send the room's waiting events now, if it has any (before anything else for it)."""
        events = self.waiting.pop(room, None)
        if events:
            self.audience.broadcast_many(room, events)
