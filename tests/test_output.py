"""The output engine on a real socket pair: one write per tick, closed sockets, slow readers.

The owner stands in for the chat socket with the two things Outgoing reads of
it (its connection's stream, whether it is closing) and the two it calls; the
bytes go through a real kernel socket and Tornado's real IOStream.
"""

import asyncio
import socket

import pytest
import tornado.websocket
from tornado.iostream import IOStream

from chat.output import MAX_REST, Outgoing, Pacer, write_all, write_soon


class Connection:
    """What Outgoing reads of Tornado's WebSocket connection: its stream, and if it is closing."""

    def __init__(self, stream: IOStream) -> None:
        self.stream = stream
        self.closing = False

    def is_closing(self) -> bool:
        return self.closing


class Owner:
    """A chat socket's part: its connection, and a count of what Outgoing told it."""

    def __init__(self, stream: IOStream) -> None:
        self.ws_connection: Connection | None = Connection(stream)
        self.told_slow = 0
        self.told_lost = 0

    def close_slow_reader(self) -> None:
        self.told_slow += 1

    def lost(self) -> None:
        self.told_lost += 1


@pytest.fixture
def pair(io_loop):
    """A connected pair: an IOStream the engine writes to, and the raw socket that reads."""
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    theirs.setblocking(False)
    stream = IOStream(ours)
    yield stream, theirs
    stream.close()
    theirs.close()


@pytest.mark.gen_test
async def test_frames_queued_in_one_tick_go_out_together_in_order(pair):
    """Queued frames wait for write_all, then arrive whole and in order."""
    stream, reader = pair
    outgoing = Outgoing(Owner(stream), max_unsent=1 << 20, pacer=Pacer())
    for frame in (b"one ", b"two ", b"three"):
        outgoing.queue(frame)
    with pytest.raises(BlockingIOError):
        reader.recv(100)  # nothing is written before the end of the tick
    write_soon("general", [outgoing])
    assert await IOStream(reader).read_bytes(13) == b"one two three"
    assert outgoing.frames == []


@pytest.mark.gen_test
async def test_a_stopped_outgoing_takes_nothing_more(pair):
    """Once stopped (its socket closes), queueing raises WebSocketClosedError, as
    write_message does; the broadcast loop forgets the socket on it."""
    stream, _ = pair
    outgoing = Outgoing(Owner(stream), max_unsent=1 << 20, pacer=Pacer())
    outgoing.stop()
    with pytest.raises(tornado.websocket.WebSocketClosedError):
        outgoing.queue(b"late")


@pytest.mark.gen_test
async def test_frames_queued_as_the_connection_closes_are_never_written(pair):
    """A connection that starts closing before the tick's write gets none of its frames."""
    stream, reader = pair
    owner = Owner(stream)
    outgoing = Outgoing(owner, max_unsent=1 << 20, pacer=Pacer())
    outgoing.queue(b"late")
    owner.ws_connection.closing = True
    write_all([outgoing])
    owner.ws_connection.closing = False
    outgoing.queue(b"next")
    write_all([outgoing])
    assert await IOStream(reader).read_bytes(4) == b"next"  # "late" was dropped, not held
    owner.ws_connection = None
    assert outgoing.closing()


@pytest.mark.gen_test
async def test_a_reader_that_stops_is_reported_once_past_the_limit(pair):
    """Bytes pile up while the peer reads nothing; past max_unsent the owner hears of it."""
    stream, _ = pair
    owner = Owner(stream)
    outgoing = Outgoing(owner, max_unsent=64 * 1024, pacer=Pacer())
    chunk = b"x" * 16 * 1024
    while owner.told_slow == 0:
        outgoing.queue(chunk)
        write_all([outgoing])
        assert outgoing.unsent <= 64 * 1024 + len(chunk)  # never more than one write past
    assert owner.told_slow == 1 and owner.told_lost == 0


@pytest.mark.gen_test
async def test_a_rested_pacer_writes_a_broadcast_at_the_end_of_the_tick(pair, io_loop):
    """With no write-out just before, a broadcast's frames are in the kernel by the next tick."""
    stream, reader = pair
    outgoing = Outgoing(Owner(stream), max_unsent=1 << 20, pacer=Pacer())
    outgoing.queue(b"one")
    write_soon("general", [outgoing])
    next_tick = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(next_tick.set_result, None)
    await next_tick
    assert reader.recv(100) == b"one"


@pytest.mark.gen_test
async def test_a_resting_pacer_holds_broadcasts_and_writes_them_in_one_go(pair, io_loop):
    """Right after a write-out, broadcasts wait out its rest, then leave together, in order."""
    stream, reader = pair
    pacer = Pacer()
    outgoing = Outgoing(Owner(stream), max_unsent=1 << 20, pacer=pacer)
    loop = asyncio.get_running_loop()
    pacer.resting_until = loop.time() + MAX_REST  # as if a long write-out had just ended
    for frame in (b"one ", b"two"):
        outgoing.queue(frame)
        write_soon("general", [outgoing])
    next_tick = loop.create_future()
    loop.call_soon(next_tick.set_result, None)
    await next_tick
    with pytest.raises(BlockingIOError):
        reader.recv(100)  # still resting
    assert await loop.sock_recv(reader, 100) == b"one two"
    assert loop.time() >= pacer.resting_until


@pytest.mark.parametrize("broadcasts, took, rest", [
    (2, 0.010, 0.005), (2, 0.100, MAX_REST), (1, 0.010, 0.0)])
def test_a_busy_write_out_rests_half_its_length_at_most_the_cap(pair, broadcasts, took, rest):
    """After a write-out of several broadcasts the pacer rests half as long as it took, at most
    MAX_REST; after a write-out of one it does not rest."""
    stream, _ = pair
    readings = iter([100.0, 100.0 + took])  # the clock when the write-out starts, and ends
    pacer = Pacer(clock=lambda: next(readings))
    outgoing = Outgoing(Owner(stream), max_unsent=1 << 20, pacer=pacer)
    outgoing.queue(b"x")
    pacer.waiting["general"] = [outgoing]
    pacer.broadcasts = broadcasts
    pacer.write_out()
    assert pacer.resting_until == pytest.approx(100.0 + took + rest)
    assert not outgoing.frames  # written
    assert pacer.broadcasts == 0
