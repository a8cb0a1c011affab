"""The page handler and the chat socket: thin I/O around `protocol` and `Room`."""

import logging
from asyncio import Future

import tornado.web
import tornado.websocket

from chat import protocol
from chat.protocol import Event, Post, ProtocolError, Rename
from chat.room import Room

log = logging.getLogger(__name__)


class PageHandler(tornado.web.RequestHandler):
    """Render the chat page."""

    def get(self) -> None:
        self.render("index.html")


class ChatSocket(tornado.websocket.WebSocketHandler):
    """One browser's connection; the class-level `waiters` are everyone connected."""

    waiters: set["ChatSocket"] = set()

    def initialize(self, room: Room, max_text: int) -> None:
        self.room = room
        self.max_text = max_text
        self.nick: str | None = None

    def open(self) -> None:
        self.nick = self.room.join(self.get_query_argument("nick", None))
        self.waiters.add(self)
        self.write_message(protocol.encode(self.room.welcome(self.nick)))
        online = len(self.room.online())
        self.broadcast(protocol.presence("join", self.nick, online))
        log.info("%s joined from %s; %d online", self.nick, self.request.remote_ip, online)

    def on_message(self, frame: str | bytes) -> None:
        try:
            command = protocol.parse(frame, self.max_text)
        except ProtocolError as error:
            self.write_message(protocol.encode(error.event()))
            return
        if isinstance(command, Post):
            self.broadcast(self.room.post(self.nick, command.text))
        elif isinstance(command, Rename):
            self.rename(command.nick)

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
        if self.nick is None:  # the handshake was refused: it never joined
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
                waiter.write_message(frame).add_done_callback(waiter.forget_if_failed)
            except tornado.websocket.WebSocketClosedError:
                cls.waiters.discard(waiter)

    def forget_if_failed(self, sent: "Future[None]") -> None:
        """Drop this socket from the waiters if a write to it failed after all."""
        if sent.exception() is not None:
            self.waiters.discard(self)
