"""message: post a chat message to your room; with a `ref`, get an `ack` once it is stored."""

from dataclasses import dataclass
from typing import Any

from chat import moderation, nicknames, protocol
from chat.commands import authority, logged
from chat.commands.context import Context
from chat.commands.typing import TYPING_EVERY
from chat.moderation import MEMBER

NAME = "message"
DESCRIPTION = "post a message to your room"
COUNTED = True  # against the sender's flood limit
WHO = "anyone"


@dataclass(frozen=True)
class Post:
    """The client posts a chat message, with its own reference if it wants an ack."""

    text: str
    ref: str | None = None


def parse(data: dict[str, Any], max_text: int) -> Post:
    """Check the text and the optional ref (a refusal names the ref: chat/commands/__init__.py)."""
    return Post(protocol.check_text(protocol.text_field(data, "text"), max_text),
                protocol.optional_ref(data))


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
    entry = protocol.message(ctx.room, ctx.nick, post.text, host=level > MEMBER)
    logged.append(ctx, entry, post.ref)
    ctx.typing_relayed_at = -TYPING_EVERY  # the message clears the indicator: relay anew
