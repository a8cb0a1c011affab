"""typing: tell the rest of your room you are typing; a hint, never stored, never refused."""

import time
from dataclasses import dataclass
from typing import Any

from chat.commands.context import Context

NAME = "typing"
DESCRIPTION = "show the others that you are typing"
COUNTED = False  # throttled below instead: more than one a second is dropped without a word
WHO = "anyone"

TYPING_EVERY = 1.0  # seconds: the page sends `typing` every 3 s; more is a flood, dropped


@dataclass(frozen=True)
class Typing:
    """The client is typing; the others in its room are told, nothing is stored."""


def parse(data: dict[str, Any], max_text: int) -> Typing:
    """Accept any typing frame: it carries nothing."""
    return Typing()


def run(ctx: Context, hint: Typing) -> None:
    """Relay the hint to the rest of the room, at most once a second."""
    now = time.monotonic()
    if ctx.nick is not None and now - ctx.typing_relayed_at >= TYPING_EVERY:
        ctx.typing_relayed_at = now
        ctx.hub.typing(ctx.room, ctx.nick)
