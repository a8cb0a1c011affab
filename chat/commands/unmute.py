"""unmute: a host lets a muted person post again before their mute ends."""

from chat import hosting, nicknames
from chat.commands import authority, logged
from chat.commands.authority import Someone
from chat.commands.context import Context
from chat.effects import Effects
from chat.protocol import ProtocolError

NAME = "unmute"
DESCRIPTION = "let a muted person post again"
COUNTED = True
WHO = "host"
parse = authority.someone


async def run(ctx: Context, frame: Someone) -> None:
    """Lift the mute on this nickname, whether or not they are still here."""
    authority.require(ctx)
    key = nicknames.key(frame.nick)
    mute = ctx.hub.standing(ctx.room).room.get(f"mute:{key}")
    if mute is None or mute["until"] <= authority.now_ms():
        raise ProtocolError("bad_target", f"{frame.nick!r} is not muted.")
    entry = hosting.unmuted(ctx.room, mute["nick"], ctx.nick or "")
    changes = {f"mute:{key}": None}
    if mute.get("session"):
        changes[f"mute-session:{mute['session']}"] = None
    logged.append(ctx, entry, frame.ref, Effects(room=changes))
