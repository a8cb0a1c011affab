"""RedisHub: the rooms of a cluster, shared through Redis by every process on every host.

Each process is a node. What must be the same everywhere lives in Redis and
changes only inside Lua scripts (chat/lua/), one atomic step each: an entry of
a room's log (a message, say) takes the next id, joins the capped history and
is PUBLISHed in the same step, so every node hears a room's log in id order;
nicknames are unique across the cluster because they are claimed in a script,
and each online entry names the connection (`holder`) that may rename or free
it. The scripts publish events built here in Python (chat/cluster/templates.py),
filling in only what Redis assigns.

RedisHub answers what the chat socket asks (chat/hub.py's Hub) and keeps who
is on this node; the rest it hands to parts, each given what it needs when
built: streams.py (each room's log as this node delivers it), listener.py
(what the node hears, and catching up after an outage), heartbeat.py (this
node alive in the cluster, refused leaves run again), batches.py (the scripts
sent to Redis, in order), background.py (what nobody waits for). Redis gone
while running: posts fail at once with `unavailable`, the sockets stay open,
the listener starts again with back-off and catches up. A node that stops
lets its own people go.
"""

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from collections import Counter

from chat import nicknames, protocol, rules
from chat.announcer import RoomsAnnouncer
from chat.cluster import envelopes, templates
from chat.cluster.background import Background
from chat.cluster.batches import Batches
from chat.cluster.connection import (
    FAILURES,
    command_client,
    redact,
    subscription_client,
    unreachable,
)
from chat.cluster.heartbeat import Heartbeat
from chat.cluster.listener import Listener
from chat.cluster.scripts import ARRIVALS, CHANNEL, KNOWN, NODES, ROOMS, Scripts, node_key, room_key
from chat.cluster.streams import Streams
from chat.cluster.supervision import supervise
from chat.hub import Audience, Entry, Unavailable
from chat.protocol import Event

log = logging.getLogger(__name__)


class RedisHub:
    """Rooms shared by every node that points at the same Redis; see the module docstring."""

    def __init__(
        self,
        url: str,
        audience: Audience,
        announcer: RoomsAnnouncer,
        history: int,
        resume_limit: int,
        history_cap: int,
        presence_timeout: float,
        welcome_bytes: int,
    ) -> None:
        self.url = url  # may hold a password: name it only through redact()
        self.audience = audience
        self.announcer = announcer  # the busy rooms, coalesced to one event a second
        self.history = history
        self.resume_limit = resume_limit
        self.history_cap = history_cap
        self.presence_timeout = presence_timeout
        self.welcome_bytes = welcome_bytes  # the most history JSON one welcome carries
        self.node = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.node_key = node_key(self.node)
        self.redis = command_client(url)
        self.scripts = Scripts()
        self.joining: Counter[str] = Counter()  # sockets entering each room on this node
        self.present: dict[str, set[str]] = {}  # room -> holders of this node's nicknames
        self.batches = Batches(self.redis, self.scripts)  # everything it changes in Redis
        self.background = Background(url)  # announcements nobody waits for
        self.streams = Streams(self.redis, audience.broadcast, self.background.run)
        self.heartbeat = Heartbeat(self.redis, self.scripts, self.batches, self.node,
                                   presence_timeout, audience)
        self.listener = Listener(subscription_client(url), self.redis, self.scripts,
                                 self.streams, self.heartbeat, audience, self.announcer,
                                 self.replaced)
        self.running: list[asyncio.Task] = []

    async def start(self) -> None:
        """Load the scripts, subscribe and beat once, or raise Unavailable; then keep at it."""
        try:
            await self.scripts.load(self.redis)
            await self.listener.subscribe()
            await self.heartbeat.beat()
        except FAILURES as error:
            raise unreachable(self.url, error) from None
        self.running = [
            asyncio.create_task(supervise("listener", self.listener.listen, FAILURES)),
            asyncio.create_task(supervise("heartbeat", self.heartbeat.beat_forever, FAILURES)),
        ]
        log.info("Node %s joined the cluster at %s", self.node, redact(self.url))

    async def close(self) -> None:
        """Let go of every nickname this node holds, answered or not; leave and disconnect."""
        for task in self.running:
            task.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)
        await self.background.wait(timeout=2)
        try:  # queued behind the leaves of the clients that did answer the close
            freed = await self.batches.call("depart", [NODES, ROOMS, KNOWN],
                                    [CHANNEL, self.node, templates.LEAVE, templates.ROOMS])
            log.info("Node %s left the cluster, letting %d nicknames go", self.node, freed)
        except Unavailable as error:
            log.warning("Could not leave the cluster (%s); the other nodes let this node's "
                        "people go within %.0f s", error, self.presence_timeout)
        self.batches.closed = True
        await self.listener.close()
        await self.redis.aclose()

    # What the chat socket asks -------------------------------------------------

    async def enter(
        self, room_name: str, wanted: str | None, session: str | None, since: int | None,
        holder: str,
    ) -> Entry:
        """Claim a nickname across the cluster and build the welcome, ending where the stream is."""
        stream = self.streams.open(room_name)
        self.joining[room_name] += 1  # keeps the stream (and its messages) while we wait
        try:
            nick, takeover, newest, history, online, rooms, replaced, oldest = await self.claim(
                room_name, wanted, session, since, holder)
            try:
                history, newest = await self.streams.fit(
                    room_name, stream, json.loads(history), newest)
            except Exception:  # the nickname is claimed: free it, or nobody ever can
                self.background.run(self.heartbeat.release(room_name, nick, holder))
                raise
        except FAILURES as error:
            raise Unavailable(
                f"The chat cannot reach its Redis: {error}. Try again soon."
            ) from None
        else:
            here = self.present.setdefault(room_name, set())
            here.discard(replaced)  # the page's old connection here, if it was here
            here.add(holder)
        finally:
            self.joining[room_name] -= 1
            self.forget_if_empty(room_name)
        online = json.loads(online)
        self.listener.show(room_name, online)
        history, cut = protocol.fit_history(history, self.welcome_bytes)
        missing = since is not None and rules.missed(
            since, newest, oldest if oldest >= 0 else None, self.resume_limit)
        flags = rules.welcome_flags(since, newest, missing, cut)
        welcome = protocol.welcome(room_name, nick, online, json.loads(rooms), history, **flags)
        return Entry(nick, bool(takeover), welcome)

    async def claim(
        self, room_name: str, wanted: str | None, session: str | None, since: int | None,
        holder: str,
    ) -> list:
        """Run enter.lua: the nickname, whether it is a takeover, the newest id, the history,
        who is online and the busy rooms (JSON), the holder taken over from, the oldest id kept."""
        reply = await self.batches.call(
            "enter",
            [room_key(room_name, "online"), room_key(room_name, "next"),
             room_key(room_name, "history"), ROOMS, self.node_key, ARRIVALS, KNOWN],
            [self.node, session or "", -1 if since is None else since, self.history,
             self.resume_limit, room_name, CHANNEL, holder, templates.ROOMS,
             *candidates(wanted)],
        )
        if not reply:
            raise rules.every_name_taken()
        return reply

    def arrived(self, room_name: str, nick: str, takeover: bool) -> None:
        """Announce the newcomer to every node (not the same page back: nobody saw it leave)."""
        if takeover:
            return
        self.background.run(self.batches.call(
            "arrived", [room_key(room_name, "online")],
            [CHANNEL, templates.encoded(room_name), templates.join(nick)],
        ))

    def append(self, entry: Event, sender: str, ref: str | None) -> "asyncio.Future[int]":
        """Queue an entry for the next batch to Redis; every node broadcasts it when published."""
        room_name = entry["room"]
        pieces = templates.entry(entry, int(time.time() * 1000))
        keys = [room_key(room_name, "next"), room_key(room_name, "history"),
                room_key(room_name, f"ref:{len(sender)}:{sender}:{ref}") if ref else
                room_key(room_name, "next")]
        args = [CHANNEL, templates.encoded(room_name), *pieces, ref or "", self.history_cap,
                rules.REF_SECONDS]
        return self.batches.call("append", keys, args, reply_to_id)

    def typing(self, room_name: str, nick: str) -> None:
        """Publish a typing hint; nodes relay it to everyone in the room but `nick`."""
        envelope = {"room": room_name, "skip": nick, "event": protocol.typing(nick)}
        self.background.run(
            self.batches.call("publish", [], [CHANNEL, templates.encoded(envelope)]))

    async def rename(self, room_name: str, old: str, new: str, holder: str) -> None:
        """Change `holder`'s nickname across the cluster (every node announces it), or raise."""
        status = await self.batches.call(
            "rename", [room_key(room_name, "online"), self.node_key],
            [CHANNEL, room_name, nicknames.key(old), nicknames.key(new), new, holder,
             templates.encoded(protocol.renamed(old, new))],
        )
        if status == 0:
            raise rules.nick_taken(new)
        if status == -1:
            raise Unavailable("Your nickname was let go while Redis was away; reconnect.")
        if status == -2:
            raise rules.replaced()

    def leave(self, room_name: str, nick: str, holder: str) -> None:
        """Free `holder`'s nickname across the cluster; nothing if another connection holds it."""
        self.present.get(room_name, set()).discard(holder)
        self.forget_if_empty(room_name)
        if not self.batches.closed:  # once closed, the departure has let it go already
            self.background.run(self.heartbeat.release(room_name, nick, holder))

    # What the node hears about its own people ----------------------------------

    def replaced(self, envelope: envelopes.Replaced) -> None:
        """Close the old connection of a page that came back through another node."""
        if envelope.node != self.node:
            return
        self.present.get(envelope.room, set()).discard(envelope.holder)
        self.audience.close_replaced(envelope.room, envelope.nick_key)
        self.forget_if_empty(envelope.room)

    def forget_if_empty(self, room: str) -> None:
        """Forget a room's stream once nobody on this node is in it or entering it."""
        if not self.joining[room] and not self.present.get(room):
            self.joining.pop(room, None)
            self.present.pop(room, None)
            self.streams.forget(room)
            self.listener.forget(room)


def candidates(wanted: str | None) -> list[str]:
    """Return (key, nickname) pairs, flattened: the candidates of chat.rules, best first."""
    names = rules.candidates(rules.wanted_nick(wanted))
    return [part for name in names for part in (nicknames.key(name), name)]


def reply_to_id(reply: list[int]) -> int:
    """Return the entry's id from the append script's reply (id, whether it is new)."""
    return int(reply[0])

