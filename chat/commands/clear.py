"""clear: a host empties the room's history for everyone (pages ask to confirm first)."""

from chat import hosting
from chat.commands import authority, logged
from chat.commands.authority import Room
from chat.commands.context import Context
from chat.effects import Effects

NAME = "clear"
DESCRIPTION = "empty this room's history"
COUNTED = True
WHO = "host"
parse = authority.room


def run(ctx: Context, frame: Room) -> None:
    """Erase every entry before this one, the pin and the room's files; pages empty the room."""
    authority.require(ctx)
    entry = hosting.cleared(ctx.room, ctx.nick or "")
    logged.append(ctx, entry, frame.ref, Effects(room={"pin": None}, erase_all=True))
    if ctx.files is not None:
        ctx.files.remove_room(ctx.room)  # posted or not: the room's files go with its messages
