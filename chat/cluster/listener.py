"""Listener: what this node hears on the cluster's channel, and catching up after it heard nothing.

Every node subscribes to one channel (a connection of its own). Each payload
is checked (chat/cluster/envelopes.py) and handed on: a room's log entry to
its stream (chat/cluster/streams.py), any other room event to the room's
sockets (behind the entries waiting for the room's fields to be read:
chat/cluster/standings.py), the busy rooms to the announcer, a host's order
to close someone's sockets to the sockets. The listener also keeps the online
list each room's pages were shown (chat/cluster/presence.py), by applying the
events it hands them.

Pub/sub delivers nothing while the subscription is down. So once a failed
listener is subscribed again it catches up before hearing on: every room's
stream reads what it missed, every copy of the fields is read again, every
online list is compared with Redis and the difference sent as joins and
leaves, each room is sent its hosts again, and the leaves Redis refused are
run again. If Redis lost the
history, every page reconnects instead.
"""

import json
import logging
from collections.abc import Callable
from typing import Any, cast

import redis.asyncio

from chat import hosting, protocol
from chat.announcer import RoomsAnnouncer
from chat.cluster import envelopes
from chat.cluster.heartbeat import Heartbeat
from chat.cluster.presence import ShownOnline
from chat.cluster.scripts import CHANNEL, ROOMS, Scripts, room_key
from chat.cluster.standings import Standings
from chat.cluster.streams import Streams
from chat.hub import Audience
from chat.occasional import OccasionalWarning

log = logging.getLogger(__name__)

BAD_PAYLOADS_EVERY = 60.0  # seconds between two warnings about payloads we did not send


class Listener:
    """The node's subscription to the channel, and what its pages were shown as online."""

    def __init__(
        self,
        subscriber: redis.asyncio.Redis,
        client: redis.asyncio.Redis,
        scripts: Scripts,
        streams: Streams,
        standings: Standings,
        heartbeat: Heartbeat,
        audience: Audience,
        announcer: RoomsAnnouncer,
        replaced: Callable[[envelopes.Replaced], None],
    ) -> None:
        self.subscriber = subscriber  # its own connection, never quietly reconnected
        self.client = client  # for the reads of a catch-up
        self.scripts = scripts
        self.streams = streams
        self.standings = standings  # a room's events wait behind its entries for a read
        self.heartbeat = heartbeat  # after a catch-up: rejoin everyone, or run missed leaves
        self.audience = audience
        self.announcer = announcer  # the busy rooms, coalesced to one event a second
        self.replaced = replaced  # a page came back through another node
        self.shown: dict[str, ShownOnline] = {}  # what this node's pages show as online
        self.pubsub: Any = None  # redis.asyncio PubSub, once subscribed
        self.resubscribe = False  # the subscription failed: events may have been missed
        self.bad_payloads = OccasionalWarning(log, BAD_PAYLOADS_EVERY)

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
            case envelopes.Close(room, nick_key, session, code, reason):
                self.audience.close_person(room, nick_key, session, code, reason)
            case envelopes.RoomEvent(room, event, skip) if room in self.streams:
                if protocol.is_entry(event):
                    self.streams.receive(room, event)
                    return
                if room in self.shown:
                    self.shown[room].apply(event)
                self.standings.deliver(room, event, skip)
            case envelopes.RoomEvent(_, event, _):
                self.standings.heard_elsewhere(event)  # a ban counts in every room

    def show(self, room: str, online: list[str]) -> None:
        """Remember the online list a welcome showed, unless the room's pages were shown one."""
        self.shown.setdefault(room, ShownOnline(online))

    def forget(self, room: str) -> None:
        """Forget what the room's pages were shown: nobody on this node is in it any more."""
        self.shown.pop(room, None)

    async def catch_up(self) -> None:
        """After an outage: deliver what each room missed, correct who is online, free leavers.

        If Redis lost the history, everyone reconnects instead.
        """
        if await self.streams.catch_up():
            await self.heartbeat.rejoin_everyone("Redis lost the chat's history")
            return
        await self.standings.read_all()
        await self.correct_presence()
        await self.correct_hosts()
        await self.heartbeat.release_missed()  # after the correction: no page hears a leave twice

    async def correct_presence(self) -> None:
        """Send each room the joins and leaves its pages missed, and everyone the busy rooms."""
        rooms = list(self.shown)
        reads: list[tuple[str, list, list]] = [
            ("online", [room_key(room, "online")], []) for room in rooms
        ]
        lists = await self.scripts.run_batch(self.client, reads) if reads else []
        for room, online in zip(rooms, lists, strict=True):
            if isinstance(online, Exception):
                raise online
            if room in self.shown:
                for event in self.shown[room].correct(json.loads(online)):
                    self.standings.deliver(room, event)
        busy = await self.client.smembers(ROOMS)
        self.announcer.update(sorted(cast(set[str], busy)))  # decode_responses: text

    async def correct_hosts(self) -> None:
        """Send each room the hosts it was last told, in case that was while this node was deaf."""
        rooms = list(self.shown)
        async with self.client.pipeline(transaction=False) as pipe:
            for room in rooms:
                pipe.get(room_key(room, "hosts"))
            told = await pipe.execute()
        for room, hosts in zip(rooms, told, strict=True):
            if hosts is not None and room in self.shown:  # None: told nothing since it opened
                self.standings.deliver(room, hosting.hosts(json.loads(hosts)))

    async def close(self) -> None:
        """Unsubscribe and close the subscription's connection."""
        if self.pubsub is not None:
            await self.pubsub.aclose()
        await self.subscriber.aclose()
