"""unban: a host lets a banned person back into the chat."""

from chat import hosting, nicknames
from chat.commands import authority, logged
from chat.commands.authority import Someone
from chat.commands.context import Context
from chat.effects import Effects
from chat.protocol import ProtocolError

NAME = "unban"
DESCRIPTION = "let a banned person back in"
COUNTED = True
WHO = "host"
parse = authority.someone


async def run(ctx: Context, frame: Someone) -> None:
    """Lift every ban recorded under this nickname (their address and their page)."""
    authority.require(ctx)
    key = nicknames.key(frame.nick)
    server = ctx.hub.standing(ctx.room).server
    bans = {name: value for name, value in server.items()
            if name.startswith("ban:") and nicknames.key(value["nick"]) == key}
    if not bans:
        raise ProtocolError("bad_target", f"{frame.nick!r} is not banned.")
    entry = hosting.unbanned(ctx.room, next(iter(bans.values()))["nick"], ctx.nick or "")
    logged.append(ctx, entry, frame.ref, Effects(server=dict.fromkeys(bans)))
