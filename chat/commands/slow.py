"""slow: a host lets each non-host post once every N seconds (slow mode); 0 turns it off."""

from dataclasses import dataclass
from typing import Any

from chat import hosting, protocol
from chat.commands import authority, logged
from chat.commands.context import Context
from chat.effects import Effects
from chat.moderation import MAX_SLOW_SECONDS

NAME = "slow"
DESCRIPTION = "let each person post once every N seconds (0: off)"
COUNTED = True
WHO = "host"


@dataclass(frozen=True)
class Slow:
    """Seconds between two posts of one person; 0 turns slow mode off."""

    seconds: int
    ref: str | None = None


def parse(data: dict[str, Any], max_text: int) -> Slow:
    """Check the seconds (0 to an hour)."""
    return Slow(protocol.whole_number(data, "seconds", 0, MAX_SLOW_SECONDS),
                protocol.optional_ref(data))


def run(ctx: Context, frame: Slow) -> None:
    """Set slow mode; a post sent too soon is refused `slow_mode` with `retry_after`."""
    authority.require(ctx)
    entry = hosting.slowed(ctx.room, frame.seconds, ctx.nick or "")
    logged.append(ctx, entry, frame.ref, Effects(room={"slow": frame.seconds or None}))
