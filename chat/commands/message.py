"""message: post a chat message to your room; with a `ref`, get an `ack` once it is stored.

With `reply`, the message answers another: the server quotes it (chat/revisions.py).
"""

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from chat import moderation, nicknames, protocol, revisions
from chat.commands import authority, logged
from chat.commands.context import Context
from chat.commands.typing import TYPING_EVERY
from chat.moderation import MEMBER
from chat.protocol import Event
from chat.uploads import posting

NAME = "message"
DESCRIPTION = "post a message to your room"
COUNTED = True  # against the sender's flood limit
WHO = "anyone"


@dataclass(frozen=True)
class Post:
    """The client posts a chat message, with its own reference if it wants an ack."""

    text: str
    ref: str | None = None
    reply: int | None = None  # the id of the message it answers
    file: str | None = None  # the ID of an upload to post (docs/protocol.md, "Files")


def parse(data: dict[str, Any], max_text: int) -> Post:
    """Check the text, the optional ref (a refusal names it: chat/commands/__init__.py), reply
    and file; a file's caption may be empty."""
    ref = protocol.optional_ref(data)  # first: a bad ref is the frame's fault, not the text's
    text, file = protocol.text_field(data, "text"), posting.file_field(data)
    if file is None or text.strip():
        text = protocol.check_text(text, max_text)
    reply = (protocol.whole_number(data, "reply", 1, 10**18)
             if data.get("reply") is not None else None)
    return Post(text, ref, reply, file)


def run(ctx: Context, post: Post, quote: Event | None = None) -> Awaitable[None] | None:
    """Append the message to the room's log, which broadcasts it; answer once it is stored.

    A reply is looked up first (`replying`): only it waits for the hub, so a
    plain post costs no more than it did.

    Refused (`muted`, `locked`, `slow_mode`) by the room's standing, unless
    the sender is a host; a host's message says so, so a nickname alone
    never passes for one.
    """
    assert ctx.nick is not None
    if post.reply is not None and quote is None:
        return replying(ctx, post)
    standing = ctx.hub.standing(ctx.room)
    level = authority.level(ctx)
    refusal = moderation.refuse_post(standing, level, nicknames.key(ctx.nick), ctx.session,
                                     authority.now_ms())
    if refusal is not None:
        raise refusal
    slow = standing.slow
    if level == MEMBER and slow and (wait := ctx.hub.wait_to_post(ctx.room, ctx.nick, slow)):
        raise moderation.slow_mode(slow, wait)
    file = None if post.file is None else posting.attach(ctx.files, post.file, ctx.room,
                                                         ctx.session)  # claimed: it stays
    entry = protocol.message(ctx.room, ctx.nick, post.text, host=level > MEMBER, reply=quote,
                             file=file)
    logged.append(ctx, entry, post.ref)
    ctx.typing_relayed_at = -TYPING_EVERY  # the message clears the indicator: relay anew
    return None


async def replying(ctx: Context, post: Post) -> None:
    """Post a reply with the server's quote of the message it answers (no_such_message if gone).

    The quote is taken from the message as stored, whatever the client sent,
    so nobody can put words in another's mouth.
    """
    assert post.reply is not None
    answered, _ = await authority.message(ctx, post.reply)
    run(ctx, post, revisions.quote(answered))
