"""LocalHub: the rooms of one process, and the interface a cluster hub shares with it.

The chat socket never touches rooms, nicknames or history directly: it asks a
hub to let someone in, post, rename or leave, and the hub tells the room by
calling back the `Audience` (the socket class's broadcast loop). `LocalHub`
does this at once, in this process, with the history in SQLite; `RedisHub`
(chat/cluster/) does it through Redis, for every process of a cluster.
"""

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from chat import protocol
from chat.announcer import RoomsAnnouncer
from chat.protocol import Event, ProtocolError
from chat.room import Room, Rooms
from chat.store import SQLiteStore


class Audience(Protocol):
    """Whoever receives what a hub announces: the chat sockets, room by room."""

    def broadcast(self, room: str, event: Event, skip_nick: str | None = None) -> None:
        """Send `event` to every socket in `room` (but `skip_nick`'s)."""

    def broadcast_everywhere(self, event: Event) -> None:
        """Send `event` to every socket in every room."""

    async def close_all(self, code: int, reason: str, grace: float) -> None:
        """Close every socket, waiting up to `grace` seconds for them to finish."""

    def close_replaced(self, room: str, nick_key: str) -> None:
        """Close (4001) the socket in `room` whose nickname key a newer connection took."""


class Unavailable(ProtocolError):
    """The hub cannot reach what it needs (Redis): the client is told to try again later."""

    def __init__(self, message: str) -> None:
        super().__init__("unavailable", message)


@dataclass(frozen=True)
class Entry:
    """What a newcomer gets on entering a room: a nickname, and the welcome to send first."""

    nick: str
    takeover: bool  # the same page came back while its old connection still held the nick
    welcome: Event


class Hub(Protocol):
    """What the chat socket asks of the rooms; LocalHub and RedisHub both provide it."""

    async def start(self) -> None:
        """Connect to what the hub needs; raise Unavailable if it cannot."""

    async def close(self) -> None:
        """Let go of connections and files, after storing what was posted."""

    async def enter(
        self, room_name: str, wanted: str | None, session: str | None, since: int | None,
        holder: str,
    ) -> Entry:
        """Give a newcomer a nickname and its welcome; the caller joins the waiters at once.

        `holder` names the connection (unique, made by the socket): the entry is
        its own until a newer connection of the same page takes it over, and
        `rename` and `leave` change nothing for any other holder. `session` is
        a digest of the page's secret, never the secret itself.
        """

    def arrived(self, room_name: str, nick: str, takeover: bool) -> None:
        """Announce a newcomer who has had its welcome."""

    def post(
        self, room_name: str, nick: str, text: str, ref: str | None
    ) -> "asyncio.Future[int] | None":
        """Publish a message; return a future of its id once stored (or Unavailable, StoreError).

        None means there is nothing more to tell the sender: LocalHub has
        broadcast the message already, and without a ref it needs no ack.
        """

    def typing(self, room_name: str, nick: str) -> None:
        """Tell the rest of the room that `nick` is typing."""

    async def rename(self, room_name: str, old: str, new: str, holder: str) -> None:
        """Change `holder`'s nickname and announce it, or raise ProtocolError."""

    def leave(self, room_name: str, nick: str, holder: str) -> None:
        """Free `holder`'s nickname and announce it; nothing if another connection holds it now."""


class LocalHub:
    """Rooms in this process's memory, history in SQLite: every event is announced at once."""

    def __init__(
        self, rooms: Rooms, store: SQLiteStore, audience: Audience, announcer: RoomsAnnouncer
    ) -> None:
        self.rooms = rooms  # made by make_app with this same store
        self.store = store
        self.audience = audience
        self.announcer = announcer  # the busy rooms, coalesced to one event a second

    async def start(self) -> None:
        """Nothing to connect to: the store opened when it was made."""

    async def close(self) -> None:
        """Store what is queued and close the database."""
        self.store.close()

    async def enter(
        self, room_name: str, wanted: str | None, session: str | None, since: int | None,
        holder: str,
    ) -> Entry:
        """Give a newcomer a nickname in `room_name` and build its welcome."""
        room = self.rooms.enter(room_name)
        nick, takeover = room.join(wanted, session, holder)
        return Entry(nick, takeover, room.welcome(nick, self.rooms.occupied(), since))

    def arrived(self, room_name: str, nick: str, takeover: bool) -> None:
        """Tell the room who joined (not after a takeover: nobody saw them leave)."""
        online = self.rooms.enter(room_name).online()
        if not takeover:
            self.audience.broadcast(room_name, protocol.presence("join", nick, len(online)))
        if len(online) == 1:  # the room just opened
            self.announcer.update(self.rooms.occupied())

    def post(
        self, room_name: str, nick: str, text: str, ref: str | None
    ) -> "asyncio.Future[int] | None":
        """Broadcast a message at once; with a ref, return a future of its id once stored."""
        room = self.rooms.enter(room_name)
        message, stored_in_thread, new = room.post(nick, text, ref)
        if new:  # a re-sent ref was broadcast the first time
            self.audience.broadcast(room_name, message)
        if ref is None:  # already broadcast, no ack: spare the writer thread a wake-up call
            return None
        stored = asyncio.wrap_future(stored_in_thread)
        stored.add_done_callback(partial(self._forget_if_lost, room, nick, ref))
        return stored

    @staticmethod
    def _forget_if_lost(room: Room, nick: str, ref: str, stored: "asyncio.Future[int]") -> None:
        """Let a message that could not be stored be stored anew when sent again."""
        if stored.exception() is not None:
            room.forget_ref(nick, ref)

    def typing(self, room_name: str, nick: str) -> None:
        """Tell the rest of the room that `nick` is typing."""
        self.audience.broadcast(room_name, protocol.typing(nick), skip_nick=nick)

    async def rename(self, room_name: str, old: str, new: str, holder: str) -> None:
        """Change `holder`'s nickname and tell the room, or raise ProtocolError (nick_taken)."""
        self.rooms.enter(room_name).rename(old, new, holder)
        self.audience.broadcast(room_name, protocol.renamed(old, new))

    def leave(self, room_name: str, nick: str, holder: str) -> None:
        """Free `holder`'s nickname and tell the room; tell everyone if the room emptied."""
        room = self.rooms.enter(room_name)
        if not room.leave(nick, holder):  # a newer connection of the same page holds it
            return
        self.audience.broadcast(room_name, protocol.presence("leave", nick, len(room.online())))
        if self.rooms.forget_if_empty(room):
            self.announcer.update(self.rooms.occupied())
