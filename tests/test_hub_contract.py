"""The hubs' contract: LocalHub and RedisHub (a real Redis) announce the same events, byte for byte.

One script of commands runs through each hub in this process, with an Audience
that writes down every event it is asked to send, encoded as a socket sends it
(protocol.encode), and what each command returned (entries and welcomes, ids,
refusals). The two transcripts must be identical once the values that must
differ are replaced, explicitly and nothing else: a message's `ts` (each run
reads its own clock) and guest names (drawn at random, numbered here in order
of appearance). So a field added to an event in chat/protocol.py, or a rule
changed in one hub, that the other does not follow fails here.

Within one command, the events for a room keep their order and the events for
everyone (`rooms`) keep theirs; the two are listed apart, because one process
announces a room that opened after the newcomer's join and a cluster announces
it while claiming the nickname, before. An event for a room with nobody in it
reaches no socket, so it is not written down (a cluster node does not even hear
it: it forgets a room's stream when its last person there leaves).
"""

import asyncio
import re
from collections.abc import Callable
from functools import partial

import pytest

from chat import protocol, rules
from chat.announcer import RoomsAnnouncer
from chat.cluster import RedisHub
from chat.local import LocalHub
from chat.protocol import Event, ProtocolError
from chat.room import Room, Rooms
from chat.store import SQLiteStore

HISTORY, RESUME_LIMIT, CAP, WELCOME_BYTES = 3, 6, 4, 700
LOBBY, SENTINEL = "lobby", "sentinel"  # someone stays in the lobby; its typing marks an end
DEADLINE = 10.0  # seconds an event may take to come back through Redis
GUEST = re.compile(r"guest-[0-9a-f]{4}")
TRICKY = 'a/b "q" \\ \u2028 \n\t 日本語 🙂 </script> é'  # what JSON encoders disagree on


class Recorder:
    """An Audience that writes down what it is asked to send, as the frames a socket sends."""

    def __init__(self) -> None:
        self.listening: Callable[[str], bool] = lambda room: True  # someone is in the room
        self.rooms: list[str] = []  # events for one room's sockets, since the last take()
        self.everyone: list[str] = []  # events for every socket
        self.sentinels = 0
        self.changed = asyncio.Event()

    def broadcast(self, room: str, event: Event, skip_nick: str | None = None) -> None:
        if skip_nick == SENTINEL:
            self.sentinels += 1
        elif self.listening(room):
            skip = f" (not to {skip_nick})" if skip_nick else ""
            self.rooms.append(f"#{room}{skip}: {protocol.encode(event).decode()}")
        self.changed.set()

    def broadcast_everywhere(self, event: Event) -> None:
        self.everyone.append(f"everyone: {protocol.encode(event).decode()}")
        self.changed.set()

    async def close_all(self, code: int, reason: str, grace: float) -> None:
        self.everyone.append(f"close all {code}: {reason}")

    def close_replaced(self, room: str, nick_key: str) -> None:
        self.rooms.append(f"#{room}: close {nick_key!r} with 4001")

    async def until(self, done) -> None:
        """Wait until `done()` is true, checking after every event sent."""
        while not done():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), DEADLINE)

    def take(self) -> list[str]:
        """Return what was sent since the last take, the room events first."""
        sent, self.rooms, self.everyone = self.rooms + self.everyone, [], []
        return sent


def at_once(delay: float, callback) -> None:
    """Stand in for loop.call_later: the announcer's interval is over at once (no coalescing)."""
    callback()


class Driver:
    """Runs commands through one hub and writes down what each returned and caused."""

    def __init__(self, hub, recorder: Recorder) -> None:
        self.hub = hub
        self.recorder = recorder
        self.people: dict[str, tuple[str, str, str]] = {}  # label -> room, nick, holder
        self.transcript: list[str] = []
        self.guests: dict[str, str] = {}  # guest name drawn -> guest-1, guest-2...
        recorder.listening = self.listening

    def listening(self, room: str) -> bool:
        """Tell whether anyone is in `room` (its sockets, in the waiters)."""
        return any(their_room == room for their_room, _, _ in self.people.values())

    async def enter(self, label: str, room: str, wanted: str | None = None,
                    session: str | None = None, since: int | None = None) -> None:
        """Let `label` in (and announce it, as the socket does after the welcome)."""
        holder = f"holder-{label}"
        try:
            entry = await self.hub.enter(room, wanted, session, since, holder)
        except ProtocolError as error:
            await self.record(f"{label} enters #{room}", error.event())
            return
        self.people[label] = (room, entry.nick, holder)
        self.hub.arrived(room, entry.nick, entry.takeover)
        await self.record(f"{label} enters #{room}", {
            "nick": entry.nick, "takeover": entry.takeover, "welcome": entry.welcome})

    async def post(self, label: str, text: str, ref: str | None = None) -> None:
        """Post as `label`; with a ref, write down the id it was stored under."""
        room, nick, _ = self.people[label]
        stored = self.hub.append(protocol.message(room, nick, text), nick, ref)
        stored_as = await stored if stored is not None else None
        await self.record(f"{label} posts (ref {ref})", stored_as if ref else None)

    async def rename(self, label: str, new: str, holder: str | None = None) -> None:
        """Rename `label` (as another connection, `holder`, if given)."""
        room, old, own = self.people[label]
        try:
            await self.hub.rename(room, old, new, holder or own)
        except ProtocolError as error:
            await self.record(f"{label} renames to {new}", error.event())
            return
        self.people[label] = (room, new, own)
        await self.record(f"{label} renames to {new}", None)

    async def typing(self, label: str) -> None:
        room, nick, _ = self.people[label]
        self.hub.typing(room, nick)
        await self.record(f"{label} types", None)

    async def leave(self, label: str) -> None:
        """Close `label`'s connection: the socket leaves the waiters, then tells the hub."""
        room, nick, holder = self.people.pop(label)
        self.hub.leave(room, nick, holder)
        await self.record(f"{label} leaves", None)

    async def record(self, command: str, result: object) -> None:
        """Wait for what the command caused, then write it down with what it returned."""
        if isinstance(self.hub, RedisHub):
            # Leaves run in the background: let them reach Redis first.
            while self.hub.background.tasks:
                await asyncio.wait(set(self.hub.background.tasks))
        if self.listening(LOBBY):
            # Published after everything the command published, so heard after it too.
            sentinels = self.recorder.sentinels
            self.hub.typing(LOBBY, SENTINEL)
            await self.recorder.until(lambda: self.recorder.sentinels > sentinels)
        encoded = protocol.encode(result).decode()  # as the socket sends a welcome or an error
        self.transcript.append(f"{command} -> {self.normalise(encoded)}")
        self.transcript += [self.normalise(line) for line in self.recorder.take()]

    def normalise(self, line: str) -> str:
        """Replace the values that must differ: message times, and guest names by appearance."""
        line = re.sub(r'(?<!\\)"ts":\d+', '"ts":TS', line)
        return GUEST.sub(lambda found: self.guests.setdefault(
            found.group(), f"guest-{len(self.guests) + 1}"), line)


async def play(driver: Driver) -> None:
    """The script: people enter, post, re-send, rename, type, come back, resume and leave."""
    await driver.enter("watcher", LOBBY, "watcher")
    await driver.enter("ada", "general", "Zoë/🙂", session="s-ada")
    await driver.enter("bob", "general", "ZOË/🙂")  # taken, in another case: ZOË/🙂-2
    await driver.enter("guest", "general")
    await driver.post("ada", TRICKY)
    await driver.post("ada", "with a ref", ref="r-1")
    await driver.post("ada", "with a ref", ref="r-1")  # re-sent: the same id, no event
    await driver.rename("ada", "Ada/π")
    await driver.rename("bob", "ada/Π")  # looks the same as ada's: nick_taken
    await driver.rename("bob", "mallory", holder="not-bob")  # replaced
    await driver.typing("bob")
    await driver.enter("ada again", "general", "Ada/π", session="s-ada")  # takeover
    await driver.leave("ada")  # the old connection closes: it frees nothing
    await driver.leave("guest")
    for number in range(3, 9):  # ids 3 to 8; the cap keeps 5 to 8
        await driver.post("bob", f"message {number}")
    await driver.enter("capped", "general", "capped", since=2)  # 3, 4 deleted: truncated
    await driver.enter("limited", "general", "limited", since=1)  # 7 after it: truncated
    await driver.post("bob", "long " * 100)  # id 9, alone almost the whole welcome budget
    await driver.enter("plain", "general", "plain")  # 7 to 9, cut to 8 and 9: no flag
    await driver.enter("resumes", "general", "resumes", since=8)  # 9 alone: no flag
    await driver.enter("cut", "general", "cut", since=6)  # 7 to 9 cut: truncated
    await driver.enter("lost", "general", "lost", since=100)  # reset (cut too: no truncated)
    await driver.enter("hal", "числа", "hal")  # a room opens (sorted by code point)
    for label in ("capped", "limited", "plain", "resumes", "cut", "lost", "hal", "bob"):
        await driver.leave(label)
    await driver.leave("ada again")  # general empties
    room, nick, holder = driver.people.pop("watcher")
    driver.hub.leave(room, nick, holder)  # the last room empties: rooms []
    await driver.recorder.until(lambda: driver.recorder.everyone)
    await driver.record("watcher leaves", None)


async def crowd(driver: Driver) -> None:
    """The script: ada, then ada-2 ... ada-99 enter; the next ada is refused, bob is not."""
    await driver.enter("watcher", LOBBY, "watcher")
    for number in range(1, rules.MAX_SUFFIX + 2):
        await driver.enter(f"ada {number}", "general", "ada")
    await driver.enter("bob", "general", "bob")


def local_hub(recorder: Recorder) -> LocalHub:
    """A LocalHub with an SQLite store in memory (it commits at once, as Redis does)."""
    store = SQLiteStore(":memory:", cap=CAP)
    rooms = Rooms(partial(Room, store=store, history=HISTORY, resume_limit=RESUME_LIMIT,
                          welcome_bytes=WELCOME_BYTES))
    return LocalHub(rooms, store, recorder, RoomsAnnouncer(
        recorder.broadcast_everywhere, call_later=at_once))


async def transcript(script, hub_kind: str, redis_url: str) -> list[str]:
    """Run `script` through a fresh hub of `hub_kind`; return the transcript."""
    recorder = Recorder()
    if hub_kind == "local":
        hub = local_hub(recorder)
    else:
        hub = RedisHub(redis_url, recorder, RoomsAnnouncer(
            recorder.broadcast_everywhere, call_later=at_once), history=HISTORY,
            resume_limit=RESUME_LIMIT, history_cap=CAP, presence_timeout=15,
            welcome_bytes=WELCOME_BYTES)
    await hub.start()
    driver = Driver(hub, recorder)
    try:
        await script(driver)
    finally:
        await hub.close()
    return driver.transcript


def assert_same(local: list[str], cluster: list[str]) -> None:
    """Compare two transcripts line by line, naming the first line that differs."""
    for number, (one, other) in enumerate(zip(local, cluster, strict=False)):  # lengths last
        assert one == other, f"line {number} differs after {local[max(number - 3, 0):number]}"
    assert len(local) == len(cluster)


@pytest.mark.gen_test(timeout=60)
async def test_both_hubs_send_the_same_events_for_the_same_commands(redis_server):
    """Entering, posting, re-sending, renaming, typing, taking over, resuming and leaving."""
    local = await transcript(play, "local", redis_server.url)
    cluster = await transcript(play, "redis", redis_server.url)
    assert any('"truncated":true' in line for line in local)  # the script covers the flags
    assert any('"reset":true' in line for line in local)
    assert_same(local, cluster)


@pytest.mark.gen_test(timeout=60)
async def test_both_hubs_stop_offering_suffixes_at_the_same_one(redis_server):
    """ada ... ada-99 get in through either hub; the next ada is refused in the same words."""
    local = await transcript(crowd, "local", redis_server.url)
    cluster = await transcript(crowd, "redis", redis_server.url)
    refused = next(line for line in local if line.startswith(f"ada {rules.MAX_SUFFIX + 1} "))
    assert rules.every_name_taken().message in refused
    assert_same(local, cluster)
