"""Joins and leaves gathered for a moment (chat/presence.py): each reaches everyone once."""

import asyncio
import json

import pytest
from conftest import send

from chat import protocol
from chat.presence import MAX_WAIT, WAIT_PER_PERSON, Presence
from chat.protocol import Event


class Audience:
    """Writes down each batch it is asked to send, and resolves `sent` at the first."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, list[Event]]] = []
        self.sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def broadcast_many(self, room: str, events: list[Event]) -> None:
        self.batches.append((room, list(events)))
        if not self.sent.done():
            self.sent.set_result(None)


@pytest.mark.gen_test
async def test_a_moments_joins_and_leaves_go_out_together_in_order():
    """Announced events wait a moment, then go out as one batch per room."""
    audience = Audience()
    presence = Presence(audience)
    ada, bob = protocol.presence("join", "ada", 1), protocol.presence("join", "bob", 2)
    gone = protocol.presence("leave", "ada", 1)
    presence.announce("general", ada)
    presence.announce("maths", bob)
    presence.announce("general", gone)
    assert audience.batches == []  # nothing at once
    await audience.sent
    assert sorted(audience.batches) == [("general", [ada, gone]), ("maths", [bob])]


@pytest.mark.gen_test
async def test_a_flush_sends_what_waits_at_once_and_only_once():
    """flush() sends the room's waiting events now; its moment's end then sends nothing again."""
    audience = Audience()
    presence = Presence(audience)
    ada = protocol.presence("join", "ada", 1)
    presence.announce("general", ada)
    presence.flush("general")
    assert audience.batches == [("general", [ada])]
    later = protocol.presence("join", "bob", 2)
    presence.announce("general", later)  # a new batch, with its own moment
    while len(audience.batches) < 2:
        audience.sent = asyncio.get_running_loop().create_future()
        await audience.sent
    assert audience.batches == [("general", [ada]), ("general", [later])]


@pytest.mark.gen_test
async def test_presence_waits_longer_in_a_bigger_room_and_at_most_max_wait():
    """A join in a room of 2000 waits 0.2 s for others (a flush writes to all); of 30, 3 ms."""
    audience = Audience()
    presence = Presence(audience)
    loop = asyncio.get_running_loop()
    started = loop.time()
    presence.announce("hall", protocol.presence("join", "ada", 2000))
    await audience.sent
    assert loop.time() - started >= 2000 * WAIT_PER_PERSON
    audience.sent = loop.create_future()
    started = loop.time()
    presence.announce("huge", protocol.presence("join", "bob", 10**6))
    presence.announce("class", protocol.presence("join", "cyd", 30))
    await audience.sent
    assert audience.batches[-1][0] == "class"  # the small room's, long before the huge one's
    assert loop.time() - started < MAX_WAIT
    audience.sent = loop.create_future()
    await audience.sent  # the huge room's, after MAX_WAIT, not 100 s
    assert audience.batches[-1][0] == "huge"
    assert loop.time() - started >= MAX_WAIT


async def roster_when(ws, welcome: Event, text: str) -> list[str]:
    """Apply joins and leaves to the welcome's list until the message `text` arrives."""
    online = list(welcome["online"])
    while True:
        raw = await ws.read_message()
        assert raw is not None, f"closed before the message {text!r}"
        event = json.loads(raw)
        if event["type"] == "join" and event["nick"] not in online:
            online.append(event["nick"])
        elif event["type"] == "leave":
            online.remove(event["nick"])
        elif event["type"] == "message" and event["text"] == text:
            return online


@pytest.mark.gen_test
async def test_a_crowd_joining_at_once_leaves_everyone_with_the_same_roster(connect):
    """Nine pages joining together all end with everyone listed; the first hears each join once."""
    first, welcome = await connect(nick="ada")
    names = [f"p{number}" for number in range(8)]
    crowd = await asyncio.gather(*(connect(nick=name) for name in names))
    await send(first, {"type": "message", "text": "all here"})
    joins = []
    while True:
        event = json.loads(await first.read_message())
        if event["type"] == "join":
            joins.append(event)
        if event["type"] == "message":
            break
    assert sorted(join["nick"] for join in joins) == sorted(["ada", *names])  # each once
    assert [join["online"] for join in joins] == list(range(1, 10))  # in the order they came
    for ws, their_welcome in crowd:
        assert sorted(await roster_when(ws, their_welcome, "all here")) == sorted(["ada", *names])
