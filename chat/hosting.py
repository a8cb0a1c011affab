"""The events of the host's powers: the log entries their commands append, and the live `hosts`.

Each builder gives an entry's type, room and own fields; the hub stamps the
id and the time (chat/protocol.py, `stamped`), as for a message. `by` names
the host who acted. docs/protocol.md, "Hosts", is the contract. No I/O here.
"""

from chat.protocol import Event, stamped


def deleted(room: str, target: int, by: str) -> Event:
    """Build the tombstone of a deleted message: pages remove entry `target`."""
    return {"type": "delete", "room": room, "target": target, "by": by}


def muted(room: str, nick: str, until: int, by: str) -> Event:
    """Build the entry that says `nick` may not post until `until` (Unix ms)."""
    return {"type": "mute", "room": room, "nick": nick, "until": until, "by": by}


def unmuted(room: str, nick: str, by: str) -> Event:
    """Build the entry that lifts `nick`'s mute."""
    return {"type": "unmute", "room": room, "nick": nick, "by": by}


def kicked(room: str, nick: str, until: int, by: str) -> Event:
    """Build the entry that says `nick` was put out of the room until `until` (Unix ms)."""
    return {"type": "kick", "room": room, "nick": nick, "until": until, "by": by}


def banned(room: str, nick: str, until: int, by: str) -> Event:
    """Build the entry that says `nick` was banned from the server (`until` 0: until lifted)."""
    return {"type": "ban", "room": room, "nick": nick, "until": until, "by": by}


def unbanned(room: str, nick: str, by: str) -> Event:
    """Build the entry that lifts `nick`'s ban."""
    return {"type": "unban", "room": room, "nick": nick, "by": by}


def locked(room: str, on: bool, by: str) -> Event:
    """Build the entry that locks the room (only hosts may post) or unlocks it."""
    return {"type": "lock" if on else "unlock", "room": room, "by": by}


def slowed(room: str, seconds: int, by: str) -> Event:
    """Build the entry that sets slow mode: one message per `seconds` for non-hosts (0: off)."""
    return {"type": "slow", "room": room, "seconds": seconds, "by": by}


def cleared(room: str, by: str) -> Event:
    """Build the entry that empties the room's history: pages empty the room."""
    return {"type": "clear", "room": room, "by": by}


def pinned(room: str, message: Event | None, by: str) -> Event:
    """Build the entry that pins `message` at the top of the room (None: unpins)."""
    if message is None:
        return {"type": "unpin", "room": room, "by": by}
    return {"type": "pin", "room": room, "message": message, "by": by}


def topic(room: str, text: str, by: str) -> Event:
    """Build the entry that sets the room's topic ("" clears it)."""
    return {"type": "topic", "room": room, "topic": text, "by": by}


def made_host(room: str, nick: str, on: bool, by: str) -> Event:
    """Build the entry that makes `nick` a host of the room (`op`) or takes it back (`deop`)."""
    return {"type": "op" if on else "deop", "room": room, "nick": nick, "by": by}


def hosts(names: list[str]) -> Event:
    """Build the live event that lists the hosts online in a room (not in the log)."""
    return {"type": "hosts", "hosts": names}


# One of each, as sent: a cluster's node checks what it hears against these fields.
ANNOUNCED: tuple[Event, ...] = tuple(stamped(entry, 0, 0) for entry in (
    deleted("", 0, ""), muted("", "", 0, ""), unmuted("", "", ""), kicked("", "", 0, ""),
    banned("", "", 0, ""), unbanned("", "", ""), locked("", True, ""), locked("", False, ""),
    slowed("", 0, ""), cleared("", ""), pinned("", {}, ""), pinned("", None, ""),
    topic("", "", ""), made_host("", "", True, ""), made_host("", "", False, ""),
)) + (hosts([]),)
