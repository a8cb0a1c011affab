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
    fields = ctx.hub.standing(ctx.room).room
    changes: dict[str, Any] = {**authority.expired(fields, "mute:", now),
                               f"mute:{person.key}": mute}
    changes.update({f"mute-session:{fields[name]['session']}": None for name in changes
                    if changes[name] is None and fields[name].get("session")})
    if person.session is not None:  # found by the page too: a new nickname keeps the mute
        changes[f"mute-session:{person.session}"] = person.key
    entry = hosting.muted(ctx.room, person.nick, until, ctx.nick or "")
    logged.append(ctx, entry, frame.ref, Effects(room=changes))
