"""message: post a chat message to your room; with a `ref`, get an `ack` once it is stored."""

from dataclasses import dataclass
from typing import Any

from chat import protocol
from chat.commands import logged
from chat.commands.context import Context
from chat.commands.typing import TYPING_EVERY
from chat.protocol import ProtocolError

NAME = "message"
DESCRIPTION = "post a message to your room"
COUNTED = True  # against the sender's flood limit


@dataclass(frozen=True)
class Post:
    """The client posts a chat message, with its own reference if it wants an ack."""

    text: str
    ref: str | None = None


def parse(data: dict[str, Any], max_text: int) -> Post:
    """Check the text and the optional ref; a refusal names the ref, so the client knows which."""
    ref = protocol.optional_ref(data)
    try:
        return Post(protocol.check_text(protocol.text_field(data, "text"), max_text), ref)
    except ProtocolError as error:
        error.details["ref"] = ref
        raise


def run(ctx: Context, post: Post) -> None:
    """Append the message to the room's log, which broadcasts it; answer once it is stored."""
    assert ctx.nick is not None
    logged.append(ctx, protocol.message(ctx.room, ctx.nick, post.text), post.ref)
    ctx.typing_relayed_at = -TYPING_EVERY  # the message clears the indicator: relay anew
