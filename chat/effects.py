"""Effects: what appending an entry to a room's log changes beside the log itself.

Most entries change nothing else (a message). A host's entries also change
the room's standing state (a mute, the lock, the topic, the pin: fields of the
room, each a JSON value) or the server's (a ban), or take entries out of the
log (a deletion, a clear). The hub applies the entry and its effects in one
step (one SQLite transaction; one Lua script in a cluster), so a restart or
another node never sees one without the other. No I/O here.
"""

from dataclasses import dataclass, field
from typing import Any

SERVER = ""  # the room name under which server-wide fields (bans, the host key) are kept


@dataclass(frozen=True)
class Effects:
    """Fields set (a value) or removed (None), in the room and server-wide, and entries erased."""

    room: dict[str, Any] = field(default_factory=dict)  # field -> JSON value, or None to remove
    server: dict[str, Any] = field(default_factory=dict)  # the same, server-wide
    erase: tuple[int, ...] = ()  # ids of entries taken out of the log
    erase_all: bool = False  # every entry before this one goes (a clear)

    def __bool__(self) -> bool:
        return bool(self.room or self.server or self.erase or self.erase_all)


NONE = Effects()
