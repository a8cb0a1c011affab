"""unpin: a host takes the pinned message down."""

from chat import hosting
from chat.commands import authority, logged
from chat.commands.authority import Room
from chat.commands.context import Context
from chat.effects import Effects
from chat.protocol import ProtocolError

NAME = "unpin"
DESCRIPTION = "take the pinned message down"
COUNTED = True
WHO = "host"
parse = authority.room


def run(ctx: Context, frame: Room) -> None:
    """Unpin; the message itself stays in the room."""
    authority.require(ctx)
    if ctx.hub.standing(ctx.room).pin is None:
        raise ProtocolError("no_such_message", "Nothing is pinned.")
    entry = hosting.pinned(ctx.room, None, ctx.nick or "")
    logged.append(ctx, entry, frame.ref, Effects(room={"pin": None}))
