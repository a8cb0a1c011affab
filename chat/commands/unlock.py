"""unlock: a host lets everyone post in the room again."""

from chat import hosting
from chat.commands import authority, logged
from chat.commands.authority import Room
from chat.commands.context import Context
from chat.effects import Effects

NAME = "unlock"
DESCRIPTION = "let everyone post in this room again"
COUNTED = True
WHO = "host"
parse = authority.room


def run(ctx: Context, frame: Room) -> None:
    """Unlock the room."""
    authority.require(ctx)
    entry = hosting.locked(ctx.room, False, ctx.nick or "")
    logged.append(ctx, entry, frame.ref, Effects(room={"locked": None}))
