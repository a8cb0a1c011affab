"""The outbox: messages typed but not yet acknowledged, each with its ref, and the pauses
before a held one goes again. A reply, an edit or a reaction waits in it like a message.

A ref is the outbox's own random prefix and a count, so it carries nothing of
the secret session (refs are stored with the messages). A message the server
refused for now (`rate_limited`, `unavailable`) is held, and held ones go again
one at a time, oldest first, so the room sees them in the order they were typed.
No I/O, no clock: chat/client/delivery.py decides when to send.
"""

import json
from typing import Any

Frame = dict[str, Any]

STORE_FIRST_DELAY = 1.0  # seconds before a message the server could not store goes again...
STORE_LONGEST_DELAY = 30.0  # ...doubling while it still cannot, up to this


def back_off(failures: int, first: float, longest: float) -> float:
    """Return the longest pause after this many failures in a row: `first`, doubling, capped."""
    return min(first * 2 ** min(failures, 32), longest)


class Outbox:
    """Messages typed but not yet acknowledged, by ref, in the order they were typed.

    The rate limit, or a server that cannot store them yet, may hold some back:
    they go again one at a time, oldest first, so the room sees them in the
    order they were typed.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0
        self.pending: dict[str, Frame] = {}  # ref -> the frame without its ref, oldest first
        self.held: set[str] = set()  # refused for now (rate_limited, unavailable), to send again
        self.retrying: str | None = None  # the held message sent again, not yet answered

    def __len__(self) -> int:
        return len(self.pending)

    def __contains__(self, ref: object) -> bool:
        return ref in self.pending

    def add(self, message: str | Frame) -> str:
        """Keep a new message (its text, or the whole frame) and return its ref."""
        self.count += 1
        ref = f"{self.prefix}-{self.count}"
        self.pending[ref] = ({"type": "message", "text": message} if isinstance(message, str)
                             else message)
        return ref

    def frame(self, ref: str) -> str:
        """Return the JSON frame that sends this message, with its ref."""
        return json.dumps({**self.pending[ref], "ref": ref}, ensure_ascii=False)

    def settle(self, ref: str) -> bool:
        """Forget a message the server answered for; return whether it was waiting."""
        self.held.discard(ref)
        if self.retrying == ref:
            self.retrying = None
        return self.pending.pop(ref, None) is not None

    def hold(self, ref: str) -> None:
        """Keep a message back until it may be sent again."""
        self.held.add(ref)
        if self.retrying == ref:
            self.retrying = None

    def must_wait(self) -> bool:
        """Say whether a new message must queue behind held ones to keep the order."""
        return bool(self.held) or self.retrying is not None

    def release(self) -> str | None:
        """Take the oldest held message to send again, unless one is already on its way."""
        if self.retrying is not None or not self.held:
            return None
        self.retrying = next(ref for ref in self.pending if ref in self.held)
        self.held.discard(self.retrying)
        return self.retrying

    def restart(self) -> list[str]:
        """Return every waiting ref, oldest first, to send on a fresh connection."""
        self.held.clear()
        self.retrying = None
        return list(self.pending)
