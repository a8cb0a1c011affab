"""nick: change your nickname in your room, unless someone online holds it or one like it."""

import logging
from dataclasses import dataclass
from typing import Any

from chat import nicknames, protocol
from chat.commands import authority
from chat.commands.context import Context
from chat.protocol import ProtocolError

NAME = "nick"
DESCRIPTION = "change your nickname"
COUNTED = True
WHO = "anyone"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rename:
    """The client asks for another nickname."""

    nick: str


def parse(data: dict[str, Any], max_text: int) -> Rename:
    """Check the nickname asked for (chat.nicknames' rules)."""
    return Rename(protocol.check_nick(protocol.text_field(data, "nick")))


async def run(ctx: Context, rename: Rename) -> None:
    """Take the new nickname and tell the room, or tell the sender why not.

    Tornado reads the sender's next frame only once this is done.
    """
    old = ctx.nick
    if old is None or rename.nick == old:  # nothing changes, so nobody needs telling
        return
    muted = ctx.hub.standing(ctx.room).muted_until(nicknames.key(old), ctx.session,
                                                   authority.now_ms())
    if muted is not None:  # a new name must not shed the mute
        raise ProtocolError("muted", "A host muted you; you may not rename until then.",
                            until=muted)
    try:
        await ctx.hub.rename(ctx.room, old, rename.nick, ctx.holder)
    except ProtocolError as error:  # nick_taken, or unavailable in a cluster
        if not ctx.gone():
            ctx.send_event(error.event())
        return
    ctx.nick = rename.nick
    if ctx.gone():  # closing while the hub renamed: its leave may name `old`, so free `new` too
        ctx.hub.leave(ctx.room, rename.nick, ctx.holder)
        return
    log.info("%s is now %s in #%s", old, rename.nick, ctx.room)
