"""The output engine on a real socket pair: one write per tick, closed sockets, slow readers.

The owner stands in for the chat socket with the two things Outgoing reads of
it (its connection's stream, whether it is closing) and the two it calls; the
bytes go through a real kernel socket and Tornado's real IOStream.
"""

import socket

import pytest
import tornado.websocket
from tornado.iostream import IOStream

from chat.output import Outgoing, write_all, write_soon


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
    outgoing = Outgoing(Owner(stream), max_unsent=1 << 20)
    for frame in (b"one ", b"two ", b"three"):
        outgoing.queue(frame)
    with pytest.raises(BlockingIOError):
        reader.recv(100)  # nothing is written before the end of the tick
    write_soon([outgoing])
    assert await IOStream(reader).read_bytes(13) == b"one two three"
    assert outgoing.frames == []


@pytest.mark.gen_test
async def test_a_stopped_outgoing_takes_nothing_more(pair):
    """Once stopped (its socket closes), queueing raises WebSocketClosedError, as
    write_message does; the broadcast loop forgets the socket on it."""
    stream, _ = pair
    outgoing = Outgoing(Owner(stream), max_unsent=1 << 20)
    outgoing.stop()
    with pytest.raises(tornado.websocket.WebSocketClosedError):
        outgoing.queue(b"late")


@pytest.mark.gen_test
async def test_frames_queued_as_the_connection_closes_are_never_written(pair):
    """A connection that starts closing before the tick's write gets none of its frames."""
    stream, reader = pair
    owner = Owner(stream)
    outgoing = Outgoing(owner, max_unsent=1 << 20)
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
    outgoing = Outgoing(owner, max_unsent=64 * 1024)
    chunk = b"x" * 16 * 1024
    while owner.told_slow == 0:
        outgoing.queue(chunk)
        write_all([outgoing])
        assert outgoing.unsent <= 64 * 1024 + len(chunk)  # never more than one write past
    assert owner.told_slow == 1 and owner.told_lost == 0
