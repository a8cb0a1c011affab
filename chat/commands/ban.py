"""ban: a host shuts someone out of the whole chat, until unbanned or for a while."""

from dataclasses import dataclass
from typing import Any

from chat import hosting, protocol
from chat.commands import authority, logged
from chat.commands.context import Context
from chat.effects import Effects
from chat.moderation import MAX_MUTE_SECONDS

NAME = "ban"
DESCRIPTION = "shut someone out of every room, for a number of seconds or until unbanned"
COUNTED = True
WHO = "host"
CLOSE_CODE = 4003


@dataclass(frozen=True)
class Ban:
    """Whom to ban, and for how long (0: until unbanned)."""

    nick: str
    seconds: int
    ref: str | None = None


def parse(data: dict[str, Any], max_text: int) -> Ban:
    """Check the nickname and the optional duration (up to a week; none: until unbanned)."""
    seconds = 0 if data.get("seconds") is None else protocol.whole_number(
        data, "seconds", 1, MAX_MUTE_SECONDS)
    return Ban(authority.nick_field(data), seconds, protocol.optional_ref(data))


async def run(ctx: Context, frame: Ban) -> None:
    """Tell the room, bar the address and the page everywhere, then close their connections."""
    person = await authority.target(ctx, authority.require(ctx), frame.nick)
    now = authority.now_ms()
    until = now + frame.seconds * 1000 if frame.seconds else 0
    bars = authority.bars("ban", person, until, ctx.hub.standing(ctx.room).server, now)
    entry = hosting.banned(ctx.room, person.nick, until, ctx.nick or "")
    logged.append(ctx, entry, frame.ref, Effects(server=bars))
    for where in (ctx.room, None):  # this room by nickname, then the page in every room
        ctx.hub.remove(where, person, CLOSE_CODE, "A host banned you from this chat.")
