"""The message history: assigns message ids and keeps the recent messages.

The handlers only call `append` and `recent`, so a durable store (SQLite, a
broker) can replace this in-memory one without touching them.
"""

from collections import deque

from chat import protocol


class MemoryStore:
    """Keep the last `keep` messages in memory; ids count up from 1."""

    def __init__(self, keep: int) -> None:
        self._recent: deque[protocol.Event] = deque(maxlen=keep)
        self._last_id = 0

    def append(self, nick: str, text: str, ts: int) -> protocol.Event:
        """Store a message under the next id and return it as an event."""
        self._last_id += 1
        event = protocol.message(self._last_id, nick, text, ts)
        self._recent.append(event)
        return event

    def recent(self) -> list[protocol.Event]:
        """Return the kept messages, oldest first."""
        return list(self._recent)
