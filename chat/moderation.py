"""Moderation: who may do what in a room, read from the room's standing fields. No I/O here.

A room's standing is a few fields kept beside its log (chat/effects.py): the
lock, slow mode, the topic, the pinned message, each mute, each person made
host (`op`), each kick; bans are server-wide fields. Both hubs keep them, and
the commands in chat/commands/ read them through `Standing` and change them
with the effects of the entries they append.

Levels: a MEMBER; an OP, made host by the key holder (kept by the page's
session, so a reconnect keeps it); the HOST, whose connection presented the
host key. An op may do what the host does, except make or unmake hosts, and
neither may act on someone of a higher level than their own.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chat.protocol import Event, ProtocolError

MEMBER, OP, HOST = 0, 1, 2
KICK_SECONDS = 5 * 60  # a kicked person may not come back into the room for this long
MAX_MUTE_SECONDS = 7 * 24 * 3600
MAX_SLOW_SECONDS = 3600
MAX_TOPIC = 200


@dataclass(frozen=True)
class Person:
    """Someone online in a room, as a host's command sees them (never sent to anyone)."""

    nick: str
    key: str  # chat.nicknames.key(nick)
    level: int
    session: str | None  # a digest of the page's secret
    address: str


class Standing:
    """A read-only view of one room's fields (and the server's), with what they mean."""

    def __init__(self, room: Mapping[str, Any], server: Mapping[str, Any]) -> None:
        self.room = room
        self.server = server

    @property
    def locked(self) -> bool:
        return bool(self.room.get("locked"))

    @property
    def slow(self) -> int:
        return int(self.room.get("slow", 0))

    @property
    def topic(self) -> str:
        return str(self.room.get("topic", ""))

    @property
    def pin(self) -> Event | None:
        return self.room.get("pin")

    def is_op(self, session: str | None) -> bool:
        """Tell whether the page with this session was made host in this room."""
        return session is not None and f"op:{session}" in self.room

    def muted_until(self, nick_key: str, session: str | None, now_ms: int) -> int | None:
        """Return when the mute on this person ends (ms), if one is on now."""
        mute = self.room.get(f"mute:{nick_key}")
        if mute is None and session is not None:  # the same page under another nickname
            mute = self.room.get(f"mute:{self.room.get(f'mute-session:{session}')}")
        if mute is None or mute["until"] <= now_ms:
            return None
        return int(mute["until"])

    def mutes(self, now_ms: int) -> dict[str, int]:
        """Return the nicknames muted now, each with when it ends: what the welcome shows."""
        return {value["nick"]: value["until"] for name, value in self.room.items()
                if name.startswith("mute:") and value["until"] > now_ms}

    def barred(self, address: str, session: str | None, now_ms: int) -> str | None:
        """Return why this address or page may not come into the room now, if it may not."""
        for scope, fields, words in ((self.server, self.server, "banned from this chat"),
                                     (self.room, self.room, "removed from this room")):
            for kind in ("addr", "session"):
                value = address if kind == "addr" else session
                record = fields.get(f"{'ban' if scope is self.server else 'kick'}:{kind}:{value}")
                if value and record and (not record["until"] or record["until"] > now_ms):
                    return f"You were {words} by a host{until(record['until'], now_ms)}."
        return None


def until(until_ms: int, now_ms: int) -> str:
    """Return ", for N more minutes" (rounded up), or "" when it lasts until lifted."""
    if not until_ms:
        return ""
    minutes = max(1, -(-(until_ms - now_ms) // 60_000))
    return f"; you may come back in {minutes} minute{'s' if minutes != 1 else ''}"


def level(standing: Standing, keyed: bool, session: str | None) -> int:
    """Return the level of a connection: HOST if it presented the key, OP if made host."""
    if keyed:
        return HOST
    return OP if standing.is_op(session) else MEMBER


def refuse_post(standing: Standing, sender_level: int, nick_key: str, session: str | None,
                now_ms: int) -> ProtocolError | None:
    """Return why this person may not post now (muted, or the room is locked), or None."""
    if sender_level > MEMBER:
        return None
    muted = standing.muted_until(nick_key, session, now_ms)
    if muted is not None:
        return ProtocolError("muted", "A host muted you; you may post again later.", until=muted)
    if standing.locked:
        return ProtocolError("locked", "The room is locked: only hosts may post now.")
    return None


def slow_mode(every: int, wait: float) -> ProtocolError:
    """Return the refusal of a post sent too soon after the last one under slow mode."""
    return ProtocolError("slow_mode", f"Slow mode: one message every {every} s per person.",
                         retry_after=round(wait, 3))


class PostTimes:
    """When each person last posted in one room under slow mode (hosts are not timed).

    Posts are noted only while slow mode is on: the first post after it is
    turned on always goes.
    """

    def __init__(self) -> None:
        self._last: dict[str, int] = {}  # nickname key -> Unix ms

    def wait(self, nick_key: str, every: int, now_ms: int) -> float:
        """Return the seconds to wait before posting; 0: post now, and it is noted."""
        if every:
            last = self._last.get(nick_key)
            if last is not None and now_ms < last + every * 1000:
                return (last + every * 1000 - now_ms) / 1000
        self._last.pop(nick_key, None)  # to the end: the oldest are the first to go below
        self._last[nick_key] = now_ms
        if len(self._last) > 10_000:  # everyone who ever posted: keep the newest half
            self._last = dict(list(self._last.items())[5_000:])
        return 0


def forbidden(why: str = "Only a host may do that.") -> ProtocolError:
    """Return the refusal of a host's command to someone who may not run it."""
    return ProtocolError("forbidden", why)


def may_act_on(actor_level: int, target: Person) -> None:
    """Raise unless a host may mute, kick or ban `target`: a member, not another host.

    forbidden for a member, or for a made host acting on the key holder;
    bad_target for a host (the key holder takes a made host's hosting back first).
    """
    if actor_level == MEMBER:
        raise forbidden()
    if target.level > actor_level:
        raise forbidden("A host made by the key holder cannot act on the key holder.")
    if target.level > MEMBER:
        raise ProtocolError("bad_target", f"{target.nick!r} is a host; take that back first.")
