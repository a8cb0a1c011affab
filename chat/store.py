"""Every room's log in SQLite: assigns ids, keeps every entry, finds them again.

A room's log is its messages and, as later commands add them, every other
change a page must see after a reconnect (docs/protocol.md, "The room's
log"). The store keeps each entry as the JSON everyone received, with its
kind, sender and time beside it, so it stores, replays and de-duplicates any
kind without knowing it; with each entry it applies its effects
(chat/effects.py: the room's standing fields, entries erased) in the same
transaction. `LocalHub` (through chat/room.py) sees `append`, `recent`,
`since` and `fields` (and `close` at shutdown).

Writing never happens on the event loop: a disk that stalls (a checkpoint's
fsync, a busy device) must not freeze the chat for everyone. `append` assigns
the id and de-duplicates in memory, then hands the row to one writer thread,
which commits whatever has queued up in one transaction and resolves each
entry's `stored` future; the command acknowledges after that. Reads run on
the loop against committed rows (WAL lets them run beside the writer) plus the
rows still queued, so an entry is visible the moment it is appended.
`:memory:` has no disk to wait for: it commits on the spot, with no thread.
"""

import json
import threading
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path
from types import MappingProxyType
from typing import Any

from chat import protocol, rules
from chat.database import Row, StoreError, Write, Writer, connect
from chat.effects import NONE, SERVER, Effects
from chat.protocol import Event
from chat.refs import REF_MS, Refs

__all__ = ["SQLiteStore", "StoreError"]  # StoreError: what callers catch, from chat/database.py



class SQLiteStore:
    """Every room's log in one SQLite file, ids counting up from 1 per room; each room's fields."""

    def __init__(self, path: str | Path, cap: int | None = None) -> None:
        self.path = str(path)
        self.cap = cap  # entries kept per room, the oldest deleted first; None keeps all
        self._reads = connect(self.path)
        self._last_ids: dict[str, int] = {}
        self._fields: dict[str, dict[str, Any]] = {}  # room -> its fields, as committed or queued
        self.refs = Refs()
        self._load_recent_refs()
        # Shared with the writer thread, under the lock:
        self._lock = threading.Lock()
        self._committed_ids: dict[str, int] = {}
        self._queued: dict[str, deque[Event]] = {}  # appended, not yet committed, per room
        self._authors: dict[tuple[str, int], tuple[Event, str | None]] = {}  # the same, by id
        # room -> ids erased, every id below a clear, and the entry that asked last:
        # the file keeps them until the writer commits that entry.
        self._erasing: dict[str, tuple[set[int], int, int]] = {}
        self._writer = Writer(self.path, self._reads, cap, self._committed)

    def last_id(self, room: str) -> int:
        """Return the newest entry id in `room`, 0 if it has none."""
        if room not in self._last_ids:
            row = self._reads.execute("SELECT MAX(id) FROM log WHERE room = ?", (room,))
            self._last_ids[room] = row.fetchone()[0] or 0
            with self._lock:
                self._committed_ids[room] = self._last_ids[room]
        return self._last_ids[room]

    def fields(self, room: str, keep: bool = True) -> Mapping[str, Any]:
        """Return `room`'s fields (chat.effects.SERVER: the server's), read-only and kept current.

        Queued changes are in it at once, before the writer stores them. With
        `keep=False` a room not in use is read and not remembered: a handshake
        naming a million rooms costs no memory.
        """
        if not keep and room not in self._fields:
            rows = self._reads.execute("SELECT field, value FROM state WHERE room = ?", (room,))
            return MappingProxyType({name: json.loads(value) for name, value in rows})
        return MappingProxyType(self._room_fields(room))

    def _room_fields(self, room: str) -> dict[str, Any]:
        """Return `room`'s fields, read from the file on first use and kept up to date after."""
        if room not in self._fields:
            rows = self._reads.execute("SELECT field, value FROM state WHERE room = ?", (room,))
            self._fields[room] = {name: json.loads(value) for name, value in rows}
        return self._fields[room]

    def set_fields(self, room: str, changes: dict[str, Any]) -> "Future[int]":
        """Set (or, with None, remove) fields of `room` with no entry; a future of 0 once stored."""
        stored: Future[int] = Future()
        self._change(room, Effects(room=changes))
        self._writer.put((room, None, Effects(room=changes), stored))
        return stored

    def append(
        self, entry: Event, sender: str, ts: int, ref: str | None = None, effects: Effects = NONE,
        author: str | None = None,
    ) -> tuple[Event | None, "Future[int] | None", bool]:
        """Stamp an entry with its room's next id and `ts`, and queue it with its effects.

        `sender` (a nickname) scopes the ref; `author`, the digest of the
        sender's page session, is kept beside the entry (never sent), so that
        only that page may later delete or edit it.

        Returns the entry as everyone receives it, a future of its id once
        stored (with a ref: nobody waits for the others, so they get None
        and the writer logs a failure), and True. A `ref` the sender used
        within REF_MS returns None, a future of the first copy's id, and
        False: the client re-sent it after a reconnect.
        """
        room = entry["room"]
        if ref is not None:
            earlier = self.refs.first_copy((room, sender, ref), ts)
            if earlier is not None:
                return None, earlier, False
        event = protocol.stamped(entry, self.last_id(room) + 1, ts)
        self._last_ids[room] = event["id"]
        stored: Future[int] | None = None
        if ref is not None:
            stored = Future()
            self.refs.remember((room, sender, ref), ts, stored)
        if effects:
            self._change(room, effects, event["id"])
        with self._lock:
            self._queued.setdefault(room, deque()).append(event)
            self._authors[(room, event["id"])] = (event, author)
        row: Row = (room, event["id"], event["type"], sender, ts, ref, author, event)
        self._writer.put((room, row, effects, stored))
        return event, stored, True

    def _change(self, room: str, effects: Effects, entry_id: int = 0) -> None:
        """Apply effects to what the loop reads at once; the writer stores them after."""
        for where, changes in ((room, effects.room), (SERVER, effects.server)):
            fields = self._room_fields(where)
            for name, value in changes.items():
                if value is None:
                    fields.pop(name, None)
                else:
                    fields[name] = value
        if effects.erase or effects.erase_all:
            with self._lock:
                ids, below, _ = self._erasing.get(room, (set(), 0, 0))
                ids, below = ids | set(effects.erase), entry_id if effects.erase_all else below
                self._erasing[room] = (ids, below, entry_id)
                self._queued[room] = deque(event for event in self._queued.get(room, ())
                                           if not erased(event["id"], ids, below))

    def entry(self, room: str, entry_id: int) -> tuple[Event, str | None] | None:
        """Return entry `entry_id` of `room`'s log and its author; None if it is not kept."""
        self.last_id(room)
        with self._lock:
            if erased(entry_id, *self._erasing.get(room, (set(), 0, 0))[:2]):
                return None
            queued = self._authors.get((room, entry_id))
        if queued is not None:
            return queued
        row = self._reads.execute("SELECT event, author FROM log WHERE room = ? AND id = ?",
                                  (room, entry_id)).fetchone()
        return None if row is None else (json.loads(row[0]), row[1])

    def recent(self, room: str, limit: int) -> list[Event]:
        """Return the newest `limit` entries of `room`, oldest first."""
        return self._newest(room, 0, limit)

    def since(self, room: str, after: int, limit: int) -> tuple[list[Event], bool]:
        """Return the newest `limit` entries after id `after`, and whether older ones were cut.

        Cut means: more than `limit` came after it, or the cap deleted some of them.
        """
        newest = self.last_id(room)
        oldest = rules.oldest_kept(newest, self.cap)
        return self._newest(room, after, limit), rules.missed(after, newest, oldest, limit)

    def close(self) -> None:
        """Store everything appended so far, then close the database."""
        self._writer.close()
        self._reads.close()

    def _newest(self, room: str, after: int, limit: int) -> list[Event]:
        """Return the newest `limit` entries with an id above `after`, oldest first."""
        self.last_id(room)  # loads the committed id on first use
        with self._lock:  # rows up to `committed` are in the file, the rest are queued
            committed = self._committed_ids[room]
            queued = [event for event in self._queued.get(room, ()) if event["id"] > after]
            ids, below, _ = self._erasing.get(room, (set(), 0, 0))
        if limit <= len(queued):
            return queued[len(queued) - limit :]
        first = max(after, below - 1)
        if committed <= first:  # nothing in the file to read: a new room's welcomes ask no SQL
            return queued
        rows = self._reads.execute(
            "SELECT id, event FROM log WHERE room = ? AND id > ? AND id <= ? ORDER BY id DESC"
            " LIMIT ?",
            (room, first, committed, limit - len(queued)),
        ).fetchall()
        found = [json.loads(event) for entry_id, event in reversed(rows)
                 if entry_id not in ids]  # erased, and the writer has yet to delete it
        return found + queued

    def _committed(self, batch: list[Write], failure: "StoreError | None") -> None:
        """In the writer: take a batch off the queue (in the file, or lost); resolve its futures."""
        with self._lock:
            for room, row, _, _ in batch:
                if row is None:
                    continue
                if room in self._erasing and self._erasing[room][2] <= row[1]:
                    del self._erasing[room]  # the rows are gone now (or never will be)
                self._committed_ids[room] = row[1]
                self._authors.pop((room, row[1]), None)
                queued = self._queued.get(room)
                while queued and queued[0]["id"] <= row[1]:
                    queued.popleft()
        for _, row, _, stored in batch:
            entry_id = 0 if row is None else row[1]
            if failure is None and row is not None and row[5] is not None:
                self.refs.stored((row[0], row[3], row[5]), entry_id)
            if stored is None:  # an entry with no ref: nobody waits for it
                continue
            if failure is None:
                stored.set_result(entry_id)
            else:
                stored.set_exception(failure)

    def forget_ref(self, room: str, sender: str, ref: str) -> None:
        """Let a re-send of `ref` be stored anew (its first copy could not be written)."""
        self.refs.forget((room, sender, ref))

    def _load_recent_refs(self) -> None:
        """After a restart, remember the refs stored in the last REF_MS."""
        rows = self._reads.execute(
            "SELECT room, sender, ref, id, ts FROM log"
            " WHERE ref IS NOT NULL AND ts >= (SELECT MAX(ts) FROM log) - ? ORDER BY ts",
            (REF_MS,),
        )
        for room, sender, ref, entry_id, ts in rows:
            self.refs.remember((room, sender, ref), ts, entry_id)


def erased(entry_id: int, ids: set[int], below: int) -> bool:
    """Tell whether an entry is among those erased: named, or older than a clear."""
    return entry_id in ids or entry_id < below
