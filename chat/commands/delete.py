"""delete: take a message out of the room: your own, or anyone's if you are a host."""

from chat import hosting
from chat.commands import authority, logged
from chat.commands.authority import Message
from chat.commands.context import Context
from chat.effects import Effects
from chat.uploads import posting

NAME = "delete"
DESCRIPTION = "delete a message (your own; a host, any)"
COUNTED = True
WHO = "anyone"  # their own messages; a host, any
parse = authority.message_id


async def run(ctx: Context, frame: Message) -> None:
    """Erase the message from the log (history, since, export), and its file; leave a tombstone."""
    message, author = await authority.message(ctx, frame.target)
    if author is None or author != ctx.session:  # not this page's own message
        authority.require(ctx)
    pin = ctx.hub.standing(ctx.room).pin
    unpin = {"pin": None} if pin is not None and pin["id"] == frame.target else {}
    entry = hosting.deleted(ctx.room, frame.target, ctx.nick or "")
    logged.append(ctx, entry, frame.ref, Effects(room=unpin, erase=(frame.target,)))
    posting.remove_posted(ctx.files, message)  # its file goes with it
