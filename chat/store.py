"""The message history in SQLite: assigns ids, keeps every message, finds them again.

The handlers see `append`, `recent` and `since` (and `close` at shutdown), so a
broker can replace this store without touching them.

Writing never happens on the event loop: a disk that stalls (a checkpoint's
fsync, a busy device) must not freeze the chat for everyone. `append` assigns
the id and de-duplicates in memory, then hands the row to one writer thread,
which commits whatever has queued up in one transaction and resolves each
message's `stored` future; the handler acknowledges after that. Reads run on
the loop against committed rows (WAL lets them run beside the writer) plus the
rows still queued, so a message is visible the moment it is appended.
`:memory:` has no disk to wait for: it commits on the spot, with no thread.
"""

import logging
import queue
import sqlite3
import threading
from collections import deque
from concurrent.futures import Future
from pathlib import Path

from chat import protocol
from chat.protocol import Event

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    room TEXT NOT NULL,
    id INTEGER NOT NULL,
    nick TEXT NOT NULL,
    text TEXT NOT NULL,
    ts INTEGER NOT NULL,
    ref TEXT,
    PRIMARY KEY (room, id)
);
"""

DEDUPLICATE_MS = 10 * 60 * 1000  # a ref re-sent within 10 minutes is the same message

Row = tuple[str, int, str, str, int, str | None]  # room, id, nick, text, ts, ref
Stored = tuple[Event, "Future[int]"]  # a message, and its id once it is in the file


class StoreError(Exception):
    """The database file cannot be opened, read or written."""


class SQLiteStore:
    """Every room's messages in one SQLite file; ids count up from 1 per room."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._reads = self._connect()
        self._last_ids: dict[str, int] = {}
        self._refs: dict[tuple[str, str, str], Stored] = {}  # (room, nick, ref) -> first copy
        self._ref_expiry: deque[tuple[int, tuple[str, str, str]]] = deque()
        self._load_recent_refs()
        # Shared with the writer thread, under the lock:
        self._lock = threading.Lock()
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
        except sqlite3.Error as error:
            raise StoreError(f"Cannot use the database {self.path}: {error}.") from error
        return db

    def last_id(self, room: str) -> int:
        """Return the newest message id in `room`, 0 if it has none."""
        if room not in self._last_ids:
            row = self._reads.execute("SELECT MAX(id) FROM messages WHERE room = ?", (room,))
            self._last_ids[room] = row.fetchone()[0] or 0
            with self._lock:
                self._committed_ids[room] = self._last_ids[room]
        return self._last_ids[room]

    def append(
        self, room: str, nick: str, text: str, ts: int, ref: str | None = None
    ) -> tuple[Event, "Future[int]", bool]:
        """Queue a message under the next id; return it, a future of its id once stored, and True.

        A `ref` this nickname used within 10 minutes returns the first message,
        its future, and False: the client re-sent it after a reconnect.
        """
        if ref is not None:
            self._expire_refs(ts)
            earlier = self._refs.get((room, nick, ref))
            if earlier is not None:
                return *earlier, False
        message = protocol.message(room, self.last_id(room) + 1, nick, text, ts)
        self._last_ids[room] = message["id"]
        stored: Future[int] = Future()
        if ref is not None:
            self._remember_ref((room, nick, ref), (message, stored))
        row = (room, message["id"], nick, text, ts, ref)
        if self._writer is None:
            self._commit([(row, stored)])
        else:
            with self._lock:
                self._queued.setdefault(room, deque()).append(message)
            self._inbox.put((row, stored))
        return message, stored, True

    def recent(self, room: str, limit: int) -> list[Event]:
        """Return the newest `limit` messages of `room`, oldest first."""
        return self._newest(room, 0, limit)

    def since(self, room: str, after: int, limit: int) -> tuple[list[Event], bool]:
        """Return the newest `limit` messages after id `after`, and whether older ones were cut."""
        return self._newest(room, after, limit), self.last_id(room) - after > limit

    def close(self) -> None:
        """Store everything appended so far, then close the database."""
        if self._writer is not None:
            self._inbox.put(None)
            self._writer.join()
            self._writes.close()
        self._reads.close()

    def _newest(self, room: str, after: int, limit: int) -> list[Event]:
        """Return the newest `limit` messages with an id above `after`, oldest first."""
        self.last_id(room)  # loads the committed id on first use
        with self._lock:  # rows up to `committed` are in the file, the rest are queued
            committed = self._committed_ids[room]
            queued = [message for message in self._queued.get(room, ()) if message["id"] > after]
        if limit <= len(queued):
            return queued[len(queued) - limit :]
        rows = self._reads.execute(
            "SELECT id, nick, text, ts FROM messages WHERE room = ? AND id > ? AND id <= ?"
            " ORDER BY id DESC LIMIT ?",
            (room, after, committed, limit - len(queued)),
        ).fetchall()
        return [protocol.message(room, *row) for row in reversed(rows)] + queued

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
                    "INSERT INTO messages (room, id, nick, text, ts, ref)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [row for row, _ in batch],
                )
        except (sqlite3.Error, ValueError) as error:  # a failing disk, or a row SQLite refuses
            log.error("Could not store %d messages in %s: %s", len(batch), self.path, error)
            failure: StoreError | None = StoreError(f"Cannot write to {self.path}: {error}.")
        else:
            failure = None
        with self._lock:  # the batch leaves the queue either way: it is in the file, or lost
            for (room, message_id, *_), _ in batch:
                self._committed_ids[room] = message_id
                queued = self._queued.get(room)
                if queued:
                    queued.popleft()
        for (_, message_id, *_), stored in batch:
            if failure is None:
                stored.set_result(message_id)
            else:
                stored.set_exception(failure)

    def forget_ref(self, room: str, nick: str, ref: str) -> None:
        """Let a re-send of `ref` be stored anew (its first copy could not be written)."""
        self._refs.pop((room, nick, ref), None)

    def _remember_ref(self, key: tuple[str, str, str], first: Stored) -> None:
        """Keep a message's ref for 10 minutes so a re-send is recognised."""
        self._refs[key] = first
        self._ref_expiry.append((first[0]["ts"], key))

    def _expire_refs(self, now: int) -> None:
        """Forget refs older than 10 minutes."""
        while self._ref_expiry and self._ref_expiry[0][0] < now - DEDUPLICATE_MS:
            _, key = self._ref_expiry.popleft()
            self._refs.pop(key, None)

    def _load_recent_refs(self) -> None:
        """After a restart, remember the refs stored in the last 10 minutes."""
        rows = self._reads.execute(
            "SELECT room, nick, ref, id, text, ts FROM messages"
            " WHERE ref IS NOT NULL AND ts >= (SELECT MAX(ts) FROM messages) - ? ORDER BY ts",
            (DEDUPLICATE_MS,),
        )
        for room, nick, ref, message_id, text, ts in rows:
            stored: Future[int] = Future()
            stored.set_result(message_id)
            message = protocol.message(room, message_id, nick, text, ts)
            self._remember_ref((room, nick, ref), (message, stored))
