"""RedisHub: the rooms of a cluster, shared through Redis by every process on every host.

Each process is a node. What must be the same everywhere lives in Redis and
changes only inside Lua scripts (chat/lua/), one atomic step each: a post takes
the next id, joins the capped history and is PUBLISHed in the same step, so
every node hears a room's messages in id order; nicknames are unique across the
cluster because they are claimed in a script, and each entry names the
connection (`holder`) that may rename or free it. Every node subscribes to one
channel and hands what it hears to its own sockets' broadcast loop, through a
RoomStream per room that drops repeats and fetches anything lost in a gap.

Redis gone while running: posts fail at once with `unavailable`, the sockets
stay open, the subscription is retried with back-off, and once it is back every
room's stream catches up from the history. Each node beats a heartbeat; the
people of a node silent for `presence_timeout` seconds are let go by the others.
"""

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import redis
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from chat import nicknames, protocol
from chat.announcer import RoomsAnnouncer
from chat.hub import Audience, Entry, Unavailable
from chat.protocol import Event, ProtocolError
from chat.sequencer import RoomStream

log = logging.getLogger(__name__)

CHANNEL = "chat:events"
ROOMS = "chat:rooms"
NODES = "chat:nodes"
ARRIVALS = "chat:arrivals"
REF_SECONDS = 10 * 60  # a ref re-sent within 10 minutes is the same message
POOL_SIZE = 16  # Redis connections per node: the subscription, a batch of posts, joins...
POOL_WAIT = 5.0  # seconds a call waits for a free connection before it is `unavailable`
SCRIPTS = Path(__file__).with_name("lua")
FAILURES = (redis.RedisError, OSError)  # what losing Redis looks like to redis-py


def room_key(room: str, part: str) -> str:
    """Return the key of one part of a room; the {braces} keep a room on one Redis Cluster slot."""
    return f"chat:{{{room}}}:{part}"


def unreachable(url: str, error: Exception) -> Unavailable:
    """Return the one-line error an operator gets when Redis cannot be reached at start."""
    return Unavailable(f"Cannot reach Redis at {url} ({error}); is redis-server running?")


def check_redis(url: str) -> None:
    """Ping Redis at `url` once, or raise Unavailable with a sentence an operator can act on."""
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3) as client:
            client.ping()
    except (FAILURES + (ValueError,)) as error:
        raise unreachable(url, error) from None


class Scripts:
    """The Lua scripts, loaded once by SHA and run by EVALSHA, loaded again if Redis forgot them."""

    def __init__(self) -> None:
        common = (SCRIPTS / "common.lua").read_text()
        self.texts = {
            path.stem: common + path.read_text()
            for path in SCRIPTS.glob("*.lua")
            if path.stem != "common"
        }
        self.shas: dict[str, str] = {}

    async def load(self, client: redis.asyncio.Redis) -> None:
        """Load every script into Redis (after a start, or a restart that emptied it)."""
        for name, text in self.texts.items():
            self.shas[name] = await client.script_load(text)

    async def run(self, client: redis.asyncio.Redis, name: str, keys: list[str], args: list):
        """Run one script and return its reply (or raise its error)."""
        reply = (await self.run_batch(client, [(name, keys, args)]))[0]
        if isinstance(reply, Exception):
            raise reply
        return reply

    async def run_batch(self, client: redis.asyncio.Redis, calls: list[tuple[str, list, list]]):
        """Run scripts in one round trip, in order; return each reply or the error it raised."""
        for attempt in (1, 2):
            pipe = client.pipeline(transaction=False)
            for name, keys, args in calls:
                pipe.evalsha(self.shas[name], len(keys), *keys, *args)
            replies = await pipe.execute(raise_on_error=False)
            if attempt == 1 and any(isinstance(r, redis.exceptions.NoScriptError) for r in replies):
                await self.load(client)  # Redis restarted empty: nothing in this batch ran
                continue
            return replies
        return replies


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
    ) -> None:
        self.url = url
        self.audience = audience
        self.announcer = announcer  # the busy rooms, coalesced to one event a second
        self.history = history
        self.resume_limit = resume_limit
        self.history_cap = history_cap
        self.presence_timeout = presence_timeout
        self.node = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.node_key = f"chat:node:{self.node}"
        # A bounded pool that makes a call wait for a free connection: 1000 people
        # joining at once share a few connections instead of being refused past 100.
        # One retry, at once: a pooled connection that died with a restarted Redis is
        # replaced; a Redis that is down fails the call now, so the client hears why.
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            url, max_connections=POOL_SIZE, timeout=POOL_WAIT, decode_responses=True,
            socket_connect_timeout=2, socket_timeout=5, retry=Retry(NoBackoff(), 1),
        )
        self.redis = redis.asyncio.Redis.from_pool(pool)  # closing the client closes the pool
        self.scripts = Scripts()
        self.streams: dict[str, RoomStream] = {}  # rooms with people on this node
        self.joining: Counter[str] = Counter()  # sockets entering each room on this node
        self.present: dict[str, set[str]] = {}  # room -> holders of this node's nicknames
        self.outbox: list[tuple[str, list[str], list, Callable, asyncio.Future]] = []
        self.sending: asyncio.Task | None = None
        self.filling: set[str] = set()  # rooms whose gap is being fetched
        self.tasks: set[asyncio.Task] = set()  # announcements under way
        self.unreleased: set[tuple[str, str, str]] = set()  # (room, nick, holder) to free later
        self.pubsub: redis.asyncio.client.PubSub | None = None
        self.running: list[asyncio.Task] = []

    async def start(self) -> None:
        """Load the scripts, subscribe and beat once, or raise Unavailable; then keep at it."""
        try:
            await self.scripts.load(self.redis)
            await self.subscribe()
            await self.beat()
        except FAILURES as error:
            raise unreachable(self.url, error) from None
        self.running = [asyncio.create_task(self.listen()), asyncio.create_task(self.beat_forever())]
        log.info("Node %s joined the cluster at %s", self.node, self.url)

    async def close(self) -> None:
        """Finish the announcements under way, leave the cluster and disconnect."""
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=2)
        for task in self.running:
            task.cancel()
        try:
            await self.redis.zrem(NODES, self.node)
            await self.redis.delete(self.node_key)
        except FAILURES as error:
            log.warning("Could not leave the cluster cleanly: %s", error)
        if self.pubsub is not None:
            await self.pubsub.aclose()
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
            reply = await self.call(
                "enter",
                [room_key(room_name, "online"), room_key(room_name, "next"),
                 room_key(room_name, "history"), ROOMS, self.node_key, ARRIVALS],
                [self.node, session or "", -1 if since is None else since, self.history,
                 self.resume_limit, room_name, CHANNEL, holder, *candidates(wanted)],
            )
            if not reply:
                raise Unavailable("Every nickname like that is taken; choose another.")
            nick, takeover, newest, history, online, rooms, replaced = reply
            history = json.loads(history)
            while (completed := stream.complete(history, newest)) is None:
                history += await self.read_after(room_name, newest)  # rare: a burst meanwhile
                newest = history[-1]["id"] if history else newest
        except FAILURES as error:
            raise Unavailable(f"The chat cannot reach its Redis: {error}. Try again soon.") from None
        else:
            here = self.present.setdefault(room_name, set())
            here.discard(replaced)  # the page's old connection here, if it was here
            here.add(holder)
        finally:
            self.joining[room_name] -= 1
            self.forget_if_empty(room_name)
        reset = since is not None and since > newest
        truncated = since is not None and not reset and newest - since > self.resume_limit
        welcome = protocol.welcome(room_name, nick, json.loads(online), json.loads(rooms),
                                   completed, truncated=truncated, reset=reset)
        return Entry(nick, bool(takeover), welcome)

    def arrived(self, room_name: str, nick: str, takeover: bool) -> None:
        """Announce the newcomer to every node."""
        self.in_background(self.call(
            "arrived", [room_key(room_name, "online"), ROOMS],
            [CHANNEL, as_json(room_name), as_json(nick), int(takeover)],
        ))

    def post(self, room_name: str, nick: str, text: str, ref: str | None) -> "asyncio.Future[int]":
        """Queue a message for the next batch to Redis; every node broadcasts it when published."""
        fields = as_json({"nick": nick, "text": text, "ts": int(time.time() * 1000)})
        keys = [room_key(room_name, "next"), room_key(room_name, "history"),
                room_key(room_name, f"ref:{len(nick)}:{nick}:{ref}") if ref else
                room_key(room_name, "next")]
        args = [CHANNEL, as_json(room_name), fields[1:], ref or "", self.history_cap, REF_SECONDS]
        return self.call("post", keys, args, reply_to_id)

    def typing(self, room_name: str, nick: str) -> None:
        """Publish a typing hint; nodes relay it to everyone in the room but `nick`."""
        envelope = {"room": room_name, "skip": nick, "event": protocol.typing(nick)}
        self.in_background(self.call("publish", [], [CHANNEL, as_json(envelope)]))

    async def rename(self, room_name: str, old: str, new: str, holder: str) -> None:
        """Change `holder`'s nickname across the cluster (every node announces it), or raise."""
        status = await self.call(
            "rename", [room_key(room_name, "online"), self.node_key],
            [CHANNEL, room_name, nicknames.key(old), nicknames.key(new), new, holder],
        )
        if status == 0:
            raise ProtocolError("nick_taken", f"{new!r} is taken by someone online.")
        if status == -1:
            raise Unavailable("Your nickname was let go while Redis was away; reconnect.")
        if status == -2:
            raise ProtocolError("replaced", "This connection no longer holds a nickname.")

    def leave(self, room_name: str, nick: str, holder: str) -> None:
        """Free `holder`'s nickname across the cluster; nothing if another connection holds it."""
        self.present.get(room_name, set()).discard(holder)
        self.forget_if_empty(room_name)
        self.in_background(self.release(room_name, nick, holder))

    async def release(self, room_name: str, nick: str, holder: str) -> None:
        """Run the leave script; if Redis is away, keep it for the next heartbeat to retry."""
        try:
            await self.call(
                "leave", [room_key(room_name, "online"), ROOMS, self.node_key],
                [CHANNEL, room_name, nicknames.key(nick), holder],
            )
        except Unavailable:
            self.unreleased.add((room_name, nick, holder))
            raise

    # Everything the node changes in Redis: in order, in batches -------------------------

    def call(
        self, script: str, keys: list[str], args: list, convert: Callable = lambda reply: reply
    ) -> asyncio.Future:
        """Queue a script for the next batch; the future is its converted reply, or Unavailable.

        One batch at a time goes to Redis as one pipeline, so a crowd joining or
        a burst of posts costs a few round trips on one connection, and each
        person's messages keep their order.
        """
        done = asyncio.get_running_loop().create_future()
        self.outbox.append((script, keys, args, convert, done))
        if self.sending is None:
            self.sending = asyncio.create_task(self.send_batches())
        return done

    async def send_batches(self) -> None:
        """Send the queued scripts in batches, one batch at a time, until none is left."""
        try:
            while self.outbox:
                batch, self.outbox = self.outbox, []
                try:
                    replies = await self.scripts.run_batch(
                        self.redis, [(script, keys, args) for script, keys, args, *_ in batch]
                    )
                except FAILURES as error:
                    replies = [error] * len(batch)
                    log.warning("Redis refused a batch of %d calls: %s", len(batch), error)
                for (*_, convert, done), reply in zip(batch, replies):
                    if isinstance(reply, Exception):
                        done.set_exception(Unavailable(f"Redis is unreachable: {reply}"))
                    else:
                        done.set_result(convert(reply))
        finally:
            self.sending = None

    # What the node hears ------------------------------------------------------------

    async def subscribe(self) -> None:
        """Subscribe to the cluster's channel (a fresh connection each time)."""
        if self.pubsub is not None:
            await self.pubsub.aclose()
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await self.pubsub.subscribe(CHANNEL)

    async def listen(self) -> None:
        """Hand every published event to this node's sockets; resubscribe with back-off if cut."""
        delay = 0.1
        while True:
            try:
                message = await self.pubsub.get_message(timeout=None)  # until one comes
                if message is not None:
                    self.hear(message["data"])
                continue
            except FAILURES as error:
                log.warning("Lost Redis (%s); retrying in %.1f s", error, delay)
            while True:
                await asyncio.sleep(delay)  # back-off between attempts to reconnect
                delay = min(delay * 2, 5.0)
                try:
                    await self.subscribe()
                    await self.catch_up()
                except FAILURES as error:
                    log.warning("Redis still unreachable (%s); retrying in %.1f s", error, delay)
                    continue
                log.info("Redis is back: resubscribed and caught up")
                delay = 0.1
                break

    def hear(self, data: str) -> None:
        """Deliver one published event: messages through their room's stream, the rest at once."""
        envelope = json.loads(data)
        room, event = envelope["room"], envelope.get("event")
        if "replaced" in envelope:  # a page came back through another node
            if envelope["node"] == self.node:
                self.present.get(room, set()).discard(envelope["holder"])
                self.audience.close_replaced(room, envelope["replaced"])
                self.forget_if_empty(room)
        elif room is None:  # the busy rooms: coalesced to at most one event a second
            self.announcer.update(event["rooms"])
        elif room not in self.streams:
            return  # nobody in that room on this node
        elif event["type"] != "message":
            self.audience.broadcast(room, event, skip_nick=envelope.get("skip"))
        else:
            self.deliver(room, self.streams[room].receive(event))
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
        return [json.loads(message) for message in found]

    async def catch_up(self) -> None:
        """After an outage: deliver what each room missed, or restart everyone if Redis lost it."""
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
        await self.release_missed()

    # Presence ------------------------------------------------------------------------

    async def release_missed(self) -> None:
        """Run again the leaves Redis missed while it was away."""
        for missed in list(self.unreleased):
            self.unreleased.discard(missed)
            await self.release(*missed)

    async def beat(self) -> bool:
        """Tell Redis this node is alive and let silent nodes' people go; False if we were let go."""
        known = await self.scripts.run(
            self.redis, "heartbeat", [NODES, ROOMS],
            [CHANNEL, self.node, int(self.presence_timeout * 1000)],
        )
        return known == 1

    async def beat_forever(self) -> None:
        """Beat a few times per presence timeout; if this node was let go, everyone rejoins."""
        while True:
            await asyncio.sleep(self.presence_timeout / 3)  # the heartbeat's period
            try:
                known = await self.beat()
                await self.release_missed()
            except FAILURES as error:
                log.warning("Heartbeat failed: %s", error)
                continue
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

    def in_background(self, work) -> None:
        """Run an announcement without waiting for it; log it if Redis refuses."""
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.finished)

    def finished(self, task: asyncio.Task) -> None:
        """Forget a finished announcement, logging the failure if it failed."""
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("Could not announce to the cluster: %s", task.exception())


def candidates(wanted: str | None) -> list[str]:
    """Return (key, nickname) pairs, flattened: the wanted one, its -2, -3... or guests."""
    try:
        nick = protocol.check_nick(wanted) if wanted is not None else None
    except ProtocolError:
        nick = None
    if nick:
        names = [nick] + [protocol.numbered(nick, number) for number in range(2, 100)]
    else:
        names = [f"guest-{secrets.token_hex(2)}" for _ in range(20)]
    return [part for name in names for part in (nicknames.key(name), name)]


def reply_to_id(reply: list[int]) -> int:
    """Return the message id from the post script's reply (id, whether it is new)."""
    return int(reply[0])


def as_json(value: object) -> str:
    """Serialise a value as compact JSON, keeping non-ASCII text as it is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
