"""What a node sends append.lua: an entry, its effects and its author, as keys and arguments.

The effects (chat/effects.py) travel as plain arguments, each field of the
room or of the server with its value as JSON text (written as protocol.encode
writes it; nothing else is built in the script), so the script applies them
in the same atomic step as the entry. No I/O here.
"""

from chat import rules
from chat.cluster import templates
from chat.cluster.batches import Call
from chat.cluster.scripts import CHANNEL, SERVER_STATE, room_key
from chat.effects import Effects
from chat.protocol import Event


def append_call(
    entry: Event, sender: str, ref: str | None, effects: Effects, author: str | None, ts: int,
    cap: int,
) -> Call:
    """Return the call of append.lua that adds `entry`, stamped at `ts`, and its effects."""
    room = entry["room"]
    keys = [room_key(room, "next"), room_key(room, "history"),
            room_key(room, f"ref:{len(sender)}:{sender}:{ref}") if ref else room_key(room, "next"),
            room_key(room, "state"), SERVER_STATE, room_key(room, "authors")]
    # Making or unmaking a host changes who the room's hosts are: the script tells it.
    hosts = templates.HOSTS if any(name.startswith("op:") for name in effects.room) else ""
    args = [CHANNEL, templates.encoded(room), *templates.entry(entry, ts), ref or "", cap,
            rules.REF_SECONDS, author or "", int(effects.erase_all), hosts,
            len(effects.erase), *effects.erase]
    for scope, changes in (("room", effects.room), ("server", effects.server)):
        for name, value in changes.items():
            args += [scope, name, "" if value is None else templates.encoded(value)]
    return "append", keys, args


def reply_to_id(reply: list[int]) -> int:
    """Return the entry's id from the append script's reply (id, whether it is new)."""
    return int(reply[0])
