"""host: become the room's host by presenting the host key (the secret of the host link)."""

import logging
from dataclasses import dataclass
from typing import Any

from chat import hosting, protocol
from chat.commands.context import Context
from chat.protocol import ProtocolError

NAME = "host"
DESCRIPTION = "become the room's host with the host key"
COUNTED = True  # a wrong key costs the sender, like any frame: guessing is slow
WHO = "anyone"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Key:
    """The client presents the host key (never in a URL: this frame is the only way)."""

    key: str
    ref: str | None = None


def parse(data: dict[str, Any], max_text: int) -> Key:
    """Check that a key is there; whether it is the key, `run` asks the hub."""
    key = data.get("key")
    if not isinstance(key, str) or not 0 < len(key) <= 256:
        raise ProtocolError("bad_message", '"key" must be the host key, a string.')
    return Key(key, protocol.optional_ref(data))


async def run(ctx: Context, presented: Key) -> None:
    """Make this connection the host if the key is right; answer with the hosts, else forbidden.

    The room is told too, when its hosts changed.
    """
    assert ctx.nick is not None
    try:
        hosts = await ctx.hub.present_key(ctx.room, ctx.nick, ctx.holder, presented.key)
    except ProtocolError:
        log.warning("A wrong host key from %s in #%s", ctx.address, ctx.room)  # never the key
        raise
    ctx.keyed = True
    ctx.send_event(hosting.hosts(hosts))  # the answer: this page is a host now
    log.info("%s is the host of #%s", ctx.nick, ctx.room)
