"""One measured phase: its two tokens, the bench messages that carry them, and what was seen.

A bench message is an ASCII text frame `<token> <sender> <seq> <send_ns> <padding>`:
the chat server turns it into a message whose JSON `text` holds it unchanged,
and the reference servers forward it as it is. Each phase has a random token
that appears once in every bench payload, and a second one, the end marker
each sender sends after its last message; a client knows it has everything
once it has seen every sender's end marker (TCP and the servers keep each
sender's messages in order). Most clients find them with `bytes.count` on
the raw bytes (TokenCounter); the senders and the sampled clients parse
frames and read the fields too (bench_messages). No I/O.
"""

import secrets
import time
from collections.abc import Callable

PAYLOAD_SIZE = 64  # bytes per bench message, padding included: a typical chat line
TOKEN_LENGTH = 12  # "~" + 10 random hex digits + "~"


class Phase:
    """One measured run: its tokens, who sends, what each client should get, what was seen."""

    def __init__(self, senders: list[int], on_finished: Callable[[], None]) -> None:
        self.token = ("~" + secrets.token_hex(5) + "~").encode()
        self.end = ("~" + secrets.token_hex(5) + "!").encode()  # never equal to a token
        self.senders = senders  # their indexes in the connection order
        self.on_finished = on_finished
        self.active = True  # senders stop when the phase is over or out of time
        self.sent = 0
        self.latencies: list[int] = []  # ns, send -> receipt on the sampled clients
        self.first: dict[int, int] = {}  # sender -> slowest receipt of its seq 0, ns

    def payload(self, sender: int, seq: int) -> bytes:
        """Return one bench message, padded to PAYLOAD_SIZE bytes."""
        text = b"%s %d %d %d " % (self.token, sender, seq, time.monotonic_ns())
        return text + b"x" * max(1, PAYLOAD_SIZE - len(text))

    def end_marker(self, sender: int) -> bytes:
        """Return the frame payload a sender sends after its last message."""
        return b"%s %d end" % (self.end, sender)


class TokenCounter:
    """Count a token and an end marker (both TOKEN_LENGTH bytes, starting with "~") in a stream."""

    def __init__(self, token: bytes, end: bytes) -> None:
        assert len(token) == len(end) == TOKEN_LENGTH
        self.token = token
        self.end = end
        self.tail = b""  # the last TOKEN_LENGTH - 1 bytes seen: a token may start there

    def feed(self, data: bytes) -> tuple[int, int]:
        """Return how many tokens and end markers this chunk completes."""
        count = data.count(self.token)
        ends = data.count(self.end)
        if b"~" in self.tail:  # an occurrence cut in two by the chunk boundary starts there
            joint = self.tail + data[:TOKEN_LENGTH - 1]
            count += joint.count(self.token)
            ends += joint.count(self.end)
        if len(data) >= TOKEN_LENGTH - 1:
            self.tail = data[1 - TOKEN_LENGTH:]
        else:
            self.tail = (self.tail + data)[1 - TOKEN_LENGTH:]
        return count, ends


def bench_messages(payload: bytes, token: bytes) -> list[tuple[int, bytes, int]]:
    """Return (sender, seq, send_ns) of every bench message with this token in one frame.

    Mostly one; a welcome's history may hold several, end markers among them.
    """
    found = []
    at = payload.find(token)
    while at >= 0:
        fields = payload[at + TOKEN_LENGTH + 1:at + TOKEN_LENGTH + 48]
        sender, seq, sent = fields.split(b" ", 3)[:3]
        found.append((int(sender), seq, int(sent)))
        at = payload.find(token, at + TOKEN_LENGTH)
    return found
