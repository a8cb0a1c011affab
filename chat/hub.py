"""Hub: what the chat socket asks of the rooms, and what a hub tells the sockets back.

The chat socket never touches rooms, nicknames or logs directly: it asks a
hub to let someone in, append to a room's log (a message, say), rename or
leave, and the hub tells the room by calling back the `Audience` (the socket
class's broadcast loop). `LocalHub` (chat/local.py) does this at once, in this
process, with the logs in SQLite; `RedisHub` (chat/cluster/) does it through
Redis, for every process of a cluster. This module is the interface alone: it
imports neither.
"""

import asyncio
from dataclasses import dataclass
from typing import Protocol

from chat.effects import NONE, Effects
from chat.moderation import Person, Standing
from chat.protocol import Event, ProtocolError


class Audience(Protocol):
    """Whoever receives what a hub announces: the chat sockets, room by room."""

    def broadcast(self, room: str, event: Event, skip_nick: str | None = None) -> None:
        """Send `event` to every socket in `room` (but `skip_nick`'s)."""

    def broadcast_many(self, room: str, events: list[Event]) -> None:
        """Send `events`, in order, to every socket in `room`, in one write each."""

    def broadcast_everywhere(self, event: Event) -> None:
        """Send `event` to every socket in every room."""

    async def close_all(self, code: int, reason: str, grace: float) -> None:
        """Close every socket, waiting up to `grace` seconds for them to finish."""

    def close_replaced(self, room: str, nick_key: str) -> None:
        """Close (4001) the socket in `room` whose nickname key a newer connection took."""

    def close_person(self, room: str | None, nick_key: str, session: str | None, code: int,
                     reason: str) -> None:
        """Close one person's sockets: in `room` by nickname or page, or (None) anywhere by page."""


class Unavailable(ProtocolError):
    """The hub cannot do it now (Redis is unreachable, every nickname like that is taken).

    A newcomer's socket is closed with 1013 (try again later) and this as the
    reason; anything else is answered with an `unavailable` error.
    """

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
        holder: str, address: str,
    ) -> Entry:
        """Give a newcomer a nickname and its welcome; the caller joins the waiters at once.

        `holder` names the connection (unique, made by the socket): the entry is
        its own until a newer connection of the same page takes it over, and
        `rename` and `leave` change nothing for any other holder. `session` is
        a digest of the page's secret, never the secret itself; `address` is
        where it connects from (a kick or a ban keeps it out).
        """

    async def barred(self, room_name: str, address: str, session: str | None) -> str | None:
        """Return why this address or page may not come into the room now (kicked, banned)."""

    def arrived(self, room_name: str, nick: str, takeover: bool) -> None:
        """Announce a newcomer who has had its welcome."""

    def append(
        self, entry: Event, sender: str, ref: str | None, effects: Effects = NONE,
        author: str | None = None,
    ) -> "asyncio.Future[int] | None":
        """Add an entry (chat/protocol.py, chat/hosting.py) and its effects to its room's log.

        The hub stamps it with the room's next id and the time, applies its
        effects (chat/effects.py) in the same step, and announces it; `author`
        (the digest of the sender's page session) is kept beside it. Returns
        a future of the id once stored (or of Unavailable, StoreError); a
        `ref` the sender used within rules.REF_SECONDS is the same entry
        again, announced once and acknowledged with the first copy's id. None
        means there is nothing more to tell the sender: LocalHub has broadcast
        the entry already, and without a ref it needs no ack.
        """

    def standing(self, room_name: str) -> Standing:
        """Return the room's standing (chat/moderation.py) as this process knows it, at once."""

    def wait_to_post(self, room_name: str, nick: str, every: int) -> float:
        """Return the seconds `nick` must wait under slow mode (one post per `every` seconds).

        0 means it may post now, and the post is noted as its last.
        """

    async def person(self, room_name: str, nick: str) -> Person | None:
        """Return who holds `nick` in the room now (None: nobody), as a host's command needs."""

    async def entry(self, room_name: str, entry_id: int) -> tuple[Event, str | None] | None:
        """Return one entry of the room's log and its author; None if it is not there."""

    async def transcript(self, room_name: str) -> list[Event]:
        """Return every entry the room's log keeps, oldest first (for the host's export)."""

    async def is_host_key(self, candidate: object) -> bool:
        """Tell whether `candidate` is the host key now, comparing in constant time."""

    async def present_key(
        self, room_name: str, nick: str, holder: str, key: object
    ) -> list[str]:
        """Make `holder`'s connection the room's host if `key` is the host key, else forbidden.

        Returns the hosts online now, for the presenter's answer (the room is
        told only if they changed: a page that took its own seat back was one).
        """

    def remove(self, room_name: str | None, person: Person, code: int, reason: str) -> None:
        """Close `person`'s connections: in `room_name`, or (None) in every room on every node."""

    def typing(self, room_name: str, nick: str) -> None:
        """Tell the rest of the room that `nick` is typing."""

    async def rename(self, room_name: str, old: str, new: str, holder: str) -> None:
        """Change `holder`'s nickname and announce it, or raise ProtocolError."""

    def leave(self, room_name: str, nick: str, holder: str) -> None:
        """Free `holder`'s nickname and announce it; nothing if another connection holds it now."""
