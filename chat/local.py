"""LocalHub: the rooms of one process, with their logs in SQLite; every event announced at once."""

import asyncio
import time
from functools import partial

from chat import hosting, hostkey, nicknames, protocol
from chat.announcer import RoomsAnnouncer
from chat.effects import NONE, SERVER, Effects
from chat.hub import Audience, Entry
from chat.moderation import Person, Standing, forbidden
from chat.presence import Presence
from chat.protocol import Event
from chat.room import Room, Rooms
from chat.store import SQLiteStore


class LocalHub:
    """Rooms in this process's memory, their logs in SQLite: every event is announced at once."""

    def __init__(
        self, rooms: Rooms, store: SQLiteStore, audience: Audience, announcer: RoomsAnnouncer,
        host_key: str | None = None,
    ) -> None:
        self.rooms = rooms  # made by make_app with this same store
        self.store = store
        self.audience = audience
        self.announcer = announcer  # the busy rooms, coalesced to one event a second
        self.host_key = host_key  # run.py settles it (chat/hostkey.py); None: nobody hosts
        self.shown_hosts: dict[str, list[str]] = {}  # room -> the hosts its pages were told
        self.presence = Presence(audience)  # joins and leaves of a moment, sent together

    async def start(self) -> None:
        """Nothing to connect to: the store opened when it was made."""

    async def close(self) -> None:
        """Store what is queued and close the database."""
        self.store.close()

    async def enter(
        self, room_name: str, wanted: str | None, session: str | None, since: int | None,
        holder: str, address: str = "",
    ) -> Entry:
        """Give a newcomer a nickname in `room_name` and build its welcome."""
        room = self.rooms.enter(room_name)
        nick, takeover = room.join(wanted, session, holder, address)
        return Entry(nick, takeover, room.welcome(nick, self.rooms.occupied(), since))

    async def barred(self, room_name: str, address: str, session: str | None) -> str | None:
        """Return why this address or page may not come in now; a host's page always may."""
        standing = Standing(self.store.fields(room_name, keep=False), self.store.fields(SERVER))
        if session is not None and (f"host:{session}" in standing.server
                                    or standing.is_op(session)):
            return None  # a host's page is never shut out by its address
        return standing.barred(address, session, int(time.time() * 1000))

    def arrived(self, room_name: str, nick: str, takeover: bool) -> None:
        """Tell the room who joined (not after a takeover: nobody saw them leave)."""
        room = self.rooms.enter(room_name)
        online = room.count()
        if not takeover:
            self.presence.announce(room_name, protocol.presence("join", nick, online))
        if online == 1:  # the room just opened: its pages hear their join first, as ever
            self.presence.flush(room_name)
            self.announcer.update(self.rooms.occupied())
        person = room.person(nick)
        if person is not None and person.level:  # made host earlier: the page is a host again
            self.announce_hosts(room_name)

    def append(
        self, entry: Event, sender: str, ref: str | None, effects: Effects = NONE,
        author: str | None = None,
    ) -> "asyncio.Future[int] | None":
        """Stamp and broadcast an entry at once; with a ref, a future of its id once stored."""
        room = self.rooms.enter(entry["room"])
        event, stored_in_thread, _ = room.append(entry, sender, ref, effects, author)
        if event is not None:  # None: a re-sent ref, broadcast the first time
            self.broadcast(room.name, event)
            if any(name.startswith("op:") for name in effects.room):
                self.announce_hosts(room.name)
        if ref is None or stored_in_thread is None:  # no ref: broadcast already, no ack to wait
            return None
        stored = asyncio.wrap_future(stored_in_thread)
        stored.add_done_callback(partial(self._forget_if_lost, room, sender, ref))
        return stored

    @staticmethod
    def _forget_if_lost(room: Room, sender: str, ref: str, stored: "asyncio.Future[int]") -> None:
        """Let an entry that could not be stored be stored anew when sent again."""
        if stored.exception() is not None:
            room.forget_ref(sender, ref)

    def standing(self, room_name: str) -> Standing:
        """Return the room's standing, read from the store's fields (always current here)."""
        return self.rooms.enter(room_name).standing

    def wait_to_post(self, room_name: str, nick: str, every: int) -> float:
        """Return the seconds `nick` must wait under slow mode; 0: it may, and it is noted."""
        room = self.rooms.enter(room_name)
        return room.post_times.wait(nicknames.key(nick), every, room.now())

    async def person(self, room_name: str, nick: str) -> Person | None:
        """Return who holds `nick` in the room now, None if nobody does."""
        return self.rooms.enter(room_name).person(nick)

    async def entry(self, room_name: str, entry_id: int) -> tuple[Event, str | None] | None:
        """Return one entry of the room's log and its author, None if it is not kept."""
        return self.store.entry(room_name, entry_id)

    async def transcript(self, room_name: str) -> list[Event]:
        """Return every entry the room's log keeps, oldest first."""
        return self.store.recent(room_name, self.store.cap or self.store.last_id(room_name))

    async def is_host_key(self, candidate: object) -> bool:
        """Tell whether `candidate` is the host key, in constant time."""
        return hostkey.matches(candidate, self.host_key)

    async def present_key(
        self, room_name: str, nick: str, holder: str, key: object
    ) -> list[str]:
        """Make `holder`'s connection the room's host if `key` is the host key; the hosts now."""
        if not await self.is_host_key(key):
            raise forbidden("That is not the host key.")
        room = self.rooms.enter(room_name)
        room.key_presented(nick, holder)
        person = room.person(nick)
        if person is not None and person.session is not None:  # never shut out by an address bar
            self.store.set_fields(SERVER, {f"host:{person.session}": True})
        self.announce_hosts(room_name)
        return room.hosts()

    def announce_hosts(self, room_name: str) -> None:
        """Tell the room its hosts, if they are not what its pages were last told."""
        hosts = self.rooms.enter(room_name).hosts()
        if self.shown_hosts.get(room_name, []) != hosts:
            self.shown_hosts[room_name] = hosts
            self.broadcast(room_name, hosting.hosts(hosts))

    def broadcast(self, room_name: str, event: Event, skip_nick: str | None = None) -> None:
        """Send an event to the room, after the joins and leaves still waiting for the tick."""
        self.presence.flush(room_name)
        self.audience.broadcast(room_name, event, skip_nick)

    def remove(self, room_name: str | None, person: Person, code: int, reason: str) -> None:
        """Close `person`'s connections in `room_name`, or in every room (None)."""
        self.audience.close_person(room_name, person.key, person.session, code, reason)

    def typing(self, room_name: str, nick: str) -> None:
        """Tell the rest of the room that `nick` is typing."""
        self.broadcast(room_name, protocol.typing(nick), skip_nick=nick)

    async def rename(self, room_name: str, old: str, new: str, holder: str) -> None:
        """Change `holder`'s nickname and tell the room, or raise ProtocolError (nick_taken)."""
        self.rooms.enter(room_name).rename(old, new, holder)
        self.broadcast(room_name, protocol.renamed(old, new))
        if old in self.shown_hosts.get(room_name, ()):
            self.announce_hosts(room_name)

    def leave(self, room_name: str, nick: str, holder: str) -> None:
        """Free `holder`'s nickname and tell the room; tell everyone if the room emptied."""
        room = self.rooms.enter(room_name)
        if not room.leave(nick, holder):  # a newer connection of the same page holds it
            return
        self.presence.announce(room_name, protocol.presence("leave", nick, room.count()))
        if nick in self.shown_hosts.get(room_name, ()):
            self.announce_hosts(room_name)
        if self.rooms.forget_if_empty(room):
            self.shown_hosts.pop(room_name, None)
            self.announcer.update(self.rooms.occupied())
