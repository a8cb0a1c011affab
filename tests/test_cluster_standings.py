"""A node's copy of the rooms' fields (chat/cluster/standings.py), with reads the test answers.

The node's queue of scripts is stood in for by `Node`, whose every read waits
until the test answers it: so the order in which a node shows its pages the
entries, and the fields it judges their posts by meanwhile, are certain.
"""

import asyncio

import pytest

from chat.cluster.standings import Standings
from chat.hub import Unavailable

ROOM = "general"


class Node:
    """A node's Standings with one room open, its fields read up to id 4 (none set).

    It stands in for the node's queue of scripts too (fields.lua alone: each read
    waits until the test answers it) and for its sockets (what they were sent, each
    with whether the room was locked for the node when it went out).
    """

    def __init__(self) -> None:
        self.asked: list[asyncio.Future] = []  # reads not answered yet, oldest first
        self.sent: list[tuple[object, bool]] = []
        self.tasks: list[asyncio.Future] = []
        self.changed = asyncio.Event()
        self.standings = Standings(self, self.broadcast, self.run)
        self.standings.open(ROOM)
        self.standings.offer(ROOM, [], 4)

    def call(self, script: str, keys: list[str], args: list) -> asyncio.Future:
        assert script == "fields"
        self.asked.append(asyncio.get_running_loop().create_future())
        self.changed.set()
        return self.asked[-1]

    def broadcast(self, room: str, event: dict, skip: str | None) -> None:
        self.sent.append((event.get("id", event["type"]), self.standings.standing(room).locked))
        self.changed.set()

    def run(self, work) -> None:
        self.tasks.append(asyncio.ensure_future(work))

    def standing_locked(self) -> bool:
        return self.standings.standing(ROOM).locked

    async def until(self, done) -> None:
        """Wait until `done()` is true, checking after every read asked and event sent."""
        while not done():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 5)

    async def answer(self, newest: int, fields: dict[str, str], server: dict | None = None
                     ) -> None:
        """Answer the oldest read: the room's newest id, its fields and the server's (JSON)."""
        await self.until(lambda: self.asked)
        self.asked.pop(0).set_result([flat(server or {}), newest, flat(fields)])


def flat(fields: dict[str, str]) -> list[str]:
    """Return fields as HGETALL lists them."""
    return [part for name, value in fields.items() for part in (name, value)]


def entry(kind: str, entry_id: int) -> dict:
    """Return a log entry of this kind with this id."""
    return {"type": kind, "room": ROOM, "id": entry_id, "ts": 0}


@pytest.fixture
def node(io_loop):
    """A node's Standings with a room whose fields were read up to id 4."""
    return Node()


@pytest.mark.gen_test
async def test_an_entry_that_changes_fields_waits_with_what_follows_until_they_are_read(node):
    """The lock, and everything after it in the room, reach the pages only once the node
    judges posts by the lock; what came before goes out at once."""
    node.standings.deliver(ROOM, entry("message", 5))
    node.standings.deliver(ROOM, entry("lock", 6))
    node.standings.deliver(ROOM, entry("message", 7))
    node.standings.deliver(ROOM, {"type": "join", "nick": "ada", "online": 2})
    assert node.sent == [(5, False)] and not node.standing_locked()
    assert node.standings.waiting_from(ROOM) == 6  # a welcome now ends before it
    await node.answer(7, {"locked": "true"})
    await node.until(lambda: len(node.sent) == 4)
    assert node.sent == [(5, False), (6, True), (7, True), ("join", True)]
    assert node.standings.waiting_from(ROOM) is None


@pytest.mark.gen_test
async def test_a_change_appended_after_the_read_began_is_read_again(node):
    """Lock then unlock, the read answered between them: the unlock waits for a read of its
    own, so the pages never see it while the node still refuses posts."""
    node.standings.deliver(ROOM, entry("lock", 5))
    node.standings.deliver(ROOM, entry("unlock", 6))
    await node.answer(5, {"locked": "true"})
    await node.until(lambda: len(node.asked) == 1)  # the second read
    assert node.sent == [(5, True)]
    await node.answer(6, {})
    await node.until(lambda: len(node.sent) == 2)
    assert node.sent == [(5, True), (6, False)]


@pytest.mark.gen_test
async def test_a_copy_is_never_replaced_by_an_older_one_and_covers_what_it_read(node):
    """Fields read at id 9 cover the entries up to 9 (nothing is read again for them), and a
    read answered with an older id leaves them be."""
    node.standings.offer(ROOM, ["locked", "true"], 9)
    node.standings.deliver(ROOM, entry("lock", 8))
    assert node.sent == [(8, True)] and not node.asked
    node.standings.take(ROOM, {}, 6)
    assert node.standing_locked()


@pytest.mark.gen_test
async def test_a_read_redis_refuses_lets_what_waited_go_and_the_next_change_reads(node):
    """Pages never wait for a Redis that is away; the next change reads the fields again."""
    node.standings.deliver(ROOM, entry("lock", 5))
    node.standings.deliver(ROOM, entry("message", 6))
    await node.until(lambda: node.asked)
    node.asked.pop(0).set_exception(Unavailable("Redis refused"))
    with pytest.raises(Unavailable):
        await node.tasks[0]
    assert node.sent == [(5, False), (6, False)]
    node.standings.deliver(ROOM, entry("mute", 7))
    await node.answer(7, {"locked": "true"})
    await node.until(lambda: len(node.sent) == 3)
    assert node.sent[-1] == (7, True)


@pytest.mark.gen_test
async def test_a_ban_in_a_room_nobody_here_is_in_reads_the_server_again(node):
    """The server's fields (bans) hold in every room: a node hears them from any room."""
    node.standings.heard_elsewhere({**entry("message", 3), "room": "maths"})
    assert not node.asked
    node.standings.heard_elsewhere({**entry("ban", 3), "room": "maths"})
    await node.answer(-1, {}, server={"ban:addr:10.0.0.9": '{"nick": "bob", "until": 0}'})
    await node.tasks[-1]
    assert "ban:addr:10.0.0.9" in node.standings.standing(ROOM).server
