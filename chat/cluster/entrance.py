"""Entering a room of a cluster: enter.lua's reply, and the welcome built from it. No I/O here.

enter.lua claims the nickname and reads, in the same atomic step, what the
welcome needs of Redis: the history, who is online and which of them are
hosts, the busy rooms, the room's fields. RedisHub fits the history to the
room's stream on this node (chat/cluster/streams.py) and hands the rest here,
where the welcome is built by the same rules (chat/rules.py) and builders
(chat/protocol.py) as one process's.
"""

import json
import time
from dataclasses import dataclass

from chat import nicknames, protocol, revisions, rules
from chat.cluster import templates
from chat.cluster.batches import Call
from chat.cluster.scripts import ARRIVALS, CHANNEL, KNOWN, ROOMS, node_key, room_key
from chat.moderation import Standing
from chat.protocol import Event


@dataclass(frozen=True)
class Limits:
    """What a welcome may carry, and how many entries each room's log keeps."""

    history: int  # entries in a welcome without `since`
    resume_limit: int  # most entries in a welcome with `since`
    history_cap: int  # entries each room's log keeps
    welcome_bytes: int  # most history JSON one welcome carries


@dataclass(frozen=True)
class Claim:
    """What enter.lua answered: the nickname claimed, and the room as Redis had it then."""

    nick: str
    takeover: bool  # the same page came back while its old connection held the nickname
    newest: int  # the room's newest id when it was read
    history: list[Event]
    online: list[str]
    rooms: list[str]
    replaced: str  # the holder taken over from ("" if none)
    hosts: list[str]
    fields: list  # the room's fields, as HGETALL lists them

    @classmethod
    def of(cls, reply: list) -> "Claim":
        """Parse enter.lua's reply (a nickname was claimed: the reply is not empty)."""
        nick, takeover, newest, history, online, rooms, replaced, hosts, fields = reply
        return cls(nick, bool(takeover), int(newest), json.loads(history), json.loads(online),
                   json.loads(rooms), replaced, json.loads(hosts), fields)


def claim_call(
    room: str, wanted: str | None, session: str | None, since: int | None, holder: str,
    address: str, node: str, limits: Limits,
) -> Call:
    """Return the call of enter.lua that lets `holder` into `room` from `node`."""
    keys = [room_key(room, "online"), room_key(room, "next"), room_key(room, "history"), ROOMS,
            node_key(node), ARRIVALS, KNOWN, room_key(room, "state")]
    args = [node, session or "", -1 if since is None else since, limits.history,
            limits.resume_limit, room, CHANNEL, holder, templates.ROOMS, address,
            *candidates(wanted)]
    return "enter", keys, args


def welcome(
    room: str, claim: Claim, history: list[Event], newest: int, since: int | None,
    waiting: int | None, standing: Standing, limits: Limits,
) -> Event:
    """Build the newcomer's welcome from its claim, its history fitted to the stream up to id
    `newest` (less the entries from id `waiting` on, if any wait to be broadcast), and the
    room's standing as this node knows it."""
    if waiting is not None:
        history = [entry for entry in history if entry["id"] < waiting]
    history, cut = protocol.fit_history(revisions.redacted(history), limits.welcome_bytes)
    oldest = rules.oldest_kept(newest, limits.history_cap)  # not the oldest row: see there
    missing = since is not None and rules.missed(since, newest, oldest, limits.resume_limit)
    flags = rules.welcome_flags(since, newest, missing, cut)
    shown = protocol.standing(claim.hosts, standing.topic, standing.pin, standing.locked,
                              standing.slow, standing.mutes(int(time.time() * 1000)))
    return protocol.welcome(room, claim.nick, claim.online, claim.rooms, history, shown, flags)


def candidates(wanted: str | None) -> list[str]:
    """Return (key, nickname) pairs, flattened: the candidates of chat.rules, best first."""
    names = rules.candidates(rules.wanted_nick(wanted))
    return [part for name in names for part in (nicknames.key(name), name)]
