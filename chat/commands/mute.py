"""mute: a host stops someone posting in the room for a while; everyone sees it."""

from dataclasses import dataclass
from typing import Any

from chat import hosting, protocol
from chat.commands import authority, logged
from chat.commands.context import Context
from chat.effects import Effects
from chat.moderation import MAX_MUTE_SECONDS

NAME = "mute"
DESCRIPTION = "stop someone posting for a number of seconds"
COUNTED = True
WHO = "host"


@dataclass(frozen=True)
class Mute:
    """Whom to mute, and for how long."""

    nick: str
    seconds: int
    ref: str | None = None


def parse(data: dict[str, Any], max_text: int) -> Mute:
    """Check the nickname and the duration (1 s to a week)."""
    seconds = protocol.whole_number(data, "seconds", 1, MAX_MUTE_SECONDS)
    return Mute(authority.nick_field(data), seconds, protocol.optional_ref(data))


async def run(ctx: Context, frame: Mute) -> None:
    """Mute the person (by nickname and by page) until then; their posts are refused `muted`."""
    person = await authority.target(ctx, authority.require(ctx), frame.nick)
    now = authority.now_ms()
    until = now + frame.seconds * 1000
    mute = {"nick": person.nick, "until": until, "session": person.session}
    ended = authority.expired(ctx.hub.standing(ctx.room).room, "mute:", now)
    entry = hosting.muted(ctx.room, person.nick, until, ctx.nick or "")
    logged.append(ctx, entry, frame.ref, Effects(room={**ended, f"mute:{person.key}": mute}))
