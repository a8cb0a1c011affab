"""One person's conversation with a room, without the socket: typed lines become frames,
frames from the server become printed rows and outbox updates.

It owns who we are (nickname, room), the newest message shown (the next
connection's `since`), the outbox and when a held message goes again. The
connection (chat/client/connection.py) hands it every frame it reads and says
when the socket closed; it hands frames back through `send`, which a socket
that is gone ignores: the next welcome sends the whole outbox again.
"""

import asyncio
import json
import random
import secrets
from collections.abc import Awaitable, Callable

from chat.client.format import (
    NOT_STORED,
    Event,
    error_line,
    message_lines,
    name,
    rows,
    visible,
    welcome_lines,
)
from chat.client.outbox import STORE_FIRST_DELAY, STORE_LONGEST_DELAY, Outbox, back_off
from chat.client.roster import Roster

MAX_FRAME = 64 * 1024  # the server closes the connection (1009) on a bigger frame


class Conversation:
    """What one person typed and what the room said: print events, keep the outbox."""

    def __init__(
        self,
        nick: str | None,
        room: str | None,
        send: Callable[[str], None],
        write: Callable[[str], None],
        width: Callable[[], int | None],
        pause: Callable[[float], Awaitable[None]],
        all_answered: Callable[[], None],
    ) -> None:
        self.nick = nick
        self.room = room
        self.send = send  # a frame to the server, if there is a socket
        self.write = write  # chat rows: what the room said and what the server answered
        self.width = width  # the terminal's columns now, or None for a pipe (see rows())
        self.pause = pause  # the connection's wait, which stop() cuts short
        self.all_answered = all_answered  # called when the outbox empties
        self.outbox = Outbox(secrets.token_hex(4))
        self.last_id: int | None = None  # the newest entry of the room's log applied
        self.online = Roster()  # who is in the room: the names the prompt completes
        self.ready = False  # welcomed on the current socket: frames may go out
        self.all_delivered = asyncio.Event()
        self.all_delivered.set()
        self.retry: asyncio.Task[None] | None = None  # the pause before a held message goes again
        self.unstored = 0  # pauses for `unavailable` since the last ack: each one twice as long

    def others(self) -> list[str]:
        """Return the nicknames of everyone else online, to complete."""
        return self.online.others(self.nick)

    def disconnected(self) -> None:
        """Note that the socket closed: nothing goes out until the next welcome."""
        self.ready = False

    def typed(self, line: str) -> bool:
        """Act on one typed line: a command or a message; return False if it asks to quit."""
        line = line.rstrip("\r\n")
        if not line.strip():  # the server would only answer "empty"
            return True
        command, _, argument = line.partition(" ")
        if command == "/quit":
            return False
        if command == "/nick":
            self._rename(argument.strip())
        else:
            self._post(line)
        return True

    def _post(self, text: str) -> None:
        """Put a message in the outbox and send it, unless it must wait its turn."""
        ref = self.outbox.add(text)
        if len(self.outbox.frame(ref).encode()) > MAX_FRAME:  # the server would hang up on it
            self.outbox.settle(ref)
            self._print(f"! The message is too long to send: a frame holds {MAX_FRAME} bytes."
                        " (too_long)")
            return
        self.all_delivered.clear()
        if not self.ready:
            return  # the welcome sends the whole outbox
        if self.outbox.must_wait():
            self.outbox.hold(ref)
        else:
            self._send(self.outbox.frame(ref))

    def _rename(self, nick: str) -> None:
        """Ask for a new nickname now, or on the next connection if we are offline."""
        if not nick:
            self._print("! Type a nickname after /nick, e.g. /nick ada. (usage)")
        elif self.ready:
            self._send(json.dumps({"type": "nick", "nick": nick}, ensure_ascii=False))
        else:
            self.nick = nick
            self._print(f"* you will ask for the nickname {visible(nick)} when reconnected")

    def _send(self, frame: str) -> None:
        """Send a frame if welcomed; a lost one is re-sent from the outbox after reconnecting."""
        if self.ready:
            self.send(frame)

    def receive(self, frame: str | bytes) -> None:
        """Act on one frame from the server: print it, or update the outbox."""
        try:
            event = json.loads(frame)
        except ValueError:
            return  # not protocol v1: nothing to show
        if not isinstance(event, dict):
            return
        self.online.update(event)
        match event.get("type"):
            case "welcome":
                self._welcomed(event)
            case "message":
                self._entry(event)
            case "ack":
                self.unstored = 0  # the server stores again
                self._answered(event.get("ref"))
            case "error":
                self._refused(event)
            case "join" | "leave" if event.get("nick") != self.nick:  # the welcome said we are in
                verb = "joined" if event["type"] == "join" else "left"
                self._print(f"* {name(event.get('nick'))} {verb}")
            case "nick":
                self._renamed(event)
            # typing, rooms and anything newer than this client: not worth a line

    def _welcomed(self, event: Event) -> None:
        """Show who is here and what we missed, then send everything not yet acknowledged."""
        self.ready = True
        self.nick = str(event.get("nick", self.nick))
        if event.get("reset"):  # ids started again: the ones we saw mean nothing now
            self.last_id = None
        for line in welcome_lines(event, self.room):
            self._print(line)
        for entry in event.get("history") or []:
            if isinstance(entry, dict):
                self._entry(entry)
        self.cancel_retry()
        for ref in self.outbox.restart():
            self._send(self.outbox.frame(ref))

    def _entry(self, event: Event) -> None:
        """Apply one entry of the room's log, unless its id shows we had it already.

        Ids count every kind of entry; a kind this client does not show still
        moves `last_id` on, so the next `since` does not ask for it again.
        """
        entry_id = event.get("id")
        if isinstance(entry_id, int):
            if self.last_id is not None and entry_id <= self.last_id:
                return
            self.last_id = entry_id
        if event.get("type") == "message":
            for row in message_lines(event, self.nick, self.width()):
                self.write(row)

    def _print(self, line: str) -> None:
        """Print one chat line, cut to fit the terminal like a message (see rows())."""
        for row in rows([list(line)], self.width()):
            self.write(row)

    def _renamed(self, event: Event) -> None:
        """Print a nickname change, and remember ours for the next connection."""
        old, new = str(event.get("old")), str(event.get("nick"))
        if old == self.nick:  # ours: printed as it is, as our nickname always is
            self.nick = new
            self._print(f"* {visible(old)} is now {visible(new)}")
        else:
            self._print(f"* {name(old)} is now {name(new)}")

    def _refused(self, event: Event) -> None:
        """Hold a message refused for now, to send again later; show any other error, and drop."""
        ref = event.get("ref")
        if isinstance(ref, str) and ref not in self.outbox:
            return  # about a message already answered for (a re-send's twin)
        code = event.get("code")
        if isinstance(ref, str) and code in ("rate_limited", "unavailable"):
            self.outbox.hold(ref)
            if code == "rate_limited":
                self._retry_after(event.get("retry_after"))
            else:
                self._not_stored()
            return
        self._print(error_line(event))
        if isinstance(ref, str):
            self._answered(ref)

    def _answered(self, ref: object) -> None:
        """Forget an acknowledged or refused message; send the next held one; finish if done."""
        if not isinstance(ref, str) or not self.outbox.settle(ref):
            return
        if self.retry is None:
            self._release()
        if not self.outbox:
            self.all_delivered.set()
            self.all_answered()

    def _retry_after(self, seconds: object) -> None:
        """Send the oldest held message again once the rate limit allows."""
        delay = seconds if isinstance(seconds, int | float) and 0 <= seconds <= 60 else 1.0
        self._retry_in(delay)

    def _not_stored(self) -> None:
        """Say once that the server could not store it; send it again after a doubling pause."""
        if self.retry is not None:  # a pause is running: its re-send comes first
            return
        if self.unstored == 0:
            self._print(NOT_STORED)
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
            self._send(self.outbox.frame(ref))

    def cancel_retry(self) -> None:
        """Forget the pending re-send: a fresh connection sends the whole outbox anyway."""
        if self.retry is not None:
            self.retry.cancel()
            self.retry = None

