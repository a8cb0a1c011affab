"""kick: a host puts someone out of the room; their address and page stay out for 5 minutes."""

from chat import hosting
from chat.commands import authority, logged
from chat.commands.authority import Someone
from chat.commands.context import Context
from chat.effects import Effects
from chat.moderation import KICK_SECONDS

NAME = "kick"
DESCRIPTION = "put someone out of this room for 5 minutes"
COUNTED = True
WHO = "host"
CLOSE_CODE = 4000
parse = authority.someone


async def run(ctx: Context, frame: Someone) -> None:
    """Tell the room, bar the address and the page, then close their connections here."""
    person = await authority.target(ctx, authority.require(ctx), frame.nick)
    now = authority.now_ms()
    until = now + KICK_SECONDS * 1000
    bars = authority.bars("kick", person, until, ctx.hub.standing(ctx.room).room, now)
    entry = hosting.kicked(ctx.room, person.nick, until, ctx.nick or "")
    logged.append(ctx, entry, frame.ref, Effects(room=bars))
    reason = f"A host removed you from #{ctx.room}; you may come back in 5 minutes."
    ctx.hub.remove(ctx.room, person, CLOSE_CODE, reason)
