"""The page handler and the chat socket: thin I/O around `protocol` and `Room`."""

import asyncio
import logging
import time
from asyncio import Future
from functools import partial

import tornado.web
import tornado.websocket

from chat import protocol
from chat.config import Settings
from chat.protocol import Event, Post, ProtocolError, Rename
from chat.ratelimit import TokenBucket
from chat.room import Room

log = logging.getLogger(__name__)


class PageHandler(tornado.web.RequestHandler):
    """Render the chat page."""

    def get(self) -> None:
        self.render("index.html")


class ChatSocket(tornado.websocket.WebSocketHandler):
    """One browser's connection; the class-level `waiters` are everyone connected."""

    waiters: set["ChatSocket"] = set()

    def initialize(self, room: Room, limits: Settings) -> None:
        self.room = room
        self.limits = limits
        self.nick: str | None = None
        self.replaced = False  # a newer connection from the same page took over
        self.unsent = 0  # bytes handed to write_message that the kernel has not taken yet
        self.bucket = TokenBucket(limits.rate, limits.burst)

    def prepare(self) -> None:
        """Refuse the handshake if this address already has too many connections."""
        cap = self.limits.max_per_ip
        address = self.request.remote_ip
        if cap and sum(waiter.request.remote_ip == address for waiter in self.waiters) >= cap:
            log.warning("Refused a connection from %s: already %d open", address, cap)
            raise tornado.web.HTTPError(
                429, reason=f"Too many connections from your address (at most {cap})"
            )

    def open(self) -> None:
        session = self.get_query_argument("session", "")
        self.nick, takeover = self.room.join(
            self.get_query_argument("nick", None), session if len(session) <= 64 else None
        )
        if takeover:
            self.replace_stale_connection()
        self.waiters.add(self)
        self.write_message(protocol.encode(self.room.welcome(self.nick, self.since())))
        online = len(self.room.online())
        if not takeover:  # after a takeover, nobody saw this person leave
            self.broadcast(protocol.presence("join", self.nick, online))
        log.info("%s %s from %s; %d online", self.nick, "came back" if takeover else "joined",
                 self.request.remote_ip, online)

    def replace_stale_connection(self) -> None:
        """Close this page's previous connection, which still holds our nickname."""
        for waiter in list(self.waiters):
            if waiter.room is self.room and waiter.nick.casefold() == self.nick.casefold():
                waiter.replaced = True
                self.waiters.discard(waiter)
                waiter.close(4001, "Replaced by a newer connection from the same page.")

    def since(self) -> int | None:
        """Return the `since` query argument if it is a message id, else None."""
        value = self.get_query_argument("since", "")
        return int(value) if value.isascii() and value.isdigit() else None

    def on_message(self, frame: str | bytes) -> None:
        retry_after = self.bucket.take()  # every frame costs a token, garbage included
        try:
            command = protocol.parse(frame, self.limits.max_text)
            if retry_after:
                raise protocol.rate_limited(retry_after, command)
        except ProtocolError as error:
            self.write_message(protocol.encode(error.event()))
            return
        if isinstance(command, Post):
            self.post(command)
        elif isinstance(command, Rename):
            self.rename(command.nick)

    def post(self, command: Post) -> None:
        """Broadcast a message; acknowledge it once stored if it carries a ref."""
        message, stored, new = self.room.post(self.nick, command.text, command.ref)
        if new:  # a re-sent ref was broadcast the first time
            self.broadcast(message)
        if command.ref is not None:
            acknowledge = partial(self.acknowledge, self.nick, command.ref)
            asyncio.wrap_future(stored).add_done_callback(acknowledge)

    def acknowledge(self, nick: str, ref: str, stored: "Future[int]") -> None:
        """Tell the sender its message is in the store, or that it could not be stored."""
        if stored.exception() is not None:
            self.room.forget_ref(nick, ref)  # so sending it again stores it again
            answer = ProtocolError(
                "unavailable",
                "The server could not save your message in its history; try again later.",
                ref=ref,
            ).event()
        else:
            answer = protocol.ack(ref, stored.result())
        if self.ws_connection is not None:  # if gone, it re-sends after reconnecting
            self.write_message(protocol.encode(answer))

    def rename(self, new: str) -> None:
        """Take a new nickname and tell everyone, or tell the sender why not."""
        if new == self.nick:  # nothing changes, so nobody needs telling
            return
        try:
            self.room.rename(self.nick, new)
        except ProtocolError as error:
            self.write_message(protocol.encode(error.event()))
            return
        old, self.nick = self.nick, new
        self.broadcast(protocol.renamed(old, new))
        log.info("%s is now %s", old, new)

    def on_close(self) -> None:
        if self.nick is None or self.replaced:  # never joined, or its nickname lives on
            return
        self.waiters.discard(self)
        self.room.leave(self.nick)
        online = len(self.room.online())
        self.broadcast(protocol.presence("leave", self.nick, online))
        log.info("%s left (close code %s); %d online", self.nick, self.close_code, online)

    @classmethod
    def broadcast(cls, event: Event) -> None:
        """Send one event to every open socket; forget the ones that closed."""
        frame = protocol.encode(event)  # encode once, not once per client
        for waiter in list(cls.waiters):  # copy: the set changes while we send
            try:
                waiter.write_message(frame)
            except tornado.websocket.WebSocketClosedError:
                cls.waiters.discard(waiter)

    @classmethod
    async def close_all(cls, code: int, reason: str, grace: float) -> None:
        """Close every socket and wait up to `grace` seconds for them to finish closing."""
        for waiter in list(cls.waiters):
            waiter.close(code, reason)
        deadline = time.monotonic() + grace
        while cls.waiters and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # on_close empties the set as each client answers

    def write_message(self, message: str | bytes | dict, binary: bool = False) -> "Future[None]":
        """Queue a frame for this client, or close it if it has stopped reading."""
        if self.unsent > self.limits.max_unsent:
            self.close_slow_reader()
            raise tornado.websocket.WebSocketClosedError()
        sent = super().write_message(message, binary)
        size = len(message)
        self.unsent += size
        sent.add_done_callback(partial(self.flushed, size))
        return sent

    def flushed(self, size: int, sent: "Future[None]") -> None:
        """Count `size` bytes as sent, or forget this socket if the write failed."""
        self.unsent -= size
        if sent.cancelled() or sent.exception() is not None:
            self.waiters.discard(self)

    def close_slow_reader(self) -> None:
        """Close a client that lets data pile up: 1013, then Tornado drops it within 5 s."""
        log.warning("%s is not reading: %d bytes waiting; closing it", self.nick, self.unsent)
        self.waiters.discard(self)
        self.close(1013, "You are not reading: too much is waiting for you.")
