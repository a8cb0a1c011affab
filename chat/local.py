"""LocalHub: the rooms of one process, with their logs in SQLite; every event announced at once."""

import asyncio
from functools import partial

from chat import protocol
from chat.announcer import RoomsAnnouncer
from chat.hub import Audience, Entry
from chat.protocol import Event
from chat.room import Room, Rooms
from chat.store import SQLiteStore


class LocalHub:
    """Rooms in this process's memory, their logs in SQLite: every event is announced at once."""

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

    def append(
        self, entry: Event, sender: str, ref: str | None
    ) -> "asyncio.Future[int] | None":
        """Stamp and broadcast an entry at once; with a ref, a future of its id once stored."""
        room = self.rooms.enter(entry["room"])
        event, stored_in_thread, _ = room.append(entry, sender, ref)
        if event is not None:  # None: a re-sent ref, broadcast the first time
            self.audience.broadcast(room.name, event)
        if ref is None:  # already broadcast, no ack: spare the writer thread a wake-up call
            return None
        stored = asyncio.wrap_future(stored_in_thread)
        stored.add_done_callback(partial(self._forget_if_lost, room, sender, ref))
        return stored

    @staticmethod
    def _forget_if_lost(room: Room, sender: str, ref: str, stored: "asyncio.Future[int]") -> None:
        """Let an entry that could not be stored be stored anew when sent again."""
        if stored.exception() is not None:
            room.forget_ref(sender, ref)

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
