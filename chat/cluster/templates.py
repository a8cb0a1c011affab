"""The events the Lua scripts publish, built here by chat/protocol.py and cut where Redis fills in.

A script knows some values only inside its atomic step: a log entry's id (INCR),
how many are online after a join or a leave (HLEN), the nickname of each
person of a node found dead, the busy rooms. Everything else of each event is
built here by the builders LocalHub uses, written as protocol.encode writes
it, and cut into pieces at the fields the script fills; the script writes the
pieces with one value between each two (`fill` in chat/lua/common.lua) and no
field of its own. So a field added to an event in chat/protocol.py reaches a
cluster's pages as it reaches one process's (tests/test_hub_contract.py).

Why pieces, rather than cjson.decode, set the field, cjson.encode in the
script: a Lua table has no order (the fields would come out shuffled), cjson
escapes "/" and writes an empty list as {}, and a decode and an encode of
every entry cost Redis more than joining three strings. With pieces the
script writes only the value, a number or a JSON string of a name it read
(cjson's escapes decode to the same text on the node, which encodes every
event again with protocol.encode before sending it). No I/O here.
"""

from chat import hosting, protocol
from chat.protocol import Event


def encoded(value: object) -> str:
    """Return `value` as JSON text, exactly as protocol.encode writes it inside an event."""
    return protocol.encode({"": value}).decode()[len('{"":') : -1]  # its options, not a copy


def cut(event: Event, *holes: str) -> list[str]:
    """Return `event` as protocol.encode writes it, in pieces around the values of `holes`.

    The holes are fields of the event, named in the order they come; the
    pieces are one more than the holes.
    """
    if [name for name in event if name in holes] != list(holes):
        raise ValueError(f"{holes} are not fields of the event in their order")
    pieces, piece = [], "{"
    for index, (name, value) in enumerate(event.items()):
        piece += ("," if index else "") + encoded(name) + ":"
        if name in holes:
            pieces.append(piece)
            piece = ""
        else:
            piece += encoded(value)
    pieces.append(piece + "}")
    return pieces


def entry(unstamped: Event, ts: int) -> list[str]:
    """Return a log entry, stamped at `ts`, in two pieces around its id (append.lua takes both)."""
    return cut(protocol.stamped(unstamped, 0, ts), "id")


def join(nick: str) -> str:
    """Return `nick`'s join, cut at the number online, as the JSON list arrived.lua takes."""
    return encoded(cut(protocol.presence("join", nick, 0), "online"))


# The scripts that let people go fill in who left, from the entries they read.
LEAVE = encoded(cut(protocol.presence("leave", "", 0), "nick", "online"))
ROOMS = encoded(cut(protocol.rooms([]), "rooms"))
# The scripts that change who the hosts are fill in the list (chat/lua/common.lua).
HOSTS = encoded(cut(hosting.hosts([]), "hosts"))
