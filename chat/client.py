"""The terminal client: `python -m chat.client ws://HOST:3000/ws --nick ada`.

It prints the room's events as lines and sends each typed line as a message
(docs/protocol.md). Every message carries a `ref` and waits in an outbox until
the server acknowledges it; when the connection drops, the client reconnects
with back-off, resumes with `since` and sends the outbox again, so each line
is delivered exactly once. A message the server could not take yet (the rate
limit, or `unavailable`: it could not store it) is sent again later, before
anything typed after it. What others send cannot drive the terminal or pass for
another line: control, format (bidi) and separator characters print as escapes,
their nicknames are isolated, and every further row of a message starts with a
marker no message starts with. Formatting and the outbox do no I/O;
`TerminalChat` owns the socket; `main` wires stdin and stdout to it.
"""

import argparse
import asyncio
import codecs
import contextlib
import io
import json
import os
import random
import secrets
import shutil
import signal
import sys
import threading
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tornado.httpclient import HTTPClientError
from tornado.websocket import (
    WebSocketClientConnection,
    WebSocketClosedError,
    WebSocketError,
    websocket_connect,
)

Event = dict[str, Any]

MAX_FRAME = 64 * 1024  # the server closes the connection (1009) on a bigger frame
# A `since` welcome carries up to 1000 messages of up to --max-text characters each.
MAX_INCOMING = 64 * 1024 * 1024
FIRST_DELAY = 0.5  # seconds before the first reconnection attempt, doubling...
LONGEST_DELAY = 10.0  # ...up to this
STORE_FIRST_DELAY = 1.0  # seconds before a message the server could not store goes again...
STORE_LONGEST_DELAY = 30.0  # ...doubling while it still cannot, up to this
CONNECT_TIMEOUT = 5.0
REPLACED = 4001  # another connection with our session took our nickname
# Our own sentence for `unavailable`: the server's wording may change.
NOT_STORED = "! The server could not store your message yet; it will be sent again. (unavailable)"
# First Strong Isolate ... Pop Directional Isolate: a nickname's own direction stays between
# them, so a right-to-left name cannot reorder what follows it on the line.
ISOLATE, END_ISOLATE = "\u2068", "\u2069"
# What every further row of a message starts with, however the message or the terminal wrapped
# it. A message's first row starts with its time ("14:05 "), a notice with "* " or "! ".
CONTINUATION = "      │ "
NARROWEST = 20  # columns: a narrower terminal is wrapped as if this wide
TAB_STOP = 8
# Characters that would drive or rearrange the terminal, or hide: controls, format characters
# (bidi overrides and isolates, zero-width ones) and the line and paragraph separators.
HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})
CLOSE_REASONS = {
    1001: "the server is going away",
    1012: "the server restarted",
    1013: "the server asked us to try again later",
}


def shown(char: str) -> str:
    """Return a character someone sent as printed: itself, or an escape such as \\u202e."""
    if char == "\t" or unicodedata.category(char) not in HIDDEN:
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: str) -> str:
    """Return text with control, format and separator characters shown as escapes, so nobody
    can drive your terminal or reorder what it shows."""
    return "".join(shown(char) for char in text)


def columns(text: str) -> int:
    """Return the most columns a terminal may give `text`: better to wrap early than late.

    Wide and ambiguous East Asian characters count two, everything else one
    (a combining mark too, though most terminals draw it in no column).
    """
    return sum(2 if unicodedata.east_asian_width(char) in "WFA" else 1 for char in text)


def rows(lines: list[list[str]], width: int | None) -> list[str]:
    """Return the rows that print these lines (each line a list of characters as shown).

    Every line after the first starts with CONTINUATION. With a width (a
    terminal), each line is also cut to fit it, and each piece cut off starts
    with CONTINUATION too: whatever someone sends, and however it is padded,
    no row of theirs but the first can look like the start of a message.
    """
    if width is None:  # a pipe: nobody wraps the lines
        return ["".join(lines[0])] + [CONTINUATION + "".join(line) for line in lines[1:]]
    printed: list[str] = []
    for number, line in enumerate(lines):
        printed += fitted(line, max(width, NARROWEST), continued=number > 0)
    return printed


def fitted(units: list[str], width: int, continued: bool) -> list[str]:
    """Cut one line into rows of at most `width` columns, after a space when one is near."""
    done: list[str] = []
    floor = 1 if continued else 0  # how many units at the start of `row` are the marker
    row = [CONTINUATION] if continued else []
    used = columns(CONTINUATION) if continued else 0
    for unit in units:
        if unit == "\t":  # as spaces: a tab's width depends on where the terminal thinks it is
            unit = " " * (TAB_STOP - used % TAB_STOP)
        size = columns(unit)
        if used + size > width and len(row) > floor:
            # A word moves to the next row whole if it is short: a long one (Chinese has no
            # spaces) would leave this row nearly empty, so it is cut where the row ends.
            room = min(width - columns(CONTINUATION) - size, width // 2)
            cut = break_after_space(row, floor, room)
            done.append("".join(row[:cut]))
            row, floor = [CONTINUATION, *row[cut:]], 1
            used = columns("".join(row))
        row.append(unit)
        used += size
    done.append("".join(row))
    return done


def break_after_space(row: list[str], floor: int, room: int) -> int:
    """Return where to cut a full row: after its last space if what follows it takes at most
    `room` columns, else at the row's end."""
    for index in range(len(row) - 1, floor - 1, -1):
        if row[index].isspace():
            rest = row[index + 1 :]
            return index + 1 if columns("".join(rest)) <= room else len(row)
    return len(row)


def name(nick: object, own: str | None = None) -> str:
    """Return a nickname to print: escaped and, unless it is ours, isolated (FSI ... PDI)."""
    nick = str(nick)
    return visible(nick) if nick == own else f"{ISOLATE}{visible(nick)}{END_ISOLATE}"


def clock(ts: object) -> str:
    """Return HH:MM in local time for a server timestamp in Unix milliseconds."""
    seconds = ts / 1000 if isinstance(ts, int | float) and not isinstance(ts, bool) else time.time()
    try:
        return datetime.fromtimestamp(seconds).strftime("%H:%M")
    except (OverflowError, OSError, ValueError):  # a timestamp no calendar holds
        return "--:--"


def message_lines(event: Event, own: str | None = None, width: int | None = None) -> list[str]:
    """Return a message as rows: `HH:MM nick: text`, then its further lines (and, on a terminal
    `width` columns wide, the pieces cut off to fit) after CONTINUATION."""
    prefix = f"{clock(event.get('ts'))} {name(event.get('nick', '?'), own)}: "
    text = str(event.get("text", "")).replace("\r\n", "\n").replace("\r", "\n")
    lines = [[shown(char) for char in line] for line in text.split("\n")]
    lines[0] = [*prefix, *lines[0]]
    return rows(lines, width)


def error_line(event: Event) -> str:
    """Return an error event as `! <message> (<code>)`."""
    return f"! {visible(str(event.get('message', '')))} ({visible(str(event.get('code', '?')))})"


def welcome_lines(event: Event, room: str | None) -> list[str]:
    """Return the welcome as lines: room, nickname and who is online; then any reset or gap."""
    own = str(event.get("nick"))
    online = ", ".join(name(nick, own) for nick in event.get("online") or [])
    room = visible(str(event.get("room") or room or "general"))
    lines = [f"* connected to #{room} as {visible(own)}; online: {online}"]
    if event.get("reset"):
        lines.append("* the server lost its history: message numbers start again")
    if event.get("truncated"):
        lines.append("* more was said while you were away than the server resends; "
                     "the oldest of it is missing")
    return lines


def back_off(failures: int, first: float, longest: float) -> float:
    """Return the longest pause after this many failures in a row: `first`, doubling, capped."""
    return min(first * 2 ** min(failures, 32), longest)


def messages(count: int) -> str:
    """Return "1 message" or "N messages"."""
    return f"{count} message" if count == 1 else f"{count} messages"


def chat_url(base: str, nick: str | None, session: str, room: str | None, since: int | None) -> str:
    """Return the socket URL with this connection's nick, session, room and since."""
    parts = urlsplit(base)
    query = dict(parse_qsl(parts.query))
    query["session"] = session
    for name, value in (("nick", nick), ("room", room), ("since", since)):
        if value is not None:
            query[name] = str(value)
    return urlunsplit(parts._replace(query=urlencode(query)))


def socket_address(text: str) -> str:
    """Return the chat socket's ws:// or wss:// URL for a URL typed on the command line."""
    parts = urlsplit(text)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a chat address: use ws://HOST:3000/ws "
            "(or the http:// address the server printed)"
        )
    path = parts.path if parts.path not in ("", "/") else "/ws"
    return urlunsplit(parts._replace(scheme=scheme, path=path))


class Outbox:
    """Messages typed but not yet acknowledged, by ref, in the order they were typed.

    The rate limit, or a server that cannot store them yet, may hold some back:
    they go again one at a time, oldest first, so the room sees them in the
    order they were typed.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0
        self.pending: dict[str, str] = {}  # ref -> text, oldest first
        self.held: set[str] = set()  # refused for now (rate_limited, unavailable), to send again
        self.retrying: str | None = None  # the held message sent again, not yet answered

    def __len__(self) -> int:
        return len(self.pending)

    def __contains__(self, ref: object) -> bool:
        return ref in self.pending

    def add(self, text: str) -> str:
        """Keep a new message and return its ref."""
        self.count += 1
        ref = f"{self.prefix}-{self.count}"
        self.pending[ref] = text
        return ref

    def frame(self, ref: str) -> str:
        """Return the JSON frame that posts this message."""
        return json.dumps({"type": "message", "text": self.pending[ref], "ref": ref},
                          ensure_ascii=False)

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


class TerminalChat:
    """One person's chat: print the room's events, send typed lines, survive reconnects."""

    def __init__(
        self,
        url: str,
        nick: str | None,
        lines: AsyncIterator[str],
        write: Callable[[str], None],
        report: Callable[[str], None],
        room: str | None = None,
        wait: Callable[[float], Awaitable[None]] = asyncio.sleep,
        ping_interval: float = 20.0,
        width: Callable[[], int | None] = lambda: None,
    ) -> None:
        self.url = url
        self.nick = nick
        self.room = room
        self.lines = lines
        self.write = write  # chat rows: what the room said and what the server answered
        self.width = width  # the terminal's columns now, or None for a pipe (see rows())
        self.report = report  # connection trouble, kept apart from the chat
        self.wait = wait  # injected so tests decide when a reconnection may happen
        self.ping_interval = ping_interval
        self.session = secrets.token_urlsafe(16)  # lets a reconnection take over our nickname
        self.outbox = Outbox(secrets.token_hex(4))
        self.last_id: int | None = None  # the newest message shown
        self.socket: WebSocketClientConnection | None = None
        self.ready = False  # welcomed on the current socket: frames may go out
        self.finishing = False  # the input ended: stop once the outbox is empty
        self.failure: str | None = None  # why we gave up, if we did
        self.stopping = asyncio.Event()
        self.all_delivered = asyncio.Event()
        self.all_delivered.set()
        self.retry: asyncio.Task[None] | None = None  # the pause before a held message goes again
        self.unstored = 0  # pauses for `unavailable` since the last ack: each one twice as long

    async def run(self) -> int:
        """Chat until the input ends, /quit or stop(); return 0 if all typed was delivered."""
        reader = asyncio.ensure_future(self._read_input())
        try:
            await self._stay_connected()
        finally:
            self._cancel_retry()
            reader.cancel()
            await asyncio.wait([reader])
        if self.failure:
            self.report(self.failure)
        if self.outbox:
            self.report(f"! {messages(len(self.outbox))} you typed not delivered")
        return 1 if self.failure or self.outbox else 0

    def stop(self) -> None:
        """Leave now, delivered or not: close the connection and let run() return."""
        self.stopping.set()
        self._cancel_retry()
        if self.socket is not None:
            self.socket.close(1000, "Bye.")

    async def delivered(self) -> None:
        """Return once the server has answered for every message typed so far."""
        await self.all_delivered.wait()

    async def _stay_connected(self) -> None:
        """Connect, and reconnect after each drop, with growing jittered pauses, until stopped."""
        delay = FIRST_DELAY
        while not self.stopping.is_set():
            welcomed, why = await self._attend()
            if self.stopping.is_set() or self.failure:
                return
            if welcomed:
                delay = FIRST_DELAY
            pause = random.uniform(delay / 2, delay)  # jitter: a restarted server is not stampeded
            self.report(f"! {why} — reconnecting in {pause:.1f} s{self._still_to_deliver()}")
            await self._pause(pause)
            delay = min(delay * 2, LONGEST_DELAY)

    def _still_to_deliver(self) -> str:
        """Say, once the input has ended, what we are still waiting to deliver."""
        if not self.finishing:
            return ""
        return f"; {messages(len(self.outbox))} still to deliver (Ctrl+C to quit without)"

    async def _attend(self) -> tuple[bool, str]:
        """Connect once and chat until the connection ends; return if we were welcomed, and why."""
        address = chat_url(self.url, self.nick, self.session, self.room, self.last_id)
        try:
            socket = await websocket_connect(
                address, connect_timeout=CONNECT_TIMEOUT, ping_interval=self.ping_interval,
                max_message_size=MAX_INCOMING,
            )
        except HTTPClientError as error:
            if 400 <= error.code < 500 and error.code != 429:  # retrying cannot fix these
                self.failure = f"! the server refused to connect us: {error}"
            return False, f"cannot connect ({error})"
        except (OSError, WebSocketError) as error:
            return False, f"cannot connect ({getattr(error, 'strerror', None) or error})"
        self.socket = socket
        if self.stopping.is_set():  # stop() came while we were connecting
            socket.close(1000, "Bye.")
        try:
            while (frame := await socket.read_message()) is not None:
                self.receive(frame)
            return self.ready, self._why_closed(socket)
        finally:
            self.socket, self.ready = None, False
            socket.close()  # already closed by the server, but Tornado wants us to say so too

    def _why_closed(self, socket: WebSocketClientConnection) -> str:
        """Describe why the server closed the connection; give up if we were replaced."""
        if socket.close_code == REPLACED:  # a second copy of us would fight over the nickname
            self.failure = "! another connection with this session took over; quitting"
        reason = CLOSE_REASONS.get(socket.close_code or 0, "connection lost")
        return f"disconnected ({reason})"

    async def _pause(self, seconds: float) -> None:
        """Wait `seconds`, unless stop() comes first."""
        pause = asyncio.ensure_future(self.wait(seconds))
        stopped = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait([pause, stopped], return_when=asyncio.FIRST_COMPLETED)
        finally:  # cancelled too (a retry made useless by a reconnect): leave nothing waiting
            for waiter in (pause, stopped):
                waiter.cancel()
        await asyncio.wait([pause, stopped])

    async def _read_input(self) -> None:
        """Act on each typed line; once the input ends or asks to quit, finish."""
        async for line in self.lines:
            if not self.typed(line):
                break
        self.finish()

    def finish(self) -> None:
        """Stop as soon as every message typed has been answered for."""
        self.finishing = True
        if not self.outbox:
            self.stop()

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
        """Send a frame if connected; a lost one is re-sent from the outbox after reconnecting."""
        if self.socket is None or not self.ready:
            return
        try:
            sent = self.socket.write_message(frame)
        except WebSocketClosedError:
            return  # the read loop sees the close and reconnects
        sent.add_done_callback(self._sent)

    @staticmethod
    def _sent(sent: "asyncio.Future[None]") -> None:
        """Collect a failed write's error so asyncio does not log it; the read loop reconnects."""
        if not sent.cancelled():
            sent.exception()

    def receive(self, frame: str | bytes) -> None:
        """Act on one frame from the server: print it, or update the outbox."""
        try:
            event = json.loads(frame)
        except ValueError:
            return  # not protocol v1: nothing to show
        if not isinstance(event, dict):
            return
        match event.get("type"):
            case "welcome":
                self._welcomed(event)
            case "message":
                self._show(event)
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
        for message in event.get("history") or []:
            if isinstance(message, dict):
                self._show(message)
        self._cancel_retry()
        for ref in self.outbox.restart():
            self._send(self.outbox.frame(ref))

    def _show(self, event: Event) -> None:
        """Print a message unless its id shows we printed it already."""
        message_id = event.get("id")
        if isinstance(message_id, int):
            if self.last_id is not None and message_id <= self.last_id:
                return
            self.last_id = message_id
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
            if self.finishing:
                self.stop()

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
        await self._pause(seconds)
        self._release()

    def _release(self) -> None:
        """Send the oldest held message again."""
        self.retry = None
        ref = self.outbox.release()
        if ref is not None:
            self._send(self.outbox.frame(ref))

    def _cancel_retry(self) -> None:
        """Forget the pending re-send: a fresh connection sends the whole outbox anyway."""
        if self.retry is not None:
            self.retry.cancel()
            self.retry = None


def read_lines(fd: int, encoding: str, deliver: Callable[[str | None], None]) -> None:
    """Read lines from a file descriptor, passing each to `deliver`, then None at the end.

    `os.read` rather than `sys.stdin`: a thread blocked inside sys.stdin holds
    its lock, and the interpreter cannot then shut down cleanly.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    pending = ""
    with contextlib.suppress(OSError):  # the terminal went away: the end of the input too
        while chunk := os.read(fd, 65536):
            *lines, pending = (pending + decoder.decode(chunk)).split("\n")
            for line in lines:
                deliver(line)
    pending += decoder.decode(b"", final=True)
    if pending:
        deliver(pending)
    deliver(None)


async def stdin_lines() -> AsyncIterator[str]:
    """Yield the lines typed on stdin, read by a thread so the loop never waits on the keyboard."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def deliver(line: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: we are exiting anyway
            loop.call_soon_threadsafe(lines.put_nowait, line)

    reader = threading.Thread(
        target=read_lines, args=(sys.stdin.fileno(), sys.stdin.encoding or "utf-8", deliver),
        name="stdin", daemon=True,  # a daemon: the program may exit while it waits for a key
    )
    reader.start()
    while (line := await lines.get()) is not None:
        yield line


def terminal_width() -> int | None:
    """Return stdout's width in columns if it is a terminal; None for a pipe or a file."""
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def print_line(line: str) -> None:
    """Print one chat line to stdout at once, even when stdout is a pipe."""
    print(line, flush=True)


def print_report(line: str) -> None:
    """Print one line about the connection to stderr."""
    print(line, file=sys.stderr, flush=True)


async def chat_in_terminal(url: str, nick: str | None, room: str | None) -> int:
    """Chat on stdin and stdout until EOF, /quit or Ctrl+C; return the exit code."""
    loop = asyncio.get_running_loop()
    chat = TerminalChat(url, nick, stdin_lines(), print_line, print_report, room=room,
                        width=terminal_width)

    def interrupted() -> None:
        loop.remove_signal_handler(signal.SIGINT)  # a second Ctrl+C quits at once
        chat.stop()

    with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C raises KeyboardInterrupt
        loop.add_signal_handler(signal.SIGINT, interrupted)
    return await chat.run()


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Turn the command line into the URL, nickname and room."""
    parser = argparse.ArgumentParser(
        prog="python -m chat.client",
        description="Chat from a terminal: each line you type is a message; "
                    "the room's messages are printed as they arrive.",
        epilog="Commands: /nick NAME changes your nickname; /quit (or Ctrl+D) leaves once "
               "everything you typed is delivered; Ctrl+C leaves at once.",
    )
    parser.add_argument("url", type=socket_address,
                        help="the chat's address, e.g. ws://192.168.1.23:3000/ws "
                             "(the http:// address the server printed works too)")
    parser.add_argument("--nick", help="the nickname you would like (default: the server "
                                       "picks a guest-XXXX name)")
    parser.add_argument("--room", help="the room to join (default: general)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Run the terminal client with the options in `argv`; return the exit code."""
    args = parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace")  # an emoji must not crash a plain terminal
    try:
        return asyncio.run(chat_in_terminal(args.url, args.nick, args.room))
    except KeyboardInterrupt:  # the second Ctrl+C, or the first one on Windows
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
