"""Heartbeat: this node alive in the cluster, the leaves Redis refused run again, the departure.

Each node beats (chat/lua/heartbeat.lua) three times per `presence_timeout`;
the same script lets go of the people of a node silent for that long, or
gone from the node list, with a leave for each. A leave Redis refused (it
was away, or read-only) is kept here and run again after each beat. If the
others let this node go (it was silent too long), its pages reconnect and
rejoin. A node that stops lets its people go at once (chat/lua/depart.lua).
"""

import asyncio
import logging

import redis.asyncio

from chat import nicknames
from chat.cluster import templates
from chat.cluster.batches import Batches
from chat.cluster.scripts import CHANNEL, KNOWN, NODES, ROOMS, Scripts, node_key, room_key
from chat.hub import Audience, Unavailable

log = logging.getLogger(__name__)


class Heartbeat:
    """This node's heartbeat, and the leaves it still owes Redis."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        scripts: Scripts,
        batches: Batches,
        node: str,
        presence_timeout: float,
        audience: Audience,
    ) -> None:
        self.client = client
        self.scripts = scripts
        self.batches = batches  # the node's queue: a leave keeps its place among the rest
        self.node = node
        self.node_key = node_key(node)
        self.presence_timeout = presence_timeout
        self.audience = audience
        self.unreleased: set[tuple[str, str, str]] = set()  # (room, nick, holder) to free later

    async def beat(self) -> bool:
        """Tell Redis this node is alive and let gone nodes' people go; False if we were let go."""
        known = await self.scripts.run(
            self.client, "heartbeat", [NODES, ROOMS, KNOWN],
            [CHANNEL, self.node, int(self.presence_timeout * 1000), templates.LEAVE,
             templates.ROOMS, templates.HOSTS],
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

    async def release(self, room_name: str, nick: str, holder: str) -> None:
        """Run the leave script; if Redis refuses, keep it for the heartbeat to retry."""
        try:
            await self.batches.call(
                "leave", [room_key(room_name, "online"), ROOMS, self.node_key],
                [CHANNEL, room_name, nicknames.key(nick), holder, templates.LEAVE,
                 templates.ROOMS, templates.HOSTS],
            )
        except Unavailable:
            self.unreleased.add((room_name, nick, holder))
            raise

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

    async def depart(self) -> None:
        """Let go of every nickname this node holds and leave the node list; log if refused."""
        try:  # queued behind the leaves of the clients that did answer the close
            freed = await self.batches.call(
                "depart", [NODES, ROOMS, KNOWN],
                [CHANNEL, self.node, templates.LEAVE, templates.ROOMS, templates.HOSTS])
            log.info("Node %s left the cluster, letting %d nicknames go", self.node, freed)
        except Unavailable as error:
            log.warning("Could not leave the cluster (%s); the other nodes let this node's "
                        "people go within %.0f s", error, self.presence_timeout)
        self.batches.closed = True

    async def rejoin_everyone(self, why: str) -> None:
        """Close every socket here with 1012 so the pages reconnect, resume and rejoin."""
        log.warning("Asking every client of this node to reconnect: %s", why)
        await self.audience.close_all(1012, "The chat restarted; reconnecting.", grace=0)
