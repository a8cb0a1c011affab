"""RoomStream: one room's log as this process delivers it, in id order, each entry once.

In a cluster, a room's log entries (messages, and every other kind) reach a
process over Redis pub/sub, and a welcome's history comes from a separate
read. Ids increase by one per room, so a process can tell an entry it already
delivered (an id at or below `last`) from one that arrived ahead of a lost
one (a gap to fetch from the history), and can end a newcomer's welcome
exactly where its live stream begins. No I/O here: chat/cluster/streams.py
feeds it and fetches what it asks for.
"""

from collections import deque

from chat.protocol import Event

RECENT = 1000  # entries remembered per room to complete welcomes read a moment ago


class RoomStream:
    """The delivered prefix of one room's log: `last` id delivered, and the recent entries."""

    def __init__(self, recent: int = RECENT) -> None:
        self.last: int | None = None  # None: nothing heard yet, and no welcome read
        self.recent: deque[Event] = deque(maxlen=recent)
        self.early: dict[int, Event] = {}  # arrived while an earlier id is still missing

    def receive(self, message: Event) -> list[Event]:
        """Take an entry from the broker; return the ones now due for delivery, in order."""
        message_id = message["id"]
        if self.last is None:
            self.last = message_id - 1  # the first we hear of this room starts the stream
        if message_id <= self.last:
            return []  # delivered already (a welcome read, or a fetched gap, had it)
        self.early[message_id] = message
        return self._release()

    def gap(self) -> tuple[int, int] | None:
        """Return the ids (after, up_to] missing before the earliest early message, if any."""
        if not self.early or self.last is None:
            return None
        return self.last, min(self.early) - 1

    def skip_gap(self) -> list[Event]:
        """Give up on the missing ids (the history no longer has them); release what follows."""
        if self.early:
            self.last = min(self.early) - 1
        return self._release()

    def complete(self, history: list[Event], read_up_to: int) -> list[Event] | None:
        """Fit a welcome's history, read when the room's newest id was `read_up_to`, to the stream.

        Returns the history to send, ending at `last`: entries this process
        already delivered to the room are added from `recent`, and ones it
        has yet to deliver are left for the stream. None if `recent` no
        longer reaches back to `read_up_to`: read the history again.
        """
        if self.last is None:
            self.last = read_up_to
            return history
        if self.last <= read_up_to:
            return [message for message in history if message["id"] <= self.last]
        later = [message for message in self.recent if message["id"] > read_up_to]
        if not later or later[0]["id"] != read_up_to + 1:
            return None
        return history + later

    def reset(self, last: int) -> None:
        """Start again after `last`: the broker lost the history, and ids count from there."""
        self.last = last
        self.recent.clear()
        self.early.clear()

    def _release(self) -> list[Event]:
        """Move the consecutive early entries after `last` into the delivered prefix."""
        released = []
        while self.last is not None and self.last + 1 in self.early:
            self.last += 1
            message = self.early.pop(self.last)
            self.recent.append(message)
            released.append(message)
        return released
