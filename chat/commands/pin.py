"""pin: a host shows one message at the top of the room for everyone."""

from chat import hosting
from chat.commands import authority, logged
from chat.commands.authority import Message
from chat.commands.context import Context
from chat.effects import Effects

NAME = "pin"
DESCRIPTION = "pin a message at the top of this room"
COUNTED = True
WHO = "host"
parse = authority.message_id


async def run(ctx: Context, frame: Message) -> None:
    """Pin the message (it replaces any pin); the welcome carries it to newcomers."""
    authority.require(ctx)
    message, _ = await authority.message(ctx, frame.target)
    entry = hosting.pinned(ctx.room, message, ctx.nick or "")
    logged.append(ctx, entry, frame.ref, Effects(room={"pin": message}))
