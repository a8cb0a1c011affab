"""message: post a chat message to your room; with a `ref`, get an `ack` once it is stored."""

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import Any

from chat import protocol
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
    """Hand the message to the hub, which broadcasts it; answer once it is stored."""
    assert ctx.nick is not None
    stored = ctx.hub.post(ctx.room, ctx.nick, post.text, post.ref)
    ctx.typing_relayed_at = -TYPING_EVERY  # the message clears the indicator: relay anew
    if stored is not None:
        stored.add_done_callback(partial(acknowledge, ctx, post.ref))


def acknowledge(ctx: Context, ref: str | None, stored: "asyncio.Future[int]") -> None:
    """Ack a stored message that carries a ref; say so if a message could not be stored."""
    if stored.exception() is not None:
        answer = ProtocolError(
            "unavailable",
            "The server could not store your message yet; your client sends it again.",
            ref=ref,
        ).event()
    elif ref is not None:
        answer = protocol.ack(ref, stored.result())
    else:
        return
    if not ctx.gone():  # if gone, it re-sends after reconnecting
        ctx.send_event(answer)
