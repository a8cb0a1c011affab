"""RedisHub: the rooms of a cluster, shared through Redis by every process on every host.

Each process is a node. What must be the same everywhere lives in Redis and
changes only inside Lua scripts (chat/lua/), one atomic step each: an entry of
a room's log (a message, say) takes the next id, joins the capped history and
is PUBLISHed in the same step, so every node hears a room's log in id order;
nicknames are unique across the cluster because they are claimed in a script,
and each online entry names the connection (`holder`) that may rename or free
it. The scripts publish events built here in Python (chat/cluster/templates.py),
filling in only what Redis assigns.

RedisHub answers what the chat socket asks (chat/hub.py's Hub); the work it
hands to parts (chat/cluster/__init__.py lists them), each given what it
needs when built. Redis gone while running: posts fail at once with
`unavailable`, the sockets stay open, the listener starts again with back-off
and catches up. A node that stops lets its own people go.
"""

import asyncio
import logging
import os
import secrets
import socket
import time

from chat import nicknames, protocol, rules
from chat.announcer import RoomsAnnouncer
from chat.cluster import connection, entrance, envelopes, hostkeys, templates
from chat.cluster.appending import append_call, reply_to_id
from chat.cluster.background import Background
from chat.cluster.batches import Batches
from chat.cluster.connection import FAILURES, redact, unreachable
from chat.cluster.heartbeat import Heartbeat
from chat.cluster.listener import Listener
from chat.cluster.people import People
from chat.cluster.powers import Powers
from chat.cluster.scripts import CHANNEL, Scripts, node_key, room_key
from chat.cluster.standings import Standings
from chat.cluster.streams import Streams
from chat.cluster.supervision import supervise
from chat.effects import NONE, Effects
from chat.hub import Audience, Entry, Unavailable
from chat.moderation import Person, Standing
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
        host_key: str | None = None,
        new_host_key: bool = False,
    ) -> None:
        self.url = url  # may hold a password: name it only through redact()
        self.audience = audience
        self.announcer = announcer  # the busy rooms, coalesced to one event a second
        self.limits = entrance.Limits(history, resume_limit, history_cap, welcome_bytes)
        self.presence_timeout = presence_timeout
        self.host_key = host_key  # settled in Redis by start() (chat/cluster/hostkeys.py)
        self.new_host_key = new_host_key
        self.node = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.node_key = node_key(self.node)
        self.redis = connection.command_client(url)
        self.scripts = Scripts()
        self.people = People(self.forget)  # who is on this node, room by room
        self.batches = Batches(self.redis, self.scripts)  # everything it changes in Redis
        self.background = Background(url)  # announcements nobody waits for
        self.standings = Standings(self.batches, audience.broadcast, self.background.run)
        self.streams = Streams(self.redis, self.standings.deliver, self.background.run)
        self.powers = Powers(self.redis, self.batches, self.background)
        self.heartbeat = Heartbeat(self.redis, self.scripts, self.batches, self.node,
                                   presence_timeout, audience)
        self.listener = Listener(connection.subscription_client(url), self.redis, self.scripts,
                                 self.streams, self.standings, self.heartbeat, audience,
                                 self.announcer, self.replaced)
        self.running: list[asyncio.Task] = []

    async def start(self) -> None:
        """Load the scripts, settle the host key, read the server's fields, subscribe and beat
        once, or raise Unavailable; then keep at it."""
        try:
            await self.scripts.load(self.redis)
            self.host_key = await hostkeys.settle(self.redis, self.host_key, self.new_host_key)
            await self.listener.subscribe()  # before the read: no ban goes unheard between
            await self.standings.read()
            await self.heartbeat.beat()
        except FAILURES as error:
            raise unreachable(self.url, error) from None
        self.running = [
            # Unavailable: Redis refused a read of the catch-up (through the node's queue).
            asyncio.create_task(supervise("listener", self.listener.listen,
                                          (*FAILURES, Unavailable))),
            asyncio.create_task(supervise("heartbeat", self.heartbeat.beat_forever, FAILURES)),
        ]
        log.info("Node %s joined the cluster at %s", self.node, redact(self.url))

    async def close(self) -> None:
        """Let go of every nickname this node holds, answered or not; leave and disconnect."""
        for task in self.running:
            task.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)
        await self.background.wait(timeout=2)
        await self.heartbeat.depart()
        await self.listener.close()
        await self.redis.aclose()

    # What the chat socket asks -------------------------------------------------

    async def enter(
        self, room_name: str, wanted: str | None, session: str | None, since: int | None,
        holder: str, address: str,
    ) -> Entry:
        """Claim a nickname across the cluster and build the welcome, ending where the stream is."""
        stream = self.streams.open(room_name)
        self.standings.open(room_name)
        with self.people.entering(room_name):  # keeps the stream (and its entries) meanwhile
            try:
                reply = await self.batches.call(*entrance.claim_call(
                    room_name, wanted, session, since, holder, address, self.node, self.limits))
                if not reply:
                    raise rules.every_name_taken()
                try:
                    claim = entrance.Claim.of(reply)
                    history, newest = await self.streams.fit(
                        room_name, stream, claim.history, claim.newest)
                    self.standings.offer(room_name, claim.fields, claim.newest)
                except Exception:  # the nickname is claimed: free it, or nobody ever can
                    self.background.run(self.heartbeat.release(room_name, reply[0], holder))
                    raise
            except FAILURES as error:
                raise Unavailable(
                    f"The chat cannot reach its Redis: {error}. Try again soon.") from None
            self.people.came(room_name, holder, claim.replaced)
        self.listener.show(room_name, claim.online)
        # Entries waiting for the fields they change reach this page live, once they are read.
        waiting = self.standings.waiting_from(room_name)
        welcome = entrance.welcome(room_name, claim, history, newest, since, waiting,
                                   self.standings.standing(room_name), self.limits)
        return Entry(claim.nick, claim.takeover, welcome)

    async def barred(self, room_name: str, address: str, session: str | None) -> str | None:
        """Return why this address or page may not come into the room now (kicked, banned)."""
        return await self.powers.barred(room_name, address, session)

    def arrived(self, room_name: str, nick: str, takeover: bool) -> None:
        """Announce the newcomer to every node (not the same page back: nobody saw it leave),
        then the hosts, if it is one."""
        self.background.run(self.batches.call(
            "arrived", [room_key(room_name, "online"), room_key(room_name, "state")],
            [CHANNEL, templates.encoded(room_name), templates.join(nick), int(takeover),
             nicknames.key(nick), templates.HOSTS],
        ))

    def append(
        self, entry: Event, sender: str, ref: str | None, effects: Effects = NONE,
        author: str | None = None,
    ) -> "asyncio.Future[int]":
        """Queue an entry and its effects for the next batch; every node broadcasts it when
        published."""
        name, keys, args = append_call(entry, sender, ref, effects, author,
                                       int(time.time() * 1000), self.limits.history_cap)
        return self.batches.call(name, keys, args, reply_to_id)

    def standing(self, room_name: str) -> Standing:
        """Return the room's standing as this node knows it (chat/cluster/standings.py)."""
        return self.standings.standing(room_name)

    def wait_to_post(self, room_name: str, nick: str, every: int) -> float:
        """Return the seconds `nick` must wait under slow mode; 0: it may, and it is noted."""
        return self.standings.wait_to_post(room_name, nicknames.key(nick), every,
                                           int(time.time() * 1000))

    async def person(self, room_name: str, nick: str) -> Person | None:
        """Return who holds `nick` in the room now, None if nobody does."""
        return await self.powers.person(room_name, nick)

    async def entry(self, room_name: str, entry_id: int) -> tuple[Event, str | None] | None:
        """Return one entry of the room's log and its author, None if it is not kept."""
        return await self.powers.entry(room_name, entry_id)

    async def transcript(self, room_name: str) -> list[Event]:
        """Return every entry the room's log keeps, oldest first."""
        return await self.streams.read_after(room_name, 0)

    async def is_host_key(self, candidate: object) -> bool:
        """Tell whether `candidate` is the host key Redis holds now, in constant time."""
        return await self.powers.is_host_key(candidate)

    async def present_key(
        self, room_name: str, nick: str, holder: str, key: object
    ) -> list[str]:
        """Make `holder`'s connection the room's host if `key` is the host key; the hosts now."""
        return await self.powers.present_key(room_name, nick, holder, key)

    def remove(self, room_name: str | None, person: Person, code: int, reason: str) -> None:
        """Close `person`'s connections in `room_name`, or in every room (None), on every node."""
        self.powers.remove(room_name, person, code, reason)

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
             templates.encoded(protocol.renamed(old, new)), templates.HOSTS],
        )
        if status == 0:
            raise rules.nick_taken(new)
        if status == -1:
            raise Unavailable("Your nickname was let go while Redis was away; reconnect.")
        if status == -2:
            raise rules.replaced()

    def leave(self, room_name: str, nick: str, holder: str) -> None:
        """Free `holder`'s nickname across the cluster; nothing if another connection holds it."""
        self.people.went(room_name, holder)
        if not self.batches.closed:  # once closed, the departure has let it go already
            self.background.run(self.heartbeat.release(room_name, nick, holder))

    # What the node hears about its own people ----------------------------------

    def replaced(self, envelope: envelopes.Replaced) -> None:
        """Close the old connection of a page that came back through another node."""
        if envelope.node != self.node:
            return
        self.audience.close_replaced(envelope.room, envelope.nick_key)
        self.people.went(envelope.room, envelope.holder)

    def forget(self, room: str) -> None:
        """Forget a room's parts here: nobody on this node is in it or entering it."""
        self.streams.forget(room)
        self.standings.forget(room)
        self.listener.forget(room)

