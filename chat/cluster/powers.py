"""Powers: what a host's commands ask of a cluster beyond appending entries, read from Redis.

Who holds a nickname and at what level, one entry of the log and its author,
whether an address or a page is barred, whether a key is the host key, the
key presented, someone put out of a room (or of every room) on every node.
Each read goes through the node's queue of scripts (chat/cluster/batches.py),
behind what this node changed before it, but for the bars a handshake reads:
plain reads, which a Redis that holds back writes (CLIENT PAUSE WRITE, a
replica's sync) still answers. RedisHub hands these to `Powers`.
"""

import json
import time
from typing import Any

import redis.asyncio

from chat import hostkey, nicknames
from chat.cluster import envelopes, hostkeys, templates
from chat.cluster.background import Background
from chat.cluster.batches import Batches
from chat.cluster.connection import FAILURES
from chat.cluster.scripts import CHANNEL, SERVER_STATE, room_key
from chat.hub import Unavailable
from chat.moderation import HOST, MEMBER, OP, Person, Standing, forbidden
from chat.protocol import Event


class Powers:
    """The reads and orders of a host's commands, through this node's queue of scripts."""

    def __init__(self, client: redis.asyncio.Redis, batches: Batches, background: Background
                 ) -> None:
        self.client = client
        self.batches = batches
        self.background = background

    async def person(self, room: str, nick: str) -> Person | None:
        """Return who holds `nick` in the room now, at their level; None if nobody does."""
        found = await self.batches.call("person", [room_key(room, "online"),
                                                   room_key(room, "state")],
                                        [nicknames.key(nick)])
        if not found:
            return None
        seat, made = json.loads(found[0]), int(found[1])
        level = HOST if seat.get("keyed") else OP if made else MEMBER
        return Person(seat["nick"], nicknames.key(seat["nick"]), level,
                      seat.get("session") or None, seat.get("address", ""))

    async def entry(self, room: str, entry_id: int) -> tuple[Event, str | None] | None:
        """Return one entry of the room's log and its author; None if the log does not keep it."""
        found = await self.batches.call("entry", [room_key(room, "history"),
                                                  room_key(room, "authors")], [entry_id])
        return (json.loads(found[0]), found[1] or None) if found else None

    async def barred(self, room: str, address: str, session: str | None) -> str | None:
        """Return why this address or page may not come in now; a host's page always may."""
        kicks = [f"kick:addr:{address}", f"kick:session:{session or ''}"]
        bans = [f"ban:addr:{address}", f"ban:session:{session or ''}", f"host:{session or ''}"]
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.hmget(room_key(room, "state"), kicks)
                pipe.hmget(SERVER_STATE, bans)
                kicked, banned = await pipe.execute()
        except FAILURES as error:
            raise Unavailable(f"The chat cannot reach its Redis: {error}.") from None
        if session is not None and banned[2] is not None:
            return None
        standing = Standing(fields(dict(zip(kicks, kicked, strict=True))),
                            fields(dict(zip(bans, banned, strict=True))))
        return standing.barred(address, session, int(time.time() * 1000))

    async def is_host_key(self, candidate: object) -> bool:
        """Tell whether `candidate` is the host key Redis holds now, in constant time."""
        try:
            key = await hostkeys.current(self.client)
        except FAILURES as error:
            raise Unavailable(f"The chat cannot reach its Redis: {error}.") from None
        return hostkey.matches(candidate, key)

    async def present_key(self, room: str, nick: str, holder: str, key: object) -> list[str]:
        """Make `holder`'s connection the room's host if `key` is the host key; the hosts now."""
        if not await self.is_host_key(key):
            raise forbidden("That is not the host key.")
        hosts = await self.batches.call("keyed", [room_key(room, "online"), SERVER_STATE],
                                        [CHANNEL, room, nicknames.key(nick), holder,
                                         templates.HOSTS])
        return json.loads(hosts) if hosts else []

    def remove(self, room: str | None, person: Person, code: int, reason: str) -> None:
        """Have every node close `person`'s sockets: in `room`, or (None) in every room."""
        close = envelopes.Close(room, person.key, person.session, code, reason)
        envelope = templates.encoded(envelopes.closing(close))
        self.background.run(self.batches.call("publish", [], [CHANNEL, envelope]))


def fields(found: dict[str, str | None]) -> dict[str, Any]:
    """Return the fields Redis holds among `found` (name -> JSON text or None), decoded."""
    return {name: json.loads(value) for name, value in found.items() if value is not None}
