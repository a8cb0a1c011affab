"""Streams: this node's copy of each room's log, delivered to its sockets in id order, each once.

A room with people on this node has a RoomStream (chat/sequencer.py). An
entry heard on the channel goes through it: a repeat is dropped, one that
arrives after a gap waits while the missing ids are read from the room's
history in Redis, and the ones now due are broadcast in order. A newcomer's
welcome is fitted to the stream here, and after an outage each stream reads
what it missed. RoomStream decides; this module does the reading.
"""

import json
import logging
from collections.abc import Callable, Coroutine
from typing import cast

import redis.asyncio

from chat.cluster.scripts import room_key
from chat.protocol import Event
from chat.sequencer import RoomStream

log = logging.getLogger(__name__)


class Streams:
    """The log streams of the rooms with people on this node, and what they fetch from Redis."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        broadcast: Callable[[str, Event], None],
        in_background: Callable[[Coroutine], None],
    ) -> None:
        self.client = client
        self.broadcast = broadcast  # to this node's sockets in one room
        self.in_background = in_background  # a gap is fetched while the node hears on
        self.rooms: dict[str, RoomStream] = {}  # rooms with people on this node
        self.filling: set[str] = set()  # rooms whose gap is being fetched

    def __contains__(self, room: str) -> bool:
        """Say whether the room has people on this node, and so a stream."""
        return room in self.rooms

    def open(self, room: str) -> RoomStream:
        """Return the room's stream, started if the room had none on this node."""
        return self.rooms.setdefault(room, RoomStream())

    def forget(self, room: str) -> None:
        """Drop the room's stream: nobody on this node is in the room any more."""
        self.rooms.pop(room, None)

    def receive(self, room: str, message: Event) -> None:
        """Pass a message through its room's stream; fetch what is missing before it."""
        self.deliver(room, self.rooms[room].receive(message))
        if self.rooms[room].gap() is not None and room not in self.filling:
            self.in_background(self.fill_gap(room))

    def deliver(self, room: str, messages: list[Event]) -> None:
        """Broadcast messages the room's stream released, in order."""
        for message in messages:
            self.broadcast(room, message)

    async def fill_gap(self, room: str) -> None:
        """Fetch the messages missing from a room's stream; skip the ones the history lost."""
        self.filling.add(room)
        try:
            while room in self.rooms and (gap := self.rooms[room].gap()) is not None:
                after, up_to = gap
                found = await self.read_after(room, after, up_to)
                stream = self.rooms.get(room)
                if stream is None:
                    return
                for message in found:
                    self.deliver(room, stream.receive(message))
                if stream.gap() == gap:  # trimmed from the capped history: give up on them
                    log.warning("Messages %d-%d of #%s are gone from the history", after + 1,
                                up_to, room)
                    self.deliver(room, stream.skip_gap())
        finally:
            self.filling.discard(room)

    async def read_after(self, room: str, after: int, up_to: int | None = None) -> list[Event]:
        """Return the stored messages of `room` with ids in (after, up_to], oldest first."""
        found = await self.client.zrangebyscore(
            room_key(room, "history"), f"({after}", "+inf" if up_to is None else up_to
        )
        return [json.loads(cast(str, message)) for message in found]  # decode_responses: text

    async def fit(
        self, room: str, stream: RoomStream, history: list[Event], newest: int
    ) -> tuple[list[Event], int]:
        """Fit the welcome's history, read up to id `newest`, to the room's stream (see RoomStream).

        Returns the history to send and the newest id read, which grows if
        the stream has moved on too far to fill the difference from memory.
        """
        while (completed := stream.complete(history, newest)) is None:
            history += await self.read_after(room, newest)  # rare: a burst meanwhile
            newest = history[-1]["id"] if history else newest
        return completed, newest

    async def catch_up(self) -> bool:
        """Deliver what each room's stream missed during an outage; True if Redis lost the history.

        A room whose next id went back means Redis lost its history: the
        stream starts again from there, and the caller has everyone rejoin.
        """
        lost = False
        for room, stream in list(self.rooms.items()):
            newest = int(await self.client.get(room_key(room, "next")) or 0)
            if stream.last is not None and newest < stream.last:
                stream.reset(newest)
                lost = True
            elif stream.last is not None and newest > stream.last:
                for message in await self.read_after(room, stream.last):
                    self.deliver(room, stream.receive(message))
        return lost
