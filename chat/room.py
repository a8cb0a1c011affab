"""One room of one process: who is online under which nickname, and the room's log.

`LocalHub` asks the room to let people in, rename them, append to its log
(kept by chat/store.py) and build welcomes, and broadcasts what it returns.
No I/O here beyond the store.
"""

import time
from collections.abc import Callable
from concurrent.futures import Future

from chat import nicknames, protocol, rules
from chat.protocol import Event
from chat.store import SQLiteStore


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
        self._online: dict[str, str] = {}  # nickname key (chat.nicknames) -> nickname as chosen
        self._sessions: dict[str, str] = {}  # nickname key -> its page's session (a digest)
        self._holders: dict[str, str] = {}  # nickname key -> the connection that holds it

    def online(self) -> list[str]:
        """Return the nicknames online, in the order they arrived."""
        return list(self._online.values())

    def join(
        self, wanted: str | None, session: str | None = None, holder: str = ""
    ) -> tuple[str, bool]:
        """Give `holder` (a connection) a nickname: the one wanted, suffixed if taken, or a guest's.

        Returns the nickname and whether it is a takeover: the holder of the
        wanted nickname joined with the same `session`, so this is the same
        page reconnecting while its old connection has not been noticed dead;
        the nickname is the new holder's from now on. Raises Unavailable when
        every candidate (chat.rules) is taken.
        """
        nick = rules.wanted_nick(wanted)
        if nick and session and self._sessions.get(nicknames.key(nick)) == session:
            # The same page is back: it keeps the nickname as everyone has seen it ("Ada"
            # coming back as "ada" stays "Ada"), so no page is left showing a ghost.
            self._holders[nicknames.key(nick)] = holder
            return self._online[nicknames.key(nick)], True
        nick = self._first_free(nick)
        key = nicknames.key(nick)
        self._online[key] = nick
        self._holders[key] = holder
        if session:
            self._sessions[key] = session
        return nick, False

    def holds(self, nick: str, holder: str) -> bool:
        """Tell whether `holder` is the connection that holds `nick` now."""
        return self._holders.get(nicknames.key(nick)) == holder

    def leave(self, nick: str, holder: str = "") -> bool:
        """Free `holder`'s nickname so someone else may take it; False if it holds none."""
        if not self.holds(nick, holder):
            return False
        key = nicknames.key(nick)
        del self._online[key], self._holders[key]
        self._sessions.pop(key, None)
        return True

    def rename(self, old: str, new: str, holder: str = "") -> None:
        """Change `holder`'s nickname, unless someone else online holds the new one."""
        if not self.holds(old, holder):
            raise rules.replaced()
        old_key, new_key = nicknames.key(old), nicknames.key(new)
        if new_key != old_key and new_key in self._online:
            raise rules.nick_taken(new)
        # In its place in the arrival order, as the pages (and a cluster's welcome) keep it.
        self._online = {
            (new_key if key == old_key else key): (new if key == old_key else nick)
            for key, nick in self._online.items()
        }
        del self._holders[old_key]
        self._holders[new_key] = holder
        session = self._sessions.pop(old_key, None)
        if session:
            self._sessions[new_key] = session

    def append(
        self, entry: Event, sender: str, ref: str | None = None
    ) -> tuple[Event | None, "Future[int]", bool]:
        """Log an entry from `sender`, stamped now: it (None if re-sent), its id's future, new?"""
        return self.store.append(entry, sender, int(self.clock() * 1000), ref)

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
        history, cut = protocol.fit_history(history, self.welcome_bytes)
        flags = rules.welcome_flags(since, newest, missing, cut)
        return protocol.welcome(self.name, nick, self.online(), rooms, history, **flags)

    def _first_free(self, nick: str | None) -> str:
        """Return the first of the candidates for `nick` (chat.rules) that nobody online holds."""
        for candidate in rules.candidates(nick):
            if nicknames.key(candidate) not in self._online:
                return candidate
        raise rules.every_name_taken()


class Rooms:
    """Every room with people in it, by name: made on first use, forgotten when empty.

    A forgotten room's history stays in the store; it is there again when
    someone comes back.
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
        return sorted(name for name, room in self._rooms.items() if room.online())

    def forget_if_empty(self, room: Room) -> bool:
        """Forget `room` if nobody is in it; return whether it was forgotten."""
        if room.online():
            return False
        self._rooms.pop(room.name, None)
        return True
