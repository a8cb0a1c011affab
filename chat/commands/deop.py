"""deop: the host takes back someone's hosting of the room."""

from chat import hosting
from chat.commands import authority, logged
from chat.commands.authority import Someone
from chat.commands.context import Context
from chat.effects import Effects
from chat.moderation import HOST, OP
from chat.protocol import ProtocolError

NAME = "deop"
DESCRIPTION = "take back someone's hosting of this room (the key holder only)"
COUNTED = True
WHO = "host"
parse = authority.someone


async def run(ctx: Context, frame: Someone) -> None:
    """Unmake a host made with `op`; everyone is told."""
    authority.require(ctx, HOST)
    person = await authority.person(ctx, frame.nick)  # a host may be one already: said below
    if person.level != OP:
        raise ProtocolError("bad_target", f"{person.nick!r} was not made a host.")
    entry = hosting.made_host(ctx.room, person.nick, False, ctx.nick or "")
    logged.append(ctx, entry, frame.ref, Effects(room={f"op:{person.session}": None}))
