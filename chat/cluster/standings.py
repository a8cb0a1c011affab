"""Standings: the fields of each room this node has people in, and the server's, kept in step.

A command judges a post or a host's frame at once (`Hub.standing` does not
wait), so each node keeps a copy of the standing fields (chat/moderation.py)
of its rooms and of the server. A room's copy comes with its first welcome
here (enter.lua reads it), and is read again (fields.lua) when the room's
stream releases an entry that changes fields (every kind of chat/hosting.py)
newer than the copy. That entry, and everything after it in the room, waits
until the copy is read: so no page here is shown a lock while the node would
still let its posts through, and the room's events keep their order.

A room's fields change only with its entries, so the room's newest id, read
in the same step as them, says how new a copy is: a copy never gives way to
an older one, and an entry the copy already covers (read a moment later than
the entry was appended) waits for nothing. The server's fields (bans) come
with every read, and are read again whenever a ban or an unban is heard in a
room nobody here is in, and after an outage. The host key is never kept here:
it is read from Redis each time one is presented (chat/cluster/hostkeys.py).
"""

import json
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from chat import hosting, protocol
from chat.cluster.batches import Batches
from chat.cluster.hostkeys import HOST_KEY
from chat.cluster.scripts import SERVER_STATE, room_key
from chat.moderation import PostTimes, Standing
from chat.protocol import Event

CHANGES_FIELDS = frozenset(sample["type"] for sample in hosting.ANNOUNCED
                           if protocol.is_entry(sample))
CHANGES_SERVER = frozenset({"ban", "unban"})  # the entries whose fields are server-wide


@dataclass
class Copy:
    """One room's fields as this node knows them, and the room's events waiting for a read."""

    fields: dict[str, Any] = field(default_factory=dict)
    read_at: int = -1  # the room's newest id when they were read; -1: never read
    waiting: deque[tuple[Event, str | None]] | None = None  # (event, skip), until read
    post_times: PostTimes = field(default_factory=PostTimes)  # its people here, for slow mode


class Standings:
    """This node's copies of the standing fields, and the room events that wait for them."""

    def __init__(
        self,
        batches: Batches,
        broadcast: Callable[[str, Event, str | None], None],
        in_background: Callable[[Coroutine], None],
    ) -> None:
        self.batches = batches  # reads queue behind this node's own writes
        self.broadcast = broadcast  # to this node's sockets in one room
        self.in_background = in_background
        self.rooms: dict[str, Copy] = {}  # rooms with people on this node, or entering it
        self.server: dict[str, Any] = {}

    def open(self, room: str) -> None:
        """Keep a copy of the room's fields (unread until a welcome or a read brings them)."""
        self.rooms.setdefault(room, Copy())

    def forget(self, room: str) -> None:
        """Drop the room's copy: nobody on this node is in it any more."""
        self.rooms.pop(room, None)

    def standing(self, room: str) -> Standing:
        """Return the room's standing as this node knows it now."""
        copy = self.rooms.get(room)
        return Standing(MappingProxyType(copy.fields if copy else {}),
                        MappingProxyType(self.server))

    def wait_to_post(self, room: str, nick_key: str, every: int, now_ms: int) -> float:
        """Return the seconds this person must wait under slow mode; 0: post, and it is noted."""
        return self.rooms.setdefault(room, Copy()).post_times.wait(nick_key, every, now_ms)

    def offer(self, room: str, flat: list, newest: int) -> None:
        """Take the fields a welcome read (when the newest id was `newest`), if they are newer."""
        self.take(room, decode(flat), newest)

    def take(self, room: str, fields: dict[str, Any], newest: int) -> None:
        """Keep fields read when the room's newest id was `newest`, unless the copy is newer."""
        copy = self.rooms.get(room)
        if copy is not None and newest >= copy.read_at:
            copy.fields, copy.read_at = fields, newest

    def waiting_from(self, room: str) -> int | None:
        """Return the id of the room's first entry waiting for a read; None if none waits."""
        copy = self.rooms.get(room)
        waiting = copy.waiting if copy is not None else None
        return next((event["id"] for event, _ in waiting or () if protocol.is_entry(event)), None)

    def deliver(self, room: str, event: Event, skip: str | None = None) -> None:
        """Send a room's event to its sockets here, after reading the fields it changes."""
        copy = self.rooms.get(room)
        if copy is not None and copy.waiting is None and stale(copy, event):
            copy.waiting = deque()
            self.in_background(self.read_then_deliver(room, copy))
        if copy is not None and copy.waiting is not None:
            copy.waiting.append((event, skip))
        else:
            self.broadcast(room, event, skip)

    async def read_then_deliver(self, room: str, copy: Copy) -> None:
        """Read the room's fields, then deliver what waited; read again for a newer change."""
        try:
            while copy.waiting:
                first = copy.waiting[0]
                await self.read(room)
                self.release(room, copy, until_stale=True)
                if copy.waiting and copy.waiting[0] is first:  # Redis lost the entry: stop
                    break
        finally:  # Redis refused: what waited goes out anyway, and the next change reads again
            self.release(room, copy, until_stale=False)
            copy.waiting = None

    def release(self, room: str, copy: Copy, until_stale: bool) -> None:
        """Broadcast the events that waited, up to one the copy does not cover yet."""
        while copy.waiting and not (until_stale and stale(copy, copy.waiting[0][0])):
            event, skip = copy.waiting.popleft()
            if self.rooms.get(room) is copy:  # else the room emptied here: nobody to tell
                self.broadcast(room, event, skip)

    async def read(self, room: str | None = None) -> None:
        """Read the server's fields and (given a room) the room's, in one step; keep them."""
        keys = [SERVER_STATE]
        if room is not None:
            keys += [room_key(room, "next"), room_key(room, "state")]
        server, newest, fields = await self.batches.call("fields", keys, [])
        # The batches answer in the order they were sent: the last read answered is the newest.
        self.server = {name: value for name, value in decode(server).items() if name != HOST_KEY}
        if room is not None:
            self.take(room, decode(fields), int(newest))

    def heard_elsewhere(self, event: Event) -> None:
        """Read the server's fields again after a ban or an unban in a room nobody here is in."""
        if event["type"] in CHANGES_SERVER and protocol.is_entry(event):
            self.in_background(self.read())

    async def read_all(self) -> None:
        """Read every copy again (after an outage, when changes may have gone unheard)."""
        await self.read()
        for room in list(self.rooms):
            await self.read(room)


def stale(copy: Copy, event: Event) -> bool:
    """Tell whether `event` is an entry that changes fields, newer than the copy."""
    return event["type"] in CHANGES_FIELDS and protocol.is_entry(event) and (
        event["id"] > copy.read_at)


def decode(flat: list) -> dict[str, Any]:
    """Return fields as HGETALL lists them (field, value, field, value...), values decoded."""
    return {name: json.loads(value) for name, value in zip(flat[::2], flat[1::2], strict=True)}
