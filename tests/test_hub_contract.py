"""The hubs' contract: LocalHub and RedisHub (a real Redis) announce the same events, byte for byte.

One script of commands runs through each hub in this process, with an Audience
that writes down every event it is asked to send, encoded as a socket sends it
(protocol.encode), and what each command returned (entries and welcomes, ids,
refusals). The host's script sends its frames through the real commands
(chat/commands/), as a socket does, so what they ask of the hub (the standing,
who is who, an entry and its author, the bars) is in the transcript too. The
two transcripts must be identical once the values that must differ are
replaced, explicitly and nothing else: a message's `ts` and every other time
in Unix ms (a mute's `until`; each run reads its own clock), a `retry_after`,
and guest names (drawn at random, numbered here in order of appearance). So a
field added to an event in chat/protocol.py, or a rule changed in one hub,
that the other does not follow fails here.

Within one command, the events for a room keep their order and the events for
everyone (`rooms`) keep theirs; the two are listed apart, because one process
announces a room that opened after the newcomer's join and a cluster announces
it while claiming the nickname, before. So are the sockets a hub closes (a
node closes them when it hears the order, which waits behind no entry) and
what a page alone is sent (acks and errors, answered when Redis replies). An
event for a room with nobody in it reaches no socket, so it is not written
down (a cluster node does not even hear it: it forgets a room's stream when
its last person there leaves).
"""

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pytest

from chat import commands, protocol, rules
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
KEY = "k" * 32  # the host key both hubs are given
TRICKY = 'a/b "q" \\ \u2028 \n\t 日本語 🙂 </script> é'  # what JSON encoders disagree on


class Recorder:
    """An Audience that writes down what it is asked to send, as the frames a socket sends."""

    def __init__(self) -> None:
        self.listening: Callable[[str], bool] = lambda room: True  # someone is in the room
        self.rooms: list[str] = []  # events for one room's sockets, since the last take()
        self.closes: list[str] = []  # sockets a host's order closes
        self.pages: list[str] = []  # events for one socket alone (acks, errors)
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

    def broadcast_many(self, room: str, events: list[Event]) -> None:
        for event in events:
            self.broadcast(room, event)

    def broadcast_everywhere(self, event: Event) -> None:
        self.everyone.append(f"everyone: {protocol.encode(event).decode()}")
        self.changed.set()

    async def close_all(self, code: int, reason: str, grace: float) -> None:
        self.everyone.append(f"close all {code}: {reason}")

    def close_replaced(self, room: str, nick_key: str) -> None:
        self.rooms.append(f"#{room}: close {nick_key!r} with 4001")

    def close_person(self, room: str | None, nick_key: str, session: str | None, code: int,
                     reason: str) -> None:
        where = "every room" if room is None else f"#{room}"
        self.closes.append(f"close {nick_key!r}, {session} in {where} with {code}: {reason}")
        self.changed.set()

    def send(self, label: str, event: Event) -> None:
        """Write down an event sent to one page alone."""
        self.pages.append(f"to {label}: {protocol.encode(event).decode()}")
        self.changed.set()

    async def until(self, done) -> None:
        """Wait until `done()` is true, checking after every event sent."""
        while not done():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), DEADLINE)

    def take(self) -> list[str]:
        """Return what was sent since the last take, the room events first."""
        sent = self.rooms + self.closes + self.pages + self.everyone
        self.rooms, self.closes, self.pages, self.everyone = [], [], [], []
        return sent


def at_once(delay: float, callback) -> None:
    """Stand in for loop.call_later: the announcer's interval is over at once (no coalescing)."""
    callback()


@dataclass
class Page:
    """One person's connection, as a command sees it (chat/commands/context.py's Context)."""

    label: str
    hub: object
    room: str
    nick: str
    holder: str
    session: str | None
    address: str
    recorder: Recorder
    keyed: bool = False
    typing_relayed_at: float = -1.0
    files: None = None  # no upload directory: a message without a file never asks for one

    def send_event(self, event: Event) -> None:
        self.recorder.send(self.label, event)

    def gone(self) -> bool:
        return False


class Driver:
    """Runs commands through one hub and writes down what each returned and caused."""

    def __init__(self, hub, recorder: Recorder) -> None:
        self.hub = hub
        self.recorder = recorder
        self.people: dict[str, Page] = {}  # label -> their connection
        self.transcript: list[str] = []
        self.guests: dict[str, str] = {}  # guest name drawn -> guest-1, guest-2...
        recorder.listening = self.listening

    def listening(self, room: str) -> bool:
        """Tell whether anyone is in `room` (its sockets, in the waiters)."""
        return any(page.room == room for page in self.people.values())

    async def enter(self, label: str, room: str, wanted: str | None = None,
                    session: str | None = None, since: int | None = None,
                    address: str = "127.0.0.1") -> None:
        """Let `label` in (and announce it, as the socket does after the welcome)."""
        holder = f"holder-{label}"
        try:
            entry = await self.hub.enter(room, wanted, session, since, holder, address)
        except ProtocolError as error:
            await self.record(f"{label} enters #{room}", error.event())
            return
        self.people[label] = Page(label, self.hub, room, entry.nick, holder, session, address,
                                  self.recorder)
        self.hub.arrived(room, entry.nick, entry.takeover)
        await self.record(f"{label} enters #{room}", {
            "nick": entry.nick, "takeover": entry.takeover, "welcome": entry.welcome})

    async def post(self, label: str, text: str, ref: str | None = None) -> None:
        """Post as `label`; with a ref, write down the id it was stored under."""
        page = self.people[label]
        stored = self.hub.append(protocol.message(page.room, page.nick, text), page.nick, ref)
        stored_as = await stored if stored is not None else None
        await self.record(f"{label} posts (ref {ref})", stored_as if ref else None)

    async def rename(self, label: str, new: str, holder: str | None = None) -> None:
        """Rename `label` (as another connection, `holder`, if given)."""
        page = self.people[label]
        try:
            await self.hub.rename(page.room, page.nick, new, holder or page.holder)
        except ProtocolError as error:
            await self.record(f"{label} renames to {new}", error.event())
            return
        page.nick = new
        await self.record(f"{label} renames to {new}", None)

    async def typing(self, label: str) -> None:
        page = self.people[label]
        self.hub.typing(page.room, page.nick)
        await self.record(f"{label} types", None)

    async def leave(self, label: str) -> None:
        """Close `label`'s connection: the socket leaves the waiters, then tells the hub."""
        page = self.people.pop(label)
        self.hub.leave(page.room, page.nick, page.holder)
        await self.record(f"{label} leaves", None)

    async def send(self, label: str, frame: dict) -> None:
        """Send a frame from `label` as its socket does: parsed, then its command run."""
        page, arguments = self.people[label], None
        try:
            command, arguments = commands.parse(json.dumps(frame), 2000)
            running = command.run(page, arguments)
            if running is not None:
                await running
        except ProtocolError as error:
            error.details.setdefault("ref", getattr(arguments, "ref", None))
            page.send_event(error.event())
        ref = getattr(arguments, "ref", None)
        if ref is not None:  # an ack, or an error, names it once the hub has answered
            await self.recorder.until(lambda: any(f'"ref":"{ref}"' in line
                                                  for line in self.recorder.pages))
        await self.record(f"{label} sends {json.dumps(frame)}", None)

    async def barred(self, room: str, address: str, session: str | None) -> None:
        """Ask whether `address` and page `session` may come into `room`."""
        why = await self.hub.barred(room, address, session)
        await self.record(f"{address} and {session} come into #{room}", why)

    async def export(self, room: str) -> None:
        """Ask for the room's transcript, as the host's export does."""
        await self.record(f"export #{room}", await self.hub.transcript(room))

    def acked(self, ref: str) -> int:
        """Return the id an entry sent with `ref` was acknowledged with."""
        found = [line for line in self.transcript if f'"type":"ack","ref":"{ref}"' in line]
        return json.loads(found[-1].split(": ", 1)[1])["id"]

    async def settle(self) -> None:
        """Let what a cluster node runs in the background reach Redis and come back."""
        if isinstance(self.hub, RedisHub):
            while self.hub.background.tasks:
                await asyncio.wait(set(self.hub.background.tasks))
        else:  # the local hub sends joins and leaves together a moment later (chat/presence.py)
            for room in list(self.hub.presence.waiting):
                self.hub.presence.flush(room)

    async def record(self, command: str, result: object) -> None:
        """Wait for what the command caused, then write it down with what it returned."""
        await self.settle()  # leaves run in the background: let them reach Redis first
        if self.listening(LOBBY):
            # Published after everything the command published, so heard after it too.
            sentinels = self.recorder.sentinels
            self.hub.typing(LOBBY, SENTINEL)
            await self.recorder.until(lambda: self.recorder.sentinels > sentinels)
        await self.settle()  # entries heard that change fields wait for them to be read
        encoded = protocol.encode(result).decode()  # as the socket sends a welcome or an error
        self.transcript.append(f"{command} -> {self.normalise(encoded)}")
        self.transcript += [self.normalise(line) for line in self.recorder.take()]

    def normalise(self, line: str) -> str:
        """Replace the values that must differ: times, waits, and guest names by appearance."""
        line = re.sub(r'(?<!\\)"ts":\d+', '"ts":TS', line)
        line = re.sub(r"(?<![\w.])\d{13}(?![\w.])", "MS", line)  # a mute's until, say
        line = re.sub(r'"retry_after":[\d.]+', '"retry_after":RETRY', line)
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
    page = driver.people.pop("watcher")
    driver.hub.leave(page.room, page.nick, page.holder)  # the last room empties: rooms []
    await driver.recorder.until(lambda: driver.recorder.everyone)
    await driver.record("watcher leaves", None)


async def host(driver: Driver) -> None:
    """The host's script: the key, op, mute, lock, slow, pin, topic, edits, replies, reactions,
    delete, clear, kick, ban, deop, a host renamed, gone, back, and its page back through
    another connection."""
    await driver.enter("watcher", LOBBY, "watcher")
    await driver.enter("teacher", "general", "teacher", session="s-teacher")
    await driver.enter("bob", "general", "bob", session="s-bob", address="127.0.0.2")
    await driver.enter("carol", "general", "carol", session="s-carol", address="127.0.0.3")
    await driver.send("bob", {"type": "host", "key": "k" * 31 + "x"})  # forbidden
    await driver.send("bob", {"type": "lock", "ref": "h-0"})  # forbidden: no host
    await driver.send("teacher", {"type": "host", "key": KEY})  # hosts: teacher
    await driver.send("teacher", {"type": "op", "nick": "bob", "ref": "h-1"})  # op, hosts
    await driver.send("bob", {"type": "op", "nick": "carol", "ref": "h-2"})  # the key holder's
    await driver.send("bob", {"type": "mute", "nick": "teacher", "seconds": 60, "ref": "h-3"})
    await driver.send("bob", {"type": "mute", "nick": "carol", "seconds": 60, "ref": "h-4"})
    await driver.send("carol", {"type": "message", "text": "let me talk", "ref": "c-1"})
    await driver.send("carol", {"type": "nick", "nick": "carla"})  # muted: no new name
    await driver.enter("dave", "general", "dave", session="s-dave", address="127.0.0.4")
    await driver.send("teacher", {"type": "unmute", "nick": "CAROL", "ref": "h-5"})
    await driver.send("carol", {"type": "message", "text": "thanks", "ref": "c-2"})
    await driver.send("teacher", {"type": "lock", "ref": "h-6"})
    await driver.send("dave", {"type": "message", "text": "can I?", "ref": "d-1"})  # locked
    await driver.send("bob", {"type": "message", "text": "hosts may", "ref": "b-1"})
    await driver.send("teacher", {"type": "unlock", "ref": "h-7"})
    await driver.send("teacher", {"type": "slow", "seconds": 60, "ref": "h-8"})
    await driver.send("dave", {"type": "message", "text": "first", "ref": "d-2"})
    await driver.send("dave", {"type": "message", "text": "second", "ref": "d-3"})  # too soon
    await driver.send("teacher", {"type": "slow", "seconds": 0, "ref": "h-9"})
    first = driver.acked("d-2")
    await driver.send("teacher", {"type": "pin", "target": first, "ref": "h-10"})
    await driver.send("teacher", {"type": "topic", "topic": "Week  2", "ref": "h-11"})
    await driver.send("dave", {"type": "edit", "target": first, "text": "first!", "ref": "d-6"})
    await driver.send("carol", {"type": "edit", "target": first, "text": "mine", "ref": "c-4"})
    await driver.enter("erin", "general", "erin")  # the topic, the edited pin, no slow mode
    await driver.send("carol", {"type": "delete", "target": first, "ref": "c-3"})  # not hers
    await driver.send("dave", {"type": "delete", "target": first, "ref": "d-4"})  # unpins too
    await driver.send("dave", {"type": "delete", "target": first, "ref": "d-5"})  # gone
    await driver.enter("fay", "general", "fay", since=first - 1)  # all but it: not truncated
    await driver.send("carol", {"type": "message", "text": TRICKY, "ref": "c-5"})
    tricky = driver.acked("c-5")
    await driver.send("dave", {"type": "message", "text": "a reply", "reply": tricky,
                               "quote": "forged", "ref": "d-7"})  # the quote is the server's
    await driver.send("dave", {"type": "message", "text": "to what?", "reply": first,
                               "ref": "d-8"})  # deleted: no_such_message
    await driver.send("bob", {"type": "react", "target": tricky, "emoji": "👍", "on": True,
                              "ref": "b-2"})
    await driver.send("bob", {"type": "react", "target": tricky, "emoji": "👍", "on": False})
    await driver.send("bob", {"type": "react", "target": tricky, "emoji": "🙂", "on": True,
                              "ref": "b-3"})  # bad_reaction
    await driver.send("bob", {"type": "react", "target": first, "emoji": "👀", "on": True,
                              "ref": "b-4"})  # no_such_message
    await driver.enter("hank", "general", "hank", since=tricky - 1)  # replayed, in order
    await driver.send("teacher", {"type": "message", "text": "before the clear", "ref": "h-12"})
    await driver.send("teacher", {"type": "clear", "ref": "h-13"})
    await driver.enter("gus", "general", "gus", since=driver.acked("h-12") - 1)  # the clear
    await driver.send("teacher", {"type": "kick", "nick": "carol", "ref": "h-14"})
    await driver.leave("carol")  # her socket closed
    await driver.barred("general", "127.0.0.3", None)  # her address
    await driver.barred("general", "127.0.0.9", "s-carol")  # her page
    await driver.barred("maths", "127.0.0.3", "s-carol")  # another room
    await driver.barred("general", "127.0.0.3", "s-teacher")  # a host's page, never
    await driver.send("teacher", {"type": "ban", "nick": "dave", "ref": "h-15"})
    await driver.leave("dave")
    await driver.barred("art", "127.0.0.9", "s-dave")
    await driver.send("teacher", {"type": "unban", "nick": "Dave", "ref": "h-16"})
    await driver.barred("art", "127.0.0.4", "s-dave")
    await driver.rename("bob", "robert")  # a host renamed: the hosts again
    await driver.send("teacher", {"type": "deop", "nick": "robert", "ref": "h-17"})
    await driver.send("teacher", {"type": "op", "nick": "robert", "ref": "h-18"})
    await driver.leave("bob")  # a host leaves
    await driver.enter("bob", "general", "robert", session="s-bob", address="127.0.0.2")
    await driver.enter("teacher again", "general", "teacher", session="s-teacher")  # unkeyed
    await driver.leave("teacher")  # the old connection: frees nothing
    await driver.send("teacher again", {"type": "host", "key": KEY})
    await driver.export("general")
    for label in ("bob", "erin", "fay", "gus", "hank", "teacher again"):
        await driver.leave(label)
    page = driver.people.pop("watcher")
    driver.hub.leave(page.room, page.nick, page.holder)  # the last room empties: rooms []
    await driver.recorder.until(lambda: driver.recorder.everyone)
    await driver.record("watcher leaves", None)


async def crowd(driver: Driver) -> None:
    """The script: ada, then ada-2 ... ada-99 enter; the next ada is refused, bob is not."""
    await driver.enter("watcher", LOBBY, "watcher")
    for number in range(1, rules.MAX_SUFFIX + 2):
        await driver.enter(f"ada {number}", "general", "ada")
    await driver.enter("bob", "general", "bob")


def local_hub(recorder: Recorder, cap: int) -> LocalHub:
    """A LocalHub with an SQLite store in memory (it commits at once, as Redis does)."""
    store = SQLiteStore(":memory:", cap=cap)
    rooms = Rooms(partial(Room, store=store, history=HISTORY, resume_limit=RESUME_LIMIT,
                          welcome_bytes=WELCOME_BYTES))
    return LocalHub(rooms, store, recorder, RoomsAnnouncer(
        recorder.broadcast_everywhere, call_later=at_once), host_key=KEY)


async def transcript(script, hub_kind: str, redis_url: str, cap: int = CAP) -> list[str]:
    """Run `script` through a fresh hub of `hub_kind`; return the transcript."""
    recorder = Recorder()
    if hub_kind == "local":
        hub = local_hub(recorder, cap)
    else:
        hub = RedisHub(redis_url, recorder, RoomsAnnouncer(
            recorder.broadcast_everywhere, call_later=at_once), history=HISTORY,
            resume_limit=RESUME_LIMIT, history_cap=cap, presence_timeout=15,
            welcome_bytes=WELCOME_BYTES, host_key=KEY)
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
async def test_both_hubs_give_the_host_the_same_powers(redis_server):
    """The key, the powers, what they refuse, the welcome's standing and the bars, edits,
    replies and reactions, alike."""
    local = await transcript(host, "local", redis_server.url, cap=100)
    cluster = await transcript(host, "redis", redis_server.url, cap=100)
    welcomes = {line.split(" -> ")[0]: line for line in local if " enters " in line}
    assert '"locked":false,"slow":0,"muted":{"carol":MS}' in welcomes["dave enters #general"]
    assert '"topic":"Week 2","pin":{' in welcomes["erin enters #general"]
    assert '"text":"first!"' in welcomes["erin enters #general"]  # the edit updated the pin
    assert '"type":"react"' in welcomes["hank enters #general"]
    assert '"reply":{"id":' in welcomes["hank enters #general"]
    for resumed in ("fay", "gus"):  # a deletion, a clear: nothing the page missed
        assert '"truncated"' not in welcomes[f"{resumed} enters #general"]
    assert '"history":[{"type":"clear"' in welcomes["gus enters #general"]
    assert_same(local, cluster)


@pytest.mark.gen_test(timeout=60)
async def test_both_hubs_stop_offering_suffixes_at_the_same_one(redis_server):
    """ada ... ada-99 get in through either hub; the next ada is refused in the same words."""
    local = await transcript(crowd, "local", redis_server.url)
    cluster = await transcript(crowd, "redis", redis_server.url)
    refused = next(line for line in local if line.startswith(f"ada {rules.MAX_SUFFIX + 1} "))
    assert rules.every_name_taken().message in refused
    assert_same(local, cluster)
