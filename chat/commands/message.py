"""message: post a chat message to your room; with a `ref`, get an `ack` once it is stored."""

from dataclasses import dataclass
from typing import Any

from chat import moderation, nicknames, protocol
from chat.commands import authority, logged
from chat.commands.context import Context
from chat.commands.typing import TYPING_EVERY
from chat.moderation import MEMBER
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
    file: str | None = None  # the ID of an upload to post (docs/protocol.md, "Files")


def parse(data: dict[str, Any], max_text: int) -> Post:
    """Check the text, the optional ref (a refusal names it: chat/commands/__init__.py) and
    file; a file's caption may be empty."""
    text, file = protocol.text_field(data, "text"), posting.file_field(data)
    if file is None or text.strip():
        text = protocol.check_text(text, max_text)
    return Post(text, protocol.optional_ref(data), file)


def run(ctx: Context, post: Post) -> None:
    """Append the message to the room's log, which broadcasts it; answer once it is stored.

    Refused (`muted`, `locked`, `slow_mode`) by the room's standing, unless
    the sender is a host; a host's message says so, so a nickname alone
    never passes for one.
    """
    assert ctx.nick is not None
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
    entry = protocol.message(ctx.room, ctx.nick, post.text, host=level > MEMBER, file=file)
    logged.append(ctx, entry, post.ref)
    ctx.typing_relayed_at = -TYPING_EVERY  # the message clears the indicator: relay anew
