"""topic: a host sets the line shown at the top of the room ("" clears it)."""

from dataclasses import dataclass
from typing import Any

from chat import hosting, protocol
from chat.commands import authority, logged
from chat.commands.context import Context
from chat.effects import Effects
from chat.moderation import MAX_TOPIC
from chat.protocol import ProtocolError

NAME = "topic"
DESCRIPTION = "set this room's topic"
COUNTED = True
WHO = "host"


@dataclass(frozen=True)
class Topic:
    """The room's new topic ("" clears it)."""

    topic: str
    ref: str | None = None


def parse(data: dict[str, Any], max_text: int) -> Topic:
    """Check the topic: text, at most MAX_TOPIC characters, one line."""
    text = " ".join(protocol.text_field(data, "topic").split())
    if len(text) > MAX_TOPIC:
        raise ProtocolError("too_long", f"A topic has at most {MAX_TOPIC} characters.")
    return Topic(text, protocol.optional_ref(data))


def run(ctx: Context, frame: Topic) -> None:
    """Set the topic; everyone sees it at the top of the room, newcomers in the welcome."""
    authority.require(ctx)
    entry = hosting.topic(ctx.room, frame.topic, ctx.nick or "")
    logged.append(ctx, entry, frame.ref, Effects(room={"topic": frame.topic or None}))
