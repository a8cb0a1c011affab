"""One room of one process: who is online under which nickname, and the room's log.

`LocalHub` asks the room to let people in, rename them, append to its log
(kept by chat/store.py, with the room's standing fields) and build welcomes,
and broadcasts what it returns. No I/O here beyond the store.
"""

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from chat import moderation, nicknames, protocol, revisions, rules
from chat.effects import NONE, SERVER, Effects
from chat.moderation import Person, Standing
from chat.protocol import Event
from chat.store import SQLiteStore


@dataclass
class Seat:
    """One nickname held online: by which connection, for which page, from where."""

    nick: str  # as chosen; the room is keyed by chat.nicknames.key(nick)
    holder: str  # the connection that holds it
    session: str | None  # a digest of the page's secret
    address: str
    keyed: bool = False  # this connection presented the host key
    order: int = 0  # when it came: the hosts are listed in the arrival order too


class Room:
    """Nicknames of the people online (unique, case-insensitive) and the room's log."""

    def __init__(
        self,
        name: str,
        store: SQLiteStore,
        history: int,
        resume_limit: int,
        welcome_bytes: int = 256 * 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.store = store
        self.history = history
        self.resume_limit = resume_limit
        self.welcome_bytes = welcome_bytes  # the most history JSON one welcome carries
        self.clock = clock
        self.standing = Standing(store.fields(name), store.fields(SERVER))
        self._seats: dict[str, Seat] = {}  # nickname key -> its seat, in the order they came
        # Every welcome lists everyone: built from the seats after someone goes or
        # renames, extended as people come, not rebuilt per welcome; a welcome gets a copy.
        self._online: list[str] | None = None
        # Every welcome lists the hosts too: found from these, not by asking every seat.
        self._arrivals = 0
        self._keyed: set[str] = set()  # nickname keys of the seats that presented the key
        self._by_session: dict[str, set[str]] = {}  # page session -> nickname keys it holds
        self.post_times = moderation.PostTimes()  # each nickname's last message, for slow mode

    def now(self) -> int:
        """Return the room's clock in Unix milliseconds."""
        return int(self.clock() * 1000)

    def online(self) -> list[str]:
        """Return the nicknames online, in the order they arrived."""
        if self._online is None:
            self._online = [seat.nick for seat in self._seats.values()]
        return self._online.copy()

    def count(self) -> int:
        """Return how many people are online."""
        return len(self._seats)

    def join(
        self, wanted: str | None, session: str | None = None, holder: str = "", address: str = ""
    ) -> tuple[str, bool]:
        """Give `holder` (a connection) a nickname: the one wanted, suffixed if taken, or a guest's.

        Returns the nickname and whether it is a takeover: the holder of the
        wanted nickname joined with the same `session`, so this is the same
        page reconnecting while its old connection has not been noticed dead;
        the nickname is the new holder's from now on. Raises Unavailable when
        every candidate (chat.rules) is taken.
        """
        nick = rules.wanted_nick(wanted)
        seat = self._seats.get(nicknames.key(nick)) if nick else None
        if seat is not None and session and seat.session == session:
            # The same page is back: it keeps the nickname as everyone has seen it ("Ada"
            # coming back as "ada" stays "Ada"), so no page is left showing a ghost.
            # The host's badge stays: the page presents its key again right after the welcome.
            seat.holder, seat.address = holder, address
            return seat.nick, True
        nick = self._first_free(nick)
        key = nicknames.key(nick)
        self._arrivals += 1
        self._seats[key] = Seat(nick, holder, session, address, order=self._arrivals)
        if session is not None:
            self._by_session.setdefault(session, set()).add(key)
        if self._online is not None:  # the newcomer is last in the arrival order
            self._online.append(nick)
        return nick, False

    def holds(self, nick: str, holder: str) -> bool:
        """Tell whether `holder` is the connection that holds `nick` now."""
        seat = self._seats.get(nicknames.key(nick))
        return seat is not None and seat.holder == holder

    def leave(self, nick: str, holder: str = "") -> bool:
        """Free `holder`'s nickname so someone else may take it; False if it holds none."""
        if not self.holds(nick, holder):
            return False
        key = nicknames.key(nick)
        seat = self._seats.pop(key)
        self._keyed.discard(key)
        if seat.session is not None:
            held = self._by_session[seat.session]
            held.discard(key)
            if not held:
                del self._by_session[seat.session]
        self._online = None
        return True

    def rename(self, old: str, new: str, holder: str = "") -> None:
        """Change `holder`'s nickname, unless someone else online holds the new one."""
        if not self.holds(old, holder):
            raise rules.replaced()
        old_key, new_key = nicknames.key(old), nicknames.key(new)
        if new_key != old_key and new_key in self._seats:
            raise rules.nick_taken(new)
        # In its place in the arrival order, as the pages (and a cluster's welcome) keep it.
        self._seats = {(new_key if key == old_key else key): seat
                       for key, seat in self._seats.items()}
        seat = self._seats[new_key]
        seat.nick = new
        if old_key in self._keyed:
            self._keyed.discard(old_key)
            self._keyed.add(new_key)
        if seat.session is not None:
            self._by_session[seat.session].discard(old_key)
            self._by_session[seat.session].add(new_key)
        self._online = None

    def key_presented(self, nick: str, holder: str) -> None:
        """Mark `holder`'s connection as the host's (it presented the key)."""
        if self.holds(nick, holder):
            self._seats[nicknames.key(nick)].keyed = True
            self._keyed.add(nicknames.key(nick))

    def person(self, nick: str) -> Person | None:
        """Return who holds `nick` (in any case or look-alike form) now, None if nobody does."""
        seat = self._seats.get(nicknames.key(nick))
        if seat is None:
            return None
        level = moderation.level(self.standing, seat.keyed, seat.session)
        return Person(seat.nick, nicknames.key(seat.nick), level, seat.session, seat.address)

    def hosts(self) -> list[str]:
        """Return the nicknames online that are hosts (the key's holder, or made host)."""
        keys = set(self._keyed)
        for name in self.standing.room:  # the room's fields, a few, not everyone online
            if name.startswith("op:"):  # Standing.is_op's field: this page was made host
                keys |= self._by_session.get(name[3:], set())
        return [seat.nick for seat in sorted((self._seats[key] for key in keys),
                                             key=lambda seat: seat.order)]

    def append(
        self, entry: Event, sender: str, ref: str | None = None, effects: Effects = NONE,
        author: str | None = None,
    ) -> tuple[Event | None, "Future[int] | None", bool]:
        """Log an entry from `sender`, stamped now: it (None if re-sent), its id's future, new?"""
        return self.store.append(entry, sender, self.now(), ref, effects, author)

    def forget_ref(self, sender: str, ref: str) -> None:
        """Let an entry whose storing failed be stored when sent again."""
        self.store.forget_ref(self.name, sender, ref)

    def welcome(self, nick: str, rooms: list[str], since: int | None = None) -> Event:
        """Build the welcome for `nick`: who is here, which rooms are busy, the log's newest."""
        newest, missing = self.store.last_id(self.name), False
        if since is not None and rules.resumes(since, newest):
            history, missing = self.store.since(self.name, since, self.resume_limit)
        else:
            history = self.store.recent(self.name, self.history)
        history, cut = protocol.fit_history(revisions.redacted(history), self.welcome_bytes)
        flags = rules.welcome_flags(since, newest, missing, cut)
        return protocol.welcome(self.name, nick, self.online(), rooms, history,
                                self.shown_standing(), flags)

    def shown_standing(self) -> Event:
        """Return what a welcome says of the room's hosts, topic, pin, lock, slow mode, mutes."""
        standing = self.standing
        return protocol.standing(self.hosts(), standing.topic, standing.pin, standing.locked,
                                 standing.slow, standing.mutes(self.now()))

    def _first_free(self, nick: str | None) -> str:
        """Return the first of the candidates for `nick` (chat.rules) that nobody online holds."""
        for candidate in rules.candidates(nick):
            if nicknames.key(candidate) not in self._seats:
                return candidate
        raise rules.every_name_taken()


class Rooms:
    """Every room with people in it, by name: made on first use, forgotten when empty.

    A forgotten room's log and fields stay in the store; they are there again
    when someone comes back.
    """

    def __init__(self, make_room: Callable[[str], Room]) -> None:
        self.make_room = make_room  # name -> a new Room (make_app binds the store and limits)
        self._rooms: dict[str, Room] = {}

    def enter(self, name: str) -> Room:
        """Return the room called `name` (a canonical name), making it if needed."""
        if name not in self._rooms:
            self._rooms[name] = self.make_room(name)
        return self._rooms[name]

    def occupied(self) -> list[str]:
        """Return the names of the rooms with people in them, sorted."""
        return sorted(name for name, room in self._rooms.items() if room.count())

    def forget_if_empty(self, room: Room) -> bool:
        """Forget `room` if nobody is in it; return whether it was forgotten."""
        if room.count():
            return False
        self._rooms.pop(room.name, None)
        return True
