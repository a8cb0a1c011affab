"""RedisHub: the rooms of a cluster, shared through Redis by every process on every host.

Each process is a node. What must be the same everywhere lives in Redis and
changes only inside Lua scripts (chat/lua/), one atomic step each: an entry of
a room's log (a message, say) takes the next id, joins the capped history and
is PUBLISHed in the same step, so every node hears a room's log in id order;
nicknames are unique across the cluster because they are claimed in a script,
and each online entry names the connection (`holder`) that may rename or free
it. The scripts publish events built here in Python (chat/cluster/templates.py),
filling in only what Redis assigns. Every node subscribes to one channel and
hands what it hears to its own sockets' broadcast loop, through a RoomStream
per room that drops repeats and fetches anything lost in a gap.

Redis gone while running: posts fail at once with `unavailable`, the sockets
stay open, the listener starts again with back-off, and once it is back every
room's stream catches up from the history and every room's online list is
corrected. Each node beats a heartbeat; the people of a node silent for
`presence_timeout` seconds, or gone from the node list, are let go by the
others, and a node that stops lets its own people go.
"""

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from collections import Counter
from collections.abc import Coroutine
from typing import Any, cast

from chat import nicknames, protocol, rules
from chat.announcer import RoomsAnnouncer
from chat.cluster import envelopes, templates
from chat.cluster.batches import Batches
from chat.cluster.connection import (
    FAILURES,
    command_client,
    describe,
    redact,
    subscription_client,
    unreachable,
)
from chat.cluster.presence import ShownOnline
from chat.cluster.scripts import (
    ARRIVALS,
    CHANNEL,
    KNOWN,
    NODES,
    ROOMS,
    Scripts,
    node_key,
    room_key,
)
from chat.cluster.supervision import supervise
from chat.hub import Audience, Entry, Unavailable
from chat.occasional import OccasionalWarning
from chat.protocol import Event
from chat.sequencer import RoomStream

log = logging.getLogger(__name__)

BAD_PAYLOADS_EVERY = 60.0  # seconds between two warnings about payloads we did not send


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
        self.subscriber = subscription_client(url)
        self.scripts = Scripts()
        self.streams: dict[str, RoomStream] = {}  # rooms with people on this node
        self.shown: dict[str, ShownOnline] = {}  # what this node's pages show as online
        self.joining: Counter[str] = Counter()  # sockets entering each room on this node
        self.present: dict[str, set[str]] = {}  # room -> holders of this node's nicknames
        self.batches = Batches(self.redis, self.scripts)  # everything it changes in Redis
        self.filling: set[str] = set()  # rooms whose gap is being fetched
        self.tasks: set[asyncio.Task] = set()  # announcements under way
        self.unreleased: set[tuple[str, str, str]] = set()  # (room, nick, holder) to free later
        self.pubsub: Any = None  # redis.asyncio PubSub, once subscribed
        self.resubscribe = False  # the subscription failed: events may have been missed
        self.bad_payloads = OccasionalWarning(log, BAD_PAYLOADS_EVERY)
        self.running: list[asyncio.Task] = []

    async def start(self) -> None:
        """Load the scripts, subscribe and beat once, or raise Unavailable; then keep at it."""
        try:
            await self.scripts.load(self.redis)
            await self.subscribe()
            await self.beat()
        except FAILURES as error:
            raise unreachable(self.url, error) from None
        self.running = [
            asyncio.create_task(supervise("listener", self.listen, FAILURES)),
            asyncio.create_task(supervise("heartbeat", self.beat_forever, FAILURES)),
        ]
        log.info("Node %s joined the cluster at %s", self.node, redact(self.url))

    async def close(self) -> None:
        """Let go of every nickname this node holds, answered or not; leave and disconnect."""
        for task in self.running:
            task.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=2)
        try:  # queued behind the leaves of the clients that did answer the close
            freed = await self.batches.call("depart", [NODES, ROOMS, KNOWN],
                                    [CHANNEL, self.node, templates.LEAVE, templates.ROOMS])
            log.info("Node %s left the cluster, letting %d nicknames go", self.node, freed)
        except Unavailable as error:
            log.warning("Could not leave the cluster (%s); the other nodes let this node's "
                        "people go within %.0f s", error, self.presence_timeout)
        self.batches.closed = True
        if self.pubsub is not None:
            await self.pubsub.aclose()
        await self.subscriber.aclose()
        await self.redis.aclose()

    # What the chat socket asks -------------------------------------------------

    async def enter(
        self, room_name: str, wanted: str | None, session: str | None, since: int | None,
        holder: str,
    ) -> Entry:
        """Claim a nickname across the cluster and build the welcome, ending where the stream is."""
        stream = self.streams.setdefault(room_name, RoomStream())
        self.joining[room_name] += 1  # keeps the stream (and its messages) while we wait
        try:
            nick, takeover, newest, history, online, rooms, replaced, oldest = await self.claim(
                room_name, wanted, session, since, holder)
            try:
                history, newest = await self.fit(room_name, stream, json.loads(history), newest)
            except Exception:  # the nickname is claimed: free it, or nobody ever can
                self.in_background(self.release(room_name, nick, holder))
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
        self.shown.setdefault(room_name, ShownOnline(online))
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

    async def fit(
        self, room_name: str, stream: RoomStream, history: list[Event], newest: int
    ) -> tuple[list[Event], int]:
        """Fit the welcome's history, read up to id `newest`, to the room's stream (see RoomStream).

        Returns the history to send and the newest id read, which grows if
        the stream has moved on too far to fill the difference from memory.
        """
        while (completed := stream.complete(history, newest)) is None:
            history += await self.read_after(room_name, newest)  # rare: a burst meanwhile
            newest = history[-1]["id"] if history else newest
        return completed, newest

    def arrived(self, room_name: str, nick: str, takeover: bool) -> None:
        """Announce the newcomer to every node (not the same page back: nobody saw it leave)."""
        if takeover:
            return
        self.in_background(self.batches.call(
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
        self.in_background(self.batches.call("publish", [], [CHANNEL, templates.encoded(envelope)]))

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
            self.in_background(self.release(room_name, nick, holder))

    async def release(self, room_name: str, nick: str, holder: str) -> None:
        """Run the leave script; if Redis refuses, keep it for the heartbeat to retry."""
        try:
            await self.batches.call(
                "leave", [room_key(room_name, "online"), ROOMS, self.node_key],
                [CHANNEL, room_name, nicknames.key(nick), holder, templates.LEAVE,
                 templates.ROOMS],
            )
        except Unavailable:
            self.unreleased.add((room_name, nick, holder))
            raise

    # What the node hears ------------------------------------------------------------

    async def subscribe(self) -> None:
        """Subscribe to the cluster's channel (a fresh connection each time)."""
        if self.pubsub is not None:
            await self.pubsub.aclose()
        self.pubsub = self.subscriber.pubsub(ignore_subscribe_messages=True)
        await self.pubsub.subscribe(CHANNEL)

    async def listen(self) -> None:
        """Hear the channel until something fails; after a failure, resubscribe and catch up first.

        Runs under `supervise`, which logs the failure and starts it again.
        """
        if self.resubscribe:
            await self.subscribe()
            await self.catch_up()
            self.resubscribe = False
            log.info("Resubscribed to %s and caught up", CHANNEL)
        try:
            while True:
                message = await self.pubsub.get_message(timeout=None)  # until one comes
                if message is not None:
                    self.hear(message["data"])
        except Exception:
            self.resubscribe = True  # whatever broke, events may go unheard meanwhile
            raise

    def hear(self, data: bytes) -> None:
        """Deliver one published payload; skip, and report briefly, one that no node sent."""
        try:
            envelope = envelopes.parse(data)
        except envelopes.BadEnvelope as error:
            self.bad_payloads.warn("Skipped a payload on %s that no node sent: %s", CHANNEL, error)
            return
        match envelope:
            case envelopes.Rooms(rooms):
                self.announcer.update(rooms)
            case envelopes.Replaced():
                self.replaced(envelope)
            case envelopes.RoomEvent(room, event, skip) if room in self.streams:
                if protocol.is_entry(event):
                    self.receive(room, event)
                    return
                if room in self.shown:
                    self.shown[room].apply(event)
                self.audience.broadcast(room, event, skip_nick=skip)

    def replaced(self, envelope: envelopes.Replaced) -> None:
        """Close the old connection of a page that came back through another node."""
        if envelope.node != self.node:
            return
        self.present.get(envelope.room, set()).discard(envelope.holder)
        self.audience.close_replaced(envelope.room, envelope.nick_key)
        self.forget_if_empty(envelope.room)

    def receive(self, room: str, message: Event) -> None:
        """Pass a message through its room's stream; fetch what is missing before it."""
        self.deliver(room, self.streams[room].receive(message))
        if self.streams[room].gap() is not None and room not in self.filling:
            self.in_background(self.fill_gap(room))

    def deliver(self, room: str, messages: list[Event]) -> None:
        """Broadcast messages the room's stream released, in order."""
        for message in messages:
            self.audience.broadcast(room, message)

    async def fill_gap(self, room: str) -> None:
        """Fetch the messages missing from a room's stream; skip the ones the history lost."""
        self.filling.add(room)
        try:
            while room in self.streams and (gap := self.streams[room].gap()) is not None:
                after, up_to = gap
                found = await self.read_after(room, after, up_to)
                stream = self.streams.get(room)
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
        found = await self.redis.zrangebyscore(
            room_key(room, "history"), f"({after}", "+inf" if up_to is None else up_to
        )
        return [json.loads(cast(str, message)) for message in found]  # decode_responses: text

    async def catch_up(self) -> None:
        """After an outage: deliver what each room missed, correct who is online, free leavers.

        If Redis lost the history, everyone reconnects instead.
        """
        lost = False
        for room, stream in list(self.streams.items()):
            newest = int(await self.redis.get(room_key(room, "next")) or 0)
            if stream.last is not None and newest < stream.last:
                stream.reset(newest)
                lost = True
            elif stream.last is not None and newest > stream.last:
                for message in await self.read_after(room, stream.last):
                    self.deliver(room, stream.receive(message))
        if lost:
            await self.rejoin_everyone("Redis lost the chat's history")
            return
        await self.correct_presence()
        await self.release_missed()  # after the correction, so no page hears a leave twice

    async def correct_presence(self) -> None:
        """Send each room the joins and leaves its pages missed, and everyone the busy rooms."""
        rooms = list(self.shown)
        reads: list[tuple[str, list, list]] = [
            ("online", [room_key(room, "online")], []) for room in rooms
        ]
        lists = await self.scripts.run_batch(self.redis, reads) if reads else []
        for room, online in zip(rooms, lists, strict=True):
            if isinstance(online, Exception):
                raise online
            if room in self.shown:
                for event in self.shown[room].correct(json.loads(online)):
                    self.audience.broadcast(room, event)
        busy = await self.redis.smembers(ROOMS)
        self.announcer.update(sorted(cast(set[str], busy)))  # decode_responses: text

    # Presence ------------------------------------------------------------------------

    async def release_missed(self) -> None:
        """Run again the leaves Redis refused; the ones it refuses again wait for the next time."""
        for missed in list(self.unreleased):
            self.unreleased.discard(missed)
            try:
                await self.release(*missed)
            except Unavailable as error:  # kept in `unreleased` by release()
                log.warning("Redis still refuses %d leaves (%s); retrying with the next "
                            "heartbeat", len(self.unreleased), error)
                return

    async def beat(self) -> bool:
        """Tell Redis this node is alive and let gone nodes' people go; False if we were let go."""
        known = await self.scripts.run(
            self.redis, "heartbeat", [NODES, ROOMS, KNOWN],
            [CHANNEL, self.node, int(self.presence_timeout * 1000), templates.LEAVE,
             templates.ROOMS],
        )
        return known == 1

    async def beat_forever(self) -> None:
        """Beat a few times per presence timeout; if this node was let go, everyone rejoins.

        Runs under `supervise`: a failed beat is logged and the loop starts again.
        """
        while True:
            await asyncio.sleep(self.presence_timeout / 3)  # the heartbeat's period
            known = await self.beat()
            await self.release_missed()
            if not known:
                await self.rejoin_everyone("this node was silent too long and was let go")

    async def rejoin_everyone(self, why: str) -> None:
        """Close every socket here with 1012 so the pages reconnect, resume and rejoin."""
        log.warning("Asking every client of this node to reconnect: %s", why)
        await self.audience.close_all(1012, "The chat restarted; reconnecting.", grace=0)

    def forget_if_empty(self, room: str) -> None:
        """Forget a room's stream once nobody on this node is in it or entering it."""
        if not self.joining[room] and not self.present.get(room):
            self.joining.pop(room, None)
            self.present.pop(room, None)
            self.streams.pop(room, None)
            self.shown.pop(room, None)

    def in_background(self, work: Coroutine | asyncio.Future) -> None:
        """Run an announcement without waiting for it; log it if Redis refuses."""
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.finished)

    def finished(self, task: asyncio.Future) -> None:
        """Forget a finished announcement, logging the failure if it failed."""
        self.tasks.discard(task)
        failure = None if task.cancelled() else task.exception()
        if isinstance(failure, Exception):
            log.warning("Could not announce to the cluster: %s", describe(failure, self.url))


def candidates(wanted: str | None) -> list[str]:
    """Return (key, nickname) pairs, flattened: the candidates of chat.rules, best first."""
    names = rules.candidates(rules.wanted_nick(wanted))
    return [part for name in names for part in (nicknames.key(name), name)]


def reply_to_id(reply: list[int]) -> int:
    """Return the entry's id from the append script's reply (id, whether it is new)."""
    return int(reply[0])

