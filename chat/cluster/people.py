"""People: who is on this node, room by room, so that a room's parts here live as long as they do.

A room with people on this node (or someone entering it) has a stream, a copy
of its fields and an online list shown; once the last of them leaves, is
replaced through another node, or fails to enter, those are forgotten. No I/O
here.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class People:
    """The connections on this node that hold a nickname in each room, and those entering."""

    def __init__(self, forget: Callable[[str], None]) -> None:
        self.forget = forget  # drops a room's parts on this node
        self.joining: Counter[str] = Counter()  # sockets entering each room on this node
        self.present: dict[str, set[str]] = {}  # room -> holders of this node's nicknames

    @contextmanager
    def entering(self, room: str) -> Iterator[None]:
        """Keep the room's parts while someone enters it (whether or not they get in)."""
        self.joining[room] += 1
        try:
            yield
        finally:
            self.joining[room] -= 1
            self.forget_if_empty(room)

    def came(self, room: str, holder: str, replaced: str) -> None:
        """Note a connection that holds a nickname now, instead of `replaced` (if it was here)."""
        here = self.present.setdefault(room, set())
        here.discard(replaced)
        here.add(holder)

    def went(self, room: str, holder: str) -> None:
        """Note a connection gone (closed, or replaced); forget the room if it was the last."""
        self.present.get(room, set()).discard(holder)
        self.forget_if_empty(room)

    def forget_if_empty(self, room: str) -> None:
        """Forget the room's parts once nobody on this node is in it or entering it."""
        if not self.joining[room] and not self.present.get(room):
            self.joining.pop(room, None)
            self.present.pop(room, None)
            self.forget(room)
