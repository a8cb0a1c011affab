"""lock: a host lets only hosts post in the room (announcement mode)."""

from chat import hosting
from chat.commands import authority, logged
from chat.commands.authority import Room
from chat.commands.context import Context
from chat.effects import Effects

NAME = "lock"
DESCRIPTION = "let only hosts post in this room"
COUNTED = True
WHO = "host"
parse = authority.room


def run(ctx: Context, frame: Room) -> None:
    """Lock the room; everyone else's posts are refused `locked` until it is unlocked."""
    authority.require(ctx)
    entry = hosting.locked(ctx.room, True, ctx.nick or "")
    logged.append(ctx, entry, frame.ref, Effects(room={"locked": True}))
