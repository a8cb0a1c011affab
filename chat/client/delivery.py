"""Delivery: the outbox on the wire. Each message typed is sent, held while the server says
"not now", sent again after the pause it asks for, and forgotten once answered for:
acknowledged, or refused for good.

A message refused for now (`rate_limited`, `slow_mode`: after `retry_after`;
`unavailable`: after 1 s, doubling up to 30 s) is held, and what was typed after
it waits behind it, so the room sees them in the order they were typed. No
socket: frames go out through `send`, which drops them while offline (the next
welcome calls restart()), and pauses are the connection's `pause`.
"""

import asyncio
import random
import secrets
from collections.abc import Awaitable, Callable

from chat.client.format import NOT_STORED
from chat.client.outbox import STORE_FIRST_DELAY, STORE_LONGEST_DELAY, Frame, Outbox, back_off

MAX_FRAME = 64 * 1024  # the server closes the connection (1009) on a bigger frame
LONGEST_WAIT = 3600  # seconds: slow mode may ask for up to an hour between two posts
HELD = ("rate_limited", "slow_mode", "unavailable")  # refused for now: sent again later


class Delivery:
    """Send each typed message until the server answers for it, in the order typed."""

    def __init__(
        self,
        send: Callable[[str], None],
        say: Callable[[str], None],
        pause: Callable[[float], Awaitable[None]],
        all_answered: Callable[[], None],
    ) -> None:
        self.send = send  # a frame to the server, if welcomed
        self.say = say  # a row to print
        self.pause = pause  # the connection's wait, which stop() cuts short
        self.all_answered = all_answered  # called when the outbox empties
        self.outbox = Outbox(secrets.token_hex(4))
        self.all_delivered = asyncio.Event()
        self.all_delivered.set()
        self.retry: asyncio.Task[None] | None = None  # the pause before a held message goes again
        self.unstored = 0  # pauses for `unavailable` since the last ack: each one twice as long

    def post(self, message: str | Frame, ready: bool) -> None:
        """Put a message (its text, or a whole frame: a reply, an edit, a reaction) in the
        outbox and send it, unless it must wait its turn."""
        ref = self.outbox.add(message)
        if len(self.outbox.frame(ref).encode()) > MAX_FRAME:  # the server would hang up on it
            self.outbox.settle(ref)
            self.say(f"! The message is too long to send: a frame holds {MAX_FRAME} bytes."
                     " (too_long)")
            return
        self.all_delivered.clear()
        if not ready:
            return  # the welcome sends the whole outbox
        if self.outbox.must_wait():
            self.outbox.hold(ref)
        else:
            self.send(self.outbox.frame(ref))

    def restart(self) -> None:
        """Send everything not yet answered for, oldest first: a fresh connection."""
        self.cancel_retry()
        for ref in self.outbox.restart():
            self.send(self.outbox.frame(ref))

    def acknowledged(self, ref: object) -> None:
        """Forget a message the server stored."""
        self.unstored = 0  # the server stores again
        self.answered(ref)

    def held(self, ref: str, code: str, retry_after: object) -> None:
        """Keep back a message refused for now (one of HELD), to send again later."""
        self.outbox.hold(ref)
        if code == "unavailable":
            self._not_stored()
        else:
            self._retry_after(retry_after)

    def answered(self, ref: object) -> None:
        """Forget an acknowledged or refused message; send the next held one; finish if done."""
        if not isinstance(ref, str) or not self.outbox.settle(ref):
            return
        if self.retry is None:
            self._release()
        if not self.outbox:
            self.all_delivered.set()
            self.all_answered()

    def _retry_after(self, seconds: object) -> None:
        """Send the oldest held message again once the server allows."""
        delay = (seconds if isinstance(seconds, int | float) and 0 <= seconds <= LONGEST_WAIT
                 else 1.0)
        self._retry_in(delay)

    def _not_stored(self) -> None:
        """Say once that the server could not store it; send it again after a doubling pause."""
        if self.retry is not None:  # a pause is running: its re-send comes first
            return
        if self.unstored == 0:
            self.say(NOT_STORED)
        longest = back_off(self.unstored, STORE_FIRST_DELAY, STORE_LONGEST_DELAY)
        self.unstored += 1
        self._retry_in(random.uniform(longest / 2, longest))  # jitter: Redis back, not stampeded

    def _retry_in(self, seconds: float) -> None:
        """Send the oldest held message again after `seconds`, unless a pause already runs."""
        if self.retry is None:
            self.retry = asyncio.ensure_future(self._release_after(seconds))

    async def _release_after(self, seconds: float) -> None:
        """Wait (unless stopped), then send the oldest held message again."""
        await self.pause(seconds)
        self._release()

    def _release(self) -> None:
        """Send the oldest held message again."""
        self.retry = None
        ref = self.outbox.release()
        if ref is not None:
            self.send(self.outbox.frame(ref))

    def cancel_retry(self) -> None:
        """Forget the pending re-send: a fresh connection sends the whole outbox anyway."""
        if self.retry is not None:
            self.retry.cancel()
            self.retry = None
