"""The pinger's rounds, on stand-ins for sockets that keep to its small Pingable protocol."""

import tornado.websocket
from tornado.ioloop import IOLoop

from chat.pinger import Pinger


class Peer:
    """A Pingable that records its pings and closes; `gone` makes ping raise as a closed one."""

    def __init__(self, nick: str, gone: bool = False) -> None:
        self.nick = nick
        self.gone = gone
        self.pings: list[bytes] = []
        self.closed_with: str | None = None

    def ping(self, data: bytes) -> None:
        if self.gone:
            raise tornado.websocket.WebSocketClosedError()
        self.pings.append(data)

    def closing(self) -> bool:
        return self.gone or self.closed_with is not None

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        self.closed_with = reason


def round_of(peers: list[Peer]) -> Pinger:
    """Return a pinger that has just pinged `peers` (its timers on the test's loop)."""
    pinger = Pinger(lambda: peers, interval=20, timeout=20)
    pinger.io_loop = IOLoop.current()
    pinger.ping_all()
    return pinger


def test_a_pong_that_echoes_the_ping_answers_it(io_loop):
    """A peer that echoes this round's payload stays; one that does not is closed."""
    answering, silent = Peer("ada"), Peer("bob")
    pinger = round_of([answering, silent])
    assert len(answering.pings[0]) == 8 and answering.pings == silent.pings
    pinger.answered(answering, answering.pings[0])
    pinger.drop_silent()
    assert (answering.closed_with, silent.closed_with) == (None, "ping timed out")
    pinger.stop()


def test_a_pong_with_another_payload_answers_nothing(io_loop):
    """An unasked pong, or last round's echo, does not count as an answer."""
    peer = Peer("faker")
    pinger = round_of([peer])
    last_round = peer.pings[0]
    pinger.answered(peer, b"")
    pinger.ping_all()
    assert peer.pings[1] != last_round
    pinger.answered(peer, last_round)
    pinger.drop_silent()
    assert peer.closed_with == "ping timed out"
    pinger.stop()


def test_closed_peers_are_neither_pinged_again_nor_closed_twice(io_loop):
    """A peer already gone is skipped; one closing by the check is left to finish."""
    gone, closing = Peer("gone", gone=True), Peer("closing")
    pinger = round_of([gone, closing])
    closing.closed_with = "bye"
    pinger.drop_silent()
    assert gone.pings == [] and closing.closed_with == "bye"
    pinger.stop()
