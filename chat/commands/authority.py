"""What the host's commands share: the sender's level, the person or message acted on.

Each host command (chat/commands/*.py with WHO = "host") checks here, before
it acts, that its sender may: a refusal is `forbidden`, and since every such
command is COUNTED, each try costs the sender against the flood limit.
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chat import moderation, nicknames, protocol
from chat.commands.context import Context
from chat.moderation import OP, Person
from chat.protocol import Event, ProtocolError


def level(ctx: Context) -> int:
    """Return the sender's level in its room now (chat/moderation.py)."""
    return moderation.level(ctx.hub.standing(ctx.room), ctx.keyed, ctx.session)


def require(ctx: Context, at_least: int = OP) -> int:
    """Return the sender's level, or raise forbidden if it is below `at_least`."""
    sender = level(ctx)
    if sender < at_least:
        raise moderation.forbidden("Only the host may do that." if at_least > OP else
                                   "Only a host may do that.")
    return sender


async def person(ctx: Context, nick: str) -> Person:
    """Return who holds `nick` in the sender's room, or raise no_such_person."""
    found = await ctx.hub.person(ctx.room, nick)
    if found is None:
        raise ProtocolError("no_such_person", f"Nobody called {nick!r} is in #{ctx.room}.")
    return found


async def target(ctx: Context, actor_level: int, nick: str) -> Person:
    """Return the person a host acts on, after checking that this host may act on them."""
    found = await person(ctx, nick)
    if ctx.nick is not None and found.key == nicknames.key(ctx.nick):
        raise ProtocolError("bad_target", "You cannot do that to yourself.")
    moderation.may_act_on(actor_level, found)
    return found


async def message(ctx: Context, entry_id: int) -> tuple[Event, str | None]:
    """Return a message of the sender's room and its author, or raise no_such_message."""
    found = await ctx.hub.entry(ctx.room, entry_id)
    if found is None or found[0]["type"] != "message":
        raise ProtocolError("no_such_message",
                            f"There is no message {entry_id} in #{ctx.room} (any more).")
    return found


def expired(fields: Mapping[str, Any], prefix: str, now: int) -> dict[str, None]:
    """Return the records under `prefix` that have ended, to be removed (so fields stay few)."""
    return {name: None for name, value in fields.items()
            if name.startswith(prefix) and 0 < value["until"] <= now}


def bars(kind: str, person: Person, until: int, fields: Mapping[str, Any],
         now: int) -> dict[str, Any]:
    """Return the fields that keep `person` out (`kind` "kick" or "ban"): by address and by
    page, until `until` (0: until lifted), with the ended bars of that kind removed."""
    record = {"nick": person.nick, "until": until}
    changes: dict[str, Any] = {**expired(fields, f"{kind}:", now),
                               f"{kind}:addr:{person.address}": record}
    if person.session is not None:
        changes[f"{kind}:session:{person.session}"] = record
    return changes


def now_ms() -> int:
    """Return the time in Unix milliseconds, as the hubs stamp entries."""
    return int(time.time() * 1000)


def nick_field(data: dict[str, Any]) -> str:
    """Return the nickname a host's frame names, in its normal form."""
    return protocol.check_nick(protocol.text_field(data, "nick"))


@dataclass(frozen=True)
class Someone:
    """A host's frame that names one person (op, deop, unmute, kick, unban)."""

    nick: str
    ref: str | None = None


@dataclass(frozen=True)
class Message:
    """A frame that names one message of the room by its id (delete, pin)."""

    target: int
    ref: str | None = None


@dataclass(frozen=True)
class Room:
    """A host's frame about the room itself, with nothing more (lock, unlock, clear, unpin)."""

    ref: str | None = None


def someone(data: dict[str, Any], max_text: int) -> Someone:
    """Parse a frame that names one person."""
    return Someone(nick_field(data), protocol.optional_ref(data))


def message_id(data: dict[str, Any], max_text: int) -> Message:
    """Parse a frame that names one message by its id."""
    return Message(protocol.whole_number(data, "target", 1, 10**18), protocol.optional_ref(data))


def room(data: dict[str, Any], max_text: int) -> Room:
    """Parse a frame about the room that carries nothing but an optional ref."""
    return Room(protocol.optional_ref(data))
