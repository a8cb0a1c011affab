"""edit: change the text of your own message, within minutes of posting it; everyone sees it."""

from dataclasses import dataclass
from typing import Any

from chat import moderation, nicknames, protocol, revisions
from chat.commands import authority, logged
from chat.commands.context import Context
from chat.effects import NONE, Effects
from chat.protocol import ProtocolError
from chat.revisions import EDIT_WINDOW_MS

NAME = "edit"
DESCRIPTION = "change the text of your own message (for 10 minutes after posting it)"
COUNTED = True
WHO = "anyone"  # their own messages only; a host may delete someone's, not edit it


@dataclass(frozen=True)
class Edit:
    """Which message to change, and its new text."""

    target: int
    text: str
    ref: str | None = None


def parse(data: dict[str, Any], max_text: int) -> Edit:
    """Check the message's id and the new text (the rules of a message's text)."""
    return Edit(protocol.whole_number(data, "target", 1, 10**18),
                protocol.check_text(protocol.text_field(data, "text"), max_text),
                protocol.optional_ref(data))


async def run(ctx: Context, frame: Edit) -> None:
    """Append the edit, if the message is this page's own and young enough; update a pin.

    Refused like a post when the sender is muted or the room locked (an edit
    is a way to say something new), but not by slow mode: it adds no message.
    """
    assert ctx.nick is not None
    message, author = await authority.message(ctx, frame.target)
    if author is None or author != ctx.session:  # judged by the page, as delete.py does
        raise moderation.forbidden("You can only edit your own messages.")
    now = authority.now_ms()
    # hub.entry gives the message as first stored (edits are entries of their own): its
    # `ts` is when it was posted, so the window never grows with each edit.
    if now - message["ts"] > EDIT_WINDOW_MS:
        raise ProtocolError("too_late", f"A message can be edited for {EDIT_WINDOW_MS // 60_000}"
                                        " minutes after it is posted.")
    standing = ctx.hub.standing(ctx.room)
    refusal = moderation.refuse_post(standing, authority.level(ctx), nicknames.key(ctx.nick),
                                     ctx.session, now)
    if refusal is not None:
        raise refusal
    pin = standing.pin
    effects = (Effects(room={"pin": {**message, "text": frame.text}})  # the welcome's pin too
               if pin is not None and pin["id"] == frame.target else NONE)
    entry = revisions.edited(ctx.room, frame.target, ctx.nick, frame.text)
    logged.append(ctx, entry, frame.ref, effects)
