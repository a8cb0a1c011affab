"""The chat socket: the lesson's class-level waiters and broadcast loop, thin I/O around the rest.

A connection is checked at the door (`prepare`), let into a room by the hub
(`open`), hands each frame to its command (`on_message`, chat/commands/), and
leaves (`on_close`). What it sends goes out through chat/output.py, once per
loop tick. The page and the QR codes are chat/pages.py.
"""

import asyncio
import logging
import math
import secrets
import time
from collections.abc import Awaitable

import tornado.web
import tornado.websocket

from chat import commands, handshake, nicknames, protocol
from chat.commands.typing import TYPING_EVERY
from chat.config import Settings
from chat.frames import text_frame
from chat.hub import Hub, Unavailable
from chat.occasional import OccasionalWarning
from chat.output import Outgoing, Pacer, write_soon
from chat.pages import too_many
from chat.pinger import Pinger
from chat.protocol import Event, ProtocolError
from chat.ratelimit import AddressBuckets
from chat.upgraded import own_frame_loop, slim_down
from chat.uploads.files import Files

log = logging.getLogger(__name__)


class ChatSocket(tornado.websocket.WebSocketHandler):
    """One browser's connection; the class-level `waiters` are everyone connected, by room."""

    waiters: dict[str, set["ChatSocket"]] = {}  # room name -> the sockets in that room

    # Our attributes live in slots: Tornado's own fill 27 of the 30 keys an instance
    # __dict__ can share with the others; past 30 each socket gets a 1.6 KB dict of its own.
    __slots__ = ("hub", "limits", "frames", "joins", "refusals", "pinger", "nick", "holder",
                 "replaced", "outgoing", "typing_relayed_at", "room", "session", "address",
                 "keyed", "files")

    def initialize(
        self, hub: Hub, limits: Settings, frames: AddressBuckets, joins: AddressBuckets,
        refusals: OccasionalWarning, pinger: Pinger, pacer: Pacer, files: Files | None = None,
    ) -> None:
        self.files = files  # the upload directory, for a message's file (chat/uploads/)
        self.hub = hub  # LocalHub, or RedisHub in a cluster: rooms, nicknames, history
        self.limits = limits
        self.frames = frames  # each address's frames, whichever connection sends them
        self.joins = joins  # each address's new connections
        self.refusals = refusals  # the log line for refused handshakes, now and then
        self.pinger = pinger  # hears this socket's pongs
        self.nick: str | None = None
        self.holder = secrets.token_hex(8)  # names this connection to the hub, cluster-wide
        self.replaced = False  # a newer connection from the same page took over
        self.outgoing = Outgoing(self, limits.max_unsent, pacer)  # one write per loop tick
        self.typing_relayed_at = -TYPING_EVERY
        self.keyed = False  # this connection presented the host key (chat/commands/host.py)

    async def prepare(self) -> None:
        """Refuse the handshake for a bad room name, too many connections, or a kick or ban."""
        try:
            self.room = protocol.check_room(self.get_query_argument("room", ""))
        except ProtocolError as error:
            raise tornado.web.HTTPError(400, reason=error.message) from None
        self.address = address = self.request.remote_ip or ""  # typed Optional; a socket has one
        self.session = handshake.session_digest(self.get_query_argument("session", ""))
        cap = self.limits.max_per_ip
        if cap and sum(waiter.address == address for waiter in self.everyone()) >= cap:
            self.refusals.warn("Refused a connection from %s: already %d open", address, cap)
            raise tornado.web.HTTPError(
                429, reason=f"Too many connections from your address (at most {cap})"
            )
        retry_after = math.ceil(self.joins.take(address))
        if retry_after:  # "connect, close" in a loop: every join and leave reaches everyone
            self.refusals.warn("Refused a connection from %s: connecting too often", address)
            too_many(self, retry_after,
                     f"Too many new connections from your address; try again in {retry_after} s")
            return
        try:
            barred = await self.hub.barred(self.room, address, self.session)
        except Unavailable as error:
            raise tornado.web.HTTPError(503, reason=str(error)) from None
        if barred is not None:
            raise tornado.web.HTTPError(403, reason=barred)

    def get_websocket_protocol(self) -> tornado.websocket.WebSocketProtocol | None:
        return own_frame_loop(self, super().get_websocket_protocol())

    async def open(self) -> None:
        # Writes are already gathered into one per loop tick; Nagle's algorithm would
        # only hold each one back until the previous is acknowledged (~40 ms).
        self.set_nodelay(True)
        try:
            entry = await self.hub.enter(
                self.room, self.get_query_argument("nick", None), self.session,
                handshake.since_id(self.get_query_argument("since", "")), self.holder,
                self.address,
            )
        except Unavailable as error:
            self.close(1013, str(error))
            return
        # No await from here on: in a cluster, the welcome ends where the room's
        # stream to this process stands now, so we join the waiters in this same step.
        self.nick = entry.nick
        if self.ws_connection is None:  # it closed while we waited
            self.hub.leave(self.room, self.nick, self.holder)
            return
        if entry.takeover:
            self.close_replaced(self.room, nicknames.key(self.nick))
        self.waiters.setdefault(self.room, set()).add(self)
        self.send_event(entry.welcome)
        self.hub.arrived(self.room, self.nick, entry.takeover)
        log.info("%s %s #%s from %s; %d connected there to this process", self.nick,
                 "came back to" if entry.takeover else "joined", self.room,
                 self.address, len(self.waiters[self.room]))
        slim_down(self)  # the handshake's headers and query are read: let them go

    @classmethod
    def close_replaced(cls, room: str, nick_key: str) -> None:
        """Close the page's previous connection in `room`, which still holds its nickname."""
        for waiter in list(cls.waiters.get(room, ())):
            if waiter.nick is not None and nicknames.key(waiter.nick) == nick_key:
                waiter.replaced = True  # so its on_close does not free the nickname
                cls.forget(waiter)
                waiter.close(4001, "Replaced by a newer connection from the same page.")

    @classmethod
    def close_person(cls, room: str | None, nick_key: str, session: str | None, code: int,
                     reason: str) -> None:
        """Close one person's sockets: in `room`, the one holding that nickname and any that
        page opened; with `room` None, the page's sockets in every room. Others from the same
        address stay (a classroom behind one NAT): the address is barred, not thrown out."""
        for waiter in cls.everyone() if room is None else list(cls.waiters.get(room, ())):
            same_nick = room is not None and waiter.nick is not None and (
                nicknames.key(waiter.nick) == nick_key)
            if same_nick or (session is not None and waiter.session == session):
                waiter.close(code, reason)

    def on_message(self, frame: str | bytes) -> Awaitable[None] | None:
        if self.nick is None or self.closing():
            return None  # closing, or replaced by a newer connection: its frames change nothing
        try:
            command, arguments = commands.parse(frame, self.limits.max_text)
            if command.COUNTED and (retry_after := self.frames.take(self.address)):
                raise protocol.rate_limited(retry_after, getattr(arguments, "ref", None))
        except ProtocolError as error:
            self.refuse(error, arguments=None)
            return None
        try:
            running = command.run(self, arguments)
        except ProtocolError as error:  # refused by the command: a host's power, say
            self.refuse(error, arguments)
            return None
        if running is None:
            return None
        # A command that awaits (a rename) holds this socket's next frame until it is done.
        return self.finish_command(running, arguments)

    async def finish_command(self, running: Awaitable[None], arguments: object) -> None:
        """Await a command that waits for the hub; tell the sender if it was refused."""
        try:
            await running
        except ProtocolError as error:
            self.refuse(error, arguments)

    def refuse(self, error: ProtocolError, arguments: object) -> None:
        """Send the sender its `error`, naming the ref of the frame refused (if it had one)."""
        if getattr(arguments, "ref", None) is not None:
            error.details.setdefault("ref", getattr(arguments, "ref", None))
        if not self.gone():
            self.send_event(error.event())

    def gone(self) -> bool:
        """Tell whether the connection is closed or closing (an awaiting command may find it so)."""
        return self.closing()

    def on_close(self) -> None:
        self.outgoing.stop()
        if self.nick is None or self.replaced:  # never joined, or its nickname lives on
            return
        self.forget(self)
        self.hub.leave(self.room, self.nick, self.holder)
        log.info("%s left #%s (close code %s); %d connected there to this process", self.nick,
                 self.room, self.close_code, len(self.waiters.get(self.room, ())))

    def on_pong(self, data: bytes) -> None:
        self.pinger.answered(self, data)

    def closing(self) -> bool:
        """Tell whether this connection is closed or closing (the pinger leaves it be)."""
        return self.outgoing.closing()

    @classmethod
    def broadcast(cls, room: str, event: Event, skip_nick: str | None = None) -> None:
        """Send one event to every open socket in `room`; forget the ones that closed."""
        cls.broadcast_many(room, [event], skip_nick)

    @classmethod
    def broadcast_many(cls, room: str, events: list[Event], skip_nick: str | None = None) -> None:
        """Send events, in order, to every open socket in `room`; forget the ones that closed."""
        # Encode and frame once, not once per client: one event, or a tick's joins and leaves.
        frame = b"".join(text_frame(protocol.encode(event)) for event in events)
        waiters = list(cls.waiters.get(room, ()))  # copy: the set changes while we send
        for waiter in waiters:
            if waiter.nick == skip_nick:
                continue
            try:
                waiter.outgoing.queue(frame)  # like write_message(), written once per tick
            except tornado.websocket.WebSocketClosedError:
                cls.forget(waiter)
        write_soon(room, [waiter.outgoing for waiter in waiters])  # one write per client, at once

    @classmethod
    def forget(cls, waiter: "ChatSocket") -> None:
        """Take a socket out of its room's waiters (and the room's set out, once empty)."""
        here = cls.waiters.get(waiter.room)
        if here is not None:
            here.discard(waiter)
            if not here:
                del cls.waiters[waiter.room]

    @classmethod
    def broadcast_everywhere(cls, event: Event) -> None:
        """Send one event to every room."""
        for room in list(cls.waiters):
            cls.broadcast(room, event)

    @classmethod
    def everyone(cls) -> list["ChatSocket"]:
        """Return every connected socket, in every room."""
        return [waiter for here in cls.waiters.values() for waiter in here]

    @classmethod
    async def close_all(cls, code: int, reason: str, grace: float) -> None:
        """Close every socket and wait up to `grace` seconds for them to finish closing."""
        for waiter in cls.everyone():
            waiter.close(code, reason)
        deadline = time.monotonic() + grace
        while cls.waiters and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # on_close empties the sets as each client answers

    def send_event(self, event: Event) -> None:
        """Send one event to this client only."""
        self.outgoing.send(text_frame(protocol.encode(event)))

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Send what is queued, then the close frame (nothing may follow it)."""
        self.outgoing.write()
        self.outgoing.stop()
        super().close(code, reason)

    def close_slow_reader(self) -> None:
        """Close a client that lets data pile up: 1013, then Tornado drops it within 5 s."""
        log.warning("%s is not reading: %d bytes waiting; closing it", self.nick,
                    self.outgoing.unsent)
        self.forget(self)
        self.close(1013, "You are not reading: too much is waiting for you.")

    def lost(self) -> None:
        """Forget this socket: its stream closed under a write (on_close follows)."""
        self.forget(self)
