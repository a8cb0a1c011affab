"""react: add one of a few emoji to a message, or take yours back; everyone sees it."""

from dataclasses import dataclass
from typing import Any

from chat import nicknames, protocol, revisions
from chat.commands import authority, logged
from chat.commands.context import Context
from chat.moderation import MEMBER
from chat.protocol import ProtocolError
from chat.revisions import REACTIONS

NAME = "react"
DESCRIPTION = f"react to a message with one of {' '.join(REACTIONS)} (or take it back)"
COUNTED = True  # a toggle is cheap to send in a loop: it costs like a message
WHO = "anyone"  # who is not muted


@dataclass(frozen=True)
class React:
    """Which message, which emoji, and whether the sender adds it (true) or takes it back."""

    target: int
    emoji: str
    on: bool
    ref: str | None = None


def parse(data: dict[str, Any], max_text: int) -> React:
    """Check the message's id, that the emoji is one of REACTIONS, and that `on` is a bool."""
    target = protocol.whole_number(data, "target", 1, 10**18)
    emoji = revisions.reaction(protocol.text_field(data, "emoji"))
    if emoji is None:
        raise ProtocolError("bad_reaction", f"React with one of {' '.join(REACTIONS)}.")
    on = data.get("on")
    if type(on) is not bool:  # 1 or "yes" would be read differently by each client
        raise ProtocolError("bad_message", '"on" must be true or false.')
    return React(target, emoji, on, protocol.optional_ref(data))


async def run(ctx: Context, frame: React) -> None:
    """Append the reaction to the room's log, if the message is there and the sender not muted.

    A locked room or slow mode does not refuse it: a reaction says nothing new.
    """
    assert ctx.nick is not None
    await authority.message(ctx, frame.target)
    if authority.level(ctx) == MEMBER:  # hosts are never muted, as for their posts
        until = ctx.hub.standing(ctx.room).muted_until(nicknames.key(ctx.nick), ctx.session,
                                                       authority.now_ms())
        if until is not None:
            raise ProtocolError("muted", "A host muted you; you may react again later.",
                                until=until)
    entry = revisions.reacted(ctx.room, frame.target, ctx.nick, frame.emoji, frame.on)
    logged.append(ctx, entry, frame.ref)
