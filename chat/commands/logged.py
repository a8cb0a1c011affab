"""Appending to the room's log on a client's behalf, and telling it the entry's id.

Every command whose effect a reconnecting page must see (a message today;
edits, reactions, pins later) builds its entry with chat/protocol.py and
hands it to `append` here: the hub stamps, stores and broadcasts it, and the
sender gets an `ack` with the id when it sent a `ref`, or `unavailable` if
the entry could not be stored, so its client sends it again.
"""

import asyncio
from functools import partial

from chat import protocol
from chat.commands.context import Context
from chat.effects import NONE, Effects
from chat.protocol import Event, ProtocolError


def append(ctx: Context, entry: Event, ref: str | None, effects: Effects = NONE) -> None:
    """Append `entry` (and its effects) to the sender's room's log; answer once it is stored."""
    assert ctx.nick is not None
    stored = ctx.hub.append(entry, ctx.nick, ref, effects, author=ctx.session)
    if stored is not None:
        stored.add_done_callback(partial(acknowledge, ctx, ref))


def acknowledge(ctx: Context, ref: str | None, stored: "asyncio.Future[int]") -> None:
    """Ack a stored entry that carries a ref; say so if an entry could not be stored."""
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
