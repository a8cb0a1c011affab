"""Refs: which entry each client `ref` was first stored as, for REF_MS, at most MAX_REFS of them.

A page re-sends what it has not seen acknowledged after every reconnect; the
same (room, sender, ref) within REF_MS is the same entry, answered with the
first copy's id. The loop asks and remembers; the store's writer thread turns
a ref's future into its id once stored; one lock guards both. What is kept is
a key and an id per ref, never the text.
"""

import threading
from collections import deque
from concurrent.futures import Future

from chat import rules

REF_MS = rules.REF_SECONDS * 1000  # how long a ref is remembered, in the ts unit
MAX_REFS = 10_000  # refs remembered at most: each is a key and an id, ~300 bytes

RefKey = tuple[str, str, str]  # room, sender, ref


class Refs:
    """The refs of the last REF_MS, oldest out first: each one's id, or its future until stored."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.first: dict[RefKey, int | Future[int]] = {}
        self._expiry: deque[tuple[int, RefKey]] = deque()

    def first_copy(self, key: RefKey, now: int) -> "Future[int] | None":
        """Return a future of the id `key` was first stored under, if within REF_MS of `now`."""
        with self._lock:
            while self._expiry and self._expiry[0][0] < now - REF_MS:
                self.first.pop(self._expiry.popleft()[1], None)
            earlier = self.first.get(key)
        if isinstance(earlier, int):
            stored: Future[int] = Future()
            stored.set_result(earlier)
            return stored
        return earlier

    def remember(self, key: RefKey, ts: int, first: "int | Future[int]") -> None:
        """Keep an entry's ref for REF_MS, and at most MAX_REFS refs, oldest out first."""
        with self._lock:
            self.first[key] = first
            self._expiry.append((ts, key))
            while len(self._expiry) > MAX_REFS:
                self.first.pop(self._expiry.popleft()[1], None)

    def stored(self, key: RefKey, entry_id: int) -> None:
        """Keep the id of a stored entry in place of its future (lighter, and final)."""
        with self._lock:
            if key in self.first:
                self.first[key] = entry_id

    def forget(self, key: RefKey) -> None:
        """Let a re-send of `key` be stored anew (its first copy could not be written)."""
        with self._lock:
            self.first.pop(key, None)
