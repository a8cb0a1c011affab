"""op: the host makes someone else a host of the room (kept by their page's session)."""

from chat import hosting
from chat.commands import authority, logged
from chat.commands.authority import Someone
from chat.commands.context import Context
from chat.effects import Effects
from chat.moderation import HOST
from chat.protocol import ProtocolError

NAME = "op"
DESCRIPTION = "make someone a host of this room (the key holder only)"
COUNTED = True
WHO = "host"
parse = authority.someone


async def run(ctx: Context, frame: Someone) -> None:
    """Make the person a host: everyone is told, and their page stays one after a reconnect."""
    authority.require(ctx, HOST)
    person = await authority.person(ctx, frame.nick)  # a host may be one already: said below
    if person.session is None:
        raise ProtocolError("bad_target", f"{person.nick!r} has no page session to keep it.")
    if person.level:
        raise ProtocolError("bad_target", f"{person.nick!r} is a host already.")
    entry = hosting.made_host(ctx.room, person.nick, True, ctx.nick or "")
    logged.append(ctx, entry, frame.ref, Effects(room={f"op:{person.session}": person.nick}))
