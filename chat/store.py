"""Every room's log in SQLite: assigns ids, keeps every entry, finds them again.

A room's log is its messages and, as later commands add them, every other
change a page must see after a reconnect (docs/protocol.md, "The room's
log"). The store keeps each entry as the JSON everyone received, with its
kind, sender and time beside it, so it stores, replays and de-duplicates any
kind without knowing it. `LocalHub` (through chat/room.py) sees `append`,
`recent` and `since` (and `close` at shutdown).

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
import logging
import queue
import sqlite3
import threading
from collections import deque
from concurrent.futures import Future
from pathlib import Path

from chat import protocol, rules
from chat.protocol import Event

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    room TEXT NOT NULL,
    id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    sender TEXT NOT NULL,
    ts INTEGER NOT NULL,
    ref TEXT,
    event TEXT NOT NULL,
    PRIMARY KEY (room, id)
);
"""

# A database from before the log held messages alone: they become its entries, as sent.
UPGRADE = """
INSERT OR IGNORE INTO log (room, id, kind, sender, ts, ref, event)
SELECT room, id, 'message', nick, ts, ref, json_object(
    'type', 'message', 'room', room, 'id', id, 'nick', nick, 'text', text, 'ts', ts)
FROM messages;
DROP TABLE messages;
"""

REF_MS = rules.REF_SECONDS * 1000  # how long a ref is remembered, in the ts unit
MAX_REFS = 10_000  # refs remembered at most: each is a key and an id, ~300 bytes

Row = tuple[str, int, str, str, int, str | None, Event]  # room, id, kind, sender, ts, ref, event
RefKey = tuple[str, str, str]  # room, sender, ref


class StoreError(Exception):
    """The database file cannot be opened, read or written."""


class SQLiteStore:
    """Every room's log in one SQLite file; ids count up from 1 per room."""

    def __init__(self, path: str | Path, cap: int | None = None) -> None:
        self.path = str(path)
        self.cap = cap  # entries kept per room, the oldest deleted first; None keeps all
        self._reads = self._connect()
        self._last_ids: dict[str, int] = {}
        # Shared with the writer thread, under the lock:
        self._lock = threading.Lock()
        # A ref's first copy: its id once stored, its future until then (never its text).
        self._refs: dict[RefKey, int | Future[int]] = {}
        self._ref_expiry: deque[tuple[int, RefKey]] = deque()
        self._load_recent_refs()
        self._committed_ids: dict[str, int] = {}
        self._queued: dict[str, deque[Event]] = {}  # appended, not yet committed, per room
        self._inbox: queue.SimpleQueue[tuple[Row, Future[int]] | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        if self.path == ":memory:":
            self._writes = self._reads
        else:
            self._writes = self._connect()
            # A daemon, so a process that never calls close() can still exit.
            self._writer = threading.Thread(
                target=self._write_forever, name="chat-store", daemon=True
            )
            self._writer.start()

    def _connect(self) -> sqlite3.Connection:
        """Open the database in WAL mode with the schema, or raise StoreError naming the file."""
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")  # no fsync per commit, only at checkpoints
            db.execute(SCHEMA)
            if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages'").fetchone():
                with db:
                    db.execute("BEGIN")
                    for statement in UPGRADE.split(";")[:-1]:
                        db.execute(statement)
        except sqlite3.Error as error:
            raise StoreError(f"Cannot use the database {self.path}: {error}.") from error
        return db

    def last_id(self, room: str) -> int:
        """Return the newest entry id in `room`, 0 if it has none."""
        if room not in self._last_ids:
            row = self._reads.execute("SELECT MAX(id) FROM log WHERE room = ?", (room,))
            self._last_ids[room] = row.fetchone()[0] or 0
            with self._lock:
                self._committed_ids[room] = self._last_ids[room]
        return self._last_ids[room]

    def append(
        self, entry: Event, sender: str, ts: int, ref: str | None = None
    ) -> tuple[Event | None, "Future[int]", bool]:
        """Stamp an entry with its room's next id and `ts`, and queue it.

        Returns the entry as everyone receives it, a future of its id once
        stored, and True. A `ref` the sender used within REF_MS returns None,
        a future of the first copy's id, and False: the client re-sent it
        after a reconnect.
        """
        room = entry["room"]
        if ref is not None:
            earlier = self._first_copy((room, sender, ref), ts)
            if earlier is not None:
                return None, earlier, False
        event = protocol.stamped(entry, self.last_id(room) + 1, ts)
        self._last_ids[room] = event["id"]
        stored: Future[int] = Future()
        if ref is not None:
            self._remember_ref((room, sender, ref), ts, stored)
        row = (room, event["id"], event["type"], sender, ts, ref, event)
        if self._writer is None:
            self._commit([(row, stored)])
        else:
            with self._lock:
                self._queued.setdefault(room, deque()).append(event)
            self._inbox.put((row, stored))
        return event, stored, True

    def recent(self, room: str, limit: int) -> list[Event]:
        """Return the newest `limit` entries of `room`, oldest first."""
        return self._newest(room, 0, limit)

    def since(self, room: str, after: int, limit: int) -> tuple[list[Event], bool]:
        """Return the newest `limit` entries after id `after`, and whether older ones were cut.

        Cut means: more than `limit` came after it, or the cap deleted some of them.
        """
        oldest = self._reads.execute("SELECT MIN(id) FROM log WHERE room = ?", (room,))
        missing = rules.missed(after, self.last_id(room), oldest.fetchone()[0], limit)
        return self._newest(room, after, limit), missing

    def close(self) -> None:
        """Store everything appended so far, then close the database."""
        if self._writer is not None:
            self._inbox.put(None)
            self._writer.join()
            self._writes.close()
        self._reads.close()

    def _newest(self, room: str, after: int, limit: int) -> list[Event]:
        """Return the newest `limit` entries with an id above `after`, oldest first."""
        self.last_id(room)  # loads the committed id on first use
        with self._lock:  # rows up to `committed` are in the file, the rest are queued
            committed = self._committed_ids[room]
            queued = [event for event in self._queued.get(room, ()) if event["id"] > after]
        if limit <= len(queued):
            return queued[len(queued) - limit :]
        rows = self._reads.execute(
            "SELECT event FROM log WHERE room = ? AND id > ? AND id <= ? ORDER BY id DESC LIMIT ?",
            (room, after, committed, limit - len(queued)),
        ).fetchall()
        return [json.loads(event) for event, in reversed(rows)] + queued

    def _write_forever(self) -> None:
        """In the writer thread: commit whatever has queued, in one transaction at a time."""
        while True:
            batch = [self._inbox.get()]
            while not self._inbox.empty():
                batch.append(self._inbox.get())
            done = [item for item in batch if item is not None]
            if done:
                self._commit(done)
            if None in batch:
                return

    def _commit(self, batch: list[tuple[Row, "Future[int]"]]) -> None:
        """Insert a batch of rows in one transaction, then resolve their futures."""
        try:
            with self._writes:
                self._writes.execute("BEGIN")
                self._writes.executemany(
                    "INSERT INTO log (room, id, kind, sender, ts, ref, event)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(*row[:-1], protocol.encode(row[-1]).decode()) for row, _ in batch],
                )
                if self.cap is not None:
                    newest = {room: entry_id for (room, entry_id, *_), _ in batch}
                    self._writes.executemany(
                        "DELETE FROM log WHERE room = ? AND id <= ?",
                        [(room, entry_id - self.cap) for room, entry_id in newest.items()],
                    )
        except (sqlite3.Error, ValueError) as error:  # a failing disk, or a row SQLite refuses
            log.error("Could not store %d log entries in %s: %s", len(batch), self.path, error)
            failure: StoreError | None = StoreError(f"Cannot write to {self.path}: {error}.")
        else:
            failure = None
        with self._lock:  # the batch leaves the queue either way: it is in the file, or lost
            for (room, entry_id, _, sender, _, ref, _), _ in batch:
                self._committed_ids[room] = entry_id
                queued = self._queued.get(room)
                if queued:
                    queued.popleft()
                if failure is None and ref is not None and (room, sender, ref) in self._refs:
                    self._refs[(room, sender, ref)] = entry_id  # the id, not the heavy future
        for (_, entry_id, *_), stored in batch:
            if failure is None:
                stored.set_result(entry_id)
            else:
                stored.set_exception(failure)

    def forget_ref(self, room: str, sender: str, ref: str) -> None:
        """Let a re-send of `ref` be stored anew (its first copy could not be written)."""
        with self._lock:
            self._refs.pop((room, sender, ref), None)

    def _first_copy(self, key: RefKey, now: int) -> "Future[int] | None":
        """Return a future of the id `key` was first stored under, if within REF_MS."""
        with self._lock:
            while self._ref_expiry and self._ref_expiry[0][0] < now - REF_MS:
                self._refs.pop(self._ref_expiry.popleft()[1], None)
            earlier = self._refs.get(key)
        if isinstance(earlier, int):
            stored: Future[int] = Future()
            stored.set_result(earlier)
            return stored
        return earlier

    def _remember_ref(self, key: RefKey, ts: int, first: "int | Future[int]") -> None:
        """Keep an entry's ref for REF_MS, and at most MAX_REFS refs, oldest out first."""
        with self._lock:
            self._refs[key] = first
            self._ref_expiry.append((ts, key))
            while len(self._ref_expiry) > MAX_REFS:
                self._refs.pop(self._ref_expiry.popleft()[1], None)

    def _load_recent_refs(self) -> None:
        """After a restart, remember the refs stored in the last REF_MS."""
        rows = self._reads.execute(
            "SELECT room, sender, ref, id, ts FROM log"
            " WHERE ref IS NOT NULL AND ts >= (SELECT MAX(ts) FROM log) - ? ORDER BY ts",
            (REF_MS,),
        )
        for room, sender, ref, entry_id, ts in rows:
            self._remember_ref((room, sender, ref), ts, entry_id)
