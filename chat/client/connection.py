"""The connection: one socket at a time to the chat server, and a new one after each drop.

It connects with the secret session (so a reconnection takes our nickname back
from a connection the server has not yet seen die) and `since` (so the welcome
brings what we missed), reconnects with growing jittered pauses, gives up on
what retrying cannot fix (a refused handshake, another connection taking over
our session, a host putting us out), and leaves once the input ends and every
typed line is answered for. What the frames mean is the conversation's
business (chat/client/conversation.py).
"""

import asyncio
import random
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tornado.httpclient import HTTPClientError
from tornado.websocket import (
    WebSocketClientConnection,
    WebSocketClosedError,
    WebSocketError,
    websocket_connect,
)

from chat.client import export
from chat.client.conversation import Conversation
from chat.client.format import messages, visible
from chat.client.outbox import Outbox

# A `since` welcome carries up to 1000 messages of up to --max-text characters each.
MAX_INCOMING = 64 * 1024 * 1024
FIRST_DELAY = 0.5  # seconds before the first reconnection attempt, doubling...
LONGEST_DELAY = 10.0  # ...up to this
CONNECT_TIMEOUT = 5.0
REPLACED = 4001  # another connection with our session took our nickname
PUT_OUT = (4000, 4003)  # a host kicked us out of the room, or banned us: the reason says more
CLOSE_REASONS = {
    1001: "the server is going away",
    1012: "the server restarted",
    1013: "the server asked us to try again later",
}


def chat_url(base: str, nick: str | None, session: str, room: str | None, since: int | None) -> str:
    """Return the socket URL with this connection's nick, session, room and since."""
    parts = urlsplit(base)
    query = dict(parse_qsl(parts.query))
    query["session"] = session
    for name, value in (("nick", nick), ("room", room), ("since", since)):
        if value is not None:
            query[name] = str(value)
    return urlunsplit(parts._replace(query=urlencode(query)))


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
        host_key: str | None = None,
        give_back: Callable[[str], None] = lambda text: None,
    ) -> None:
        self.url = url
        self.lines = lines
        self.report = report  # connection trouble, kept apart from the chat
        self.wait = wait  # injected so tests decide when a reconnection may happen
        self.ping_interval = ping_interval
        self.session = secrets.token_urlsafe(16)  # lets a reconnection take over our nickname
        self.conversation = Conversation(
            nick, room, send=self._send, write=write, width=width, pause=self._pause,
            all_answered=self._all_answered, export=partial(export.save, url),
            give_back=give_back, host_key=host_key, origin=export.origin(url),
        )
        self.socket: WebSocketClientConnection | None = None
        self.finishing = False  # the input ended: stop once the outbox is empty
        self.failure: str | None = None  # why we gave up, if we did
        self.stopping = asyncio.Event()

    @property
    def nick(self) -> str | None:
        """The nickname we have, or will ask for on the next connection."""
        return self.conversation.nick

    @property
    def outbox(self) -> Outbox:
        """The messages typed and not yet answered for."""
        return self.conversation.delivery.outbox

    def receive(self, frame: str | bytes) -> None:
        """Act on one frame from the server (see Conversation.receive)."""
        self.conversation.receive(frame)

    async def run(self) -> int:
        """Chat until the input ends, /quit or stop(); return 0 if all typed was delivered."""
        reader = asyncio.ensure_future(self._read_input())
        try:
            await self._stay_connected()
        finally:
            self.conversation.delivery.cancel_retry()
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
        self.conversation.delivery.cancel_retry()
        if self.socket is not None:
            self.socket.close(1000, "Bye.")

    async def delivered(self) -> None:
        """Return once the server has answered for every message typed so far."""
        await self.conversation.delivery.all_delivered.wait()

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
        conversation = self.conversation
        address = chat_url(self.url, conversation.nick, self.session, conversation.room,
                           conversation.last_id)
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
                self.conversation.receive(frame)
            return self.conversation.ready, self._why_closed(socket)
        finally:
            self.socket = None
            self.conversation.disconnected()
            socket.close()  # already closed by the server, but Tornado wants us to say so too

    def _why_closed(self, socket: WebSocketClientConnection) -> str:
        """Describe why the server closed the connection; give up if we were replaced or put
        out by a host."""
        if socket.close_code == REPLACED:  # a second copy of us would fight over the nickname
            self.failure = "! another connection with this session took over; quitting"
        if socket.close_code in PUT_OUT:  # coming back at once would only be refused
            self.failure = f"! {visible(socket.close_reason or 'A host put you out.')}"
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
            if not self.conversation.typed(line):
                break
        self.finish()

    def finish(self) -> None:
        """Stop as soon as every message typed has been answered for."""
        self.finishing = True
        if not self.outbox:
            self.stop()

    def _all_answered(self) -> None:
        """Leave if the input has ended: nothing typed is left to deliver."""
        if self.finishing:
            self.stop()

    def _send(self, frame: str) -> None:
        """Send a frame if connected; a lost one is re-sent from the outbox after reconnecting."""
        if self.socket is None:
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

