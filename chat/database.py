"""The SQLite file behind chat/store.py: its schema, opening it, and the one thread that writes.

Writing never happens on the event loop: a disk that stalls (a checkpoint's
fsync, a busy device) must not freeze the chat for everyone. `Writer` takes
each room's entries and their effects (chat/effects.py) from a queue and
commits whatever has queued up in one transaction, then tells the store
which writes are in the file (or lost, with the error). `:memory:` has no
disk to wait for: it commits on the spot, with no thread.
"""

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from chat import protocol
from chat.effects import SERVER, Effects
from chat.protocol import Event

log = logging.getLogger(__name__)

# After a commit the writer lets the loop's writes gather this long: a thread woken for
# each message costs the loop its core and the GIL, many times a tick (bench/README.md).
GATHER_S = 0.005

SCHEMA = """
-- WITHOUT ROWID: each row lives in its (room, id) key's b-tree, one tree to write, not two.
CREATE TABLE IF NOT EXISTS log (
    room TEXT NOT NULL,
    id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    sender TEXT NOT NULL,
    ts INTEGER NOT NULL,
    ref TEXT,
    author TEXT,
    event TEXT NOT NULL,
    PRIMARY KEY (room, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (
    room TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (room, field)
) WITHOUT ROWID;
"""

# A database from before the log held messages alone: they become its entries, as sent.
UPGRADE = """
INSERT OR IGNORE INTO log (room, id, kind, sender, ts, ref, event)
SELECT room, id, 'message', nick, ts, ref, json_object(
    'type', 'message', 'room', room, 'id', id, 'nick', nick, 'text', text, 'ts', ts)
FROM messages;
DROP TABLE messages;
"""

# room, id, kind, sender, ts, ref, author (a digest of its page's session), event
Row = tuple[str, int, str, str, int, str | None, str | None, Event]
# room, its entry (if any), its effects, and the future of its id (if anyone waits for it)
Write = tuple[str, Row | None, Effects, "Future[int] | None"]
Committed = Callable[[list[Write], "StoreError | None"], None]


class StoreError(Exception):
    """The database file cannot be opened, read or written."""


def connect(path: str) -> sqlite3.Connection:
    """Open the database in WAL mode with the schema, or raise StoreError naming the file."""
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # no fsync per commit, only at checkpoints
        db.executescript(SCHEMA)
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages'").fetchone():
            db.executescript("BEGIN;" + UPGRADE + "COMMIT;")
    except sqlite3.Error as error:
        raise StoreError(f"Cannot use the database {path}: {error}.") from error
    return db


class Writer:
    """The one writer of the file: batches of writes, each batch one transaction."""

    def __init__(self, path: str, reads: sqlite3.Connection, cap: int | None,
                 committed: Committed) -> None:
        self.path = path
        self.cap = cap  # entries kept per room, the oldest deleted first; None keeps all
        self.committed = committed  # told, in this thread, what is in the file or lost
        self._inbox: queue.SimpleQueue[Write | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        if path == ":memory:":  # one connection: a second would be another empty database
            self._db = reads
        else:
            self._db = connect(path)
            # A daemon, so a process that never calls close() can still exit.
            self._thread = threading.Thread(target=self._forever, name="chat-store", daemon=True)
            self._thread.start()

    def put(self, write: Write) -> None:
        """Queue one write (for :memory:, commit it now)."""
        if self._thread is None:
            self._commit([write])
        else:
            self._inbox.put(write)

    def close(self) -> None:
        """Commit everything queued, then close the file."""
        if self._thread is not None:
            self._inbox.put(None)
            self._thread.join()
            self._db.close()

    def _forever(self) -> None:
        """In the writer thread: commit whatever has queued, in one transaction at a time.

        An entry waits at most GATHER_S longer to be stored (and acknowledged);
        the broadcast does not wait for it at all.
        """
        while True:
            batch = [self._inbox.get()]
            while not self._inbox.empty():
                batch.append(self._inbox.get())
            done = [item for item in batch if item is not None]
            if done:
                self._commit(done)
            if None in batch:
                return
            time.sleep(GATHER_S)

    def _commit(self, batch: list[Write]) -> None:
        """Write a batch of entries and their effects in one transaction; tell the store."""
        try:
            with self._db:
                self._db.execute("BEGIN")
                # Every row first, in one call (this thread holds the GIL the loop needs),
                # then the few effects in order: an erasure may name a row of this batch.
                self._db.executemany(
                    "INSERT INTO log (room, id, kind, sender, ts, ref, author, event)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(*row[:-1], protocol.encode(row[-1]).decode())
                     for _, row, _, _ in batch if row is not None])
                for room, row, effects, _ in batch:
                    if effects:
                        self._apply(room, row, effects)
                self._trim({row[0]: row[1] for _, row, _, _ in batch if row is not None})
        except (sqlite3.Error, ValueError) as error:  # a failing disk, or a row SQLite refuses
            log.error("Could not store %d log entries in %s: %s", len(batch), self.path, error)
            self.committed(batch, StoreError(f"Cannot write to {self.path}: {error}."))
        else:
            self.committed(batch, None)

    def _apply(self, room: str, row: Row | None, effects: Effects) -> None:
        """Apply one entry's effects, inside the batch's transaction."""
        for where, changes in ((room, effects.room), (SERVER, effects.server)):
            for name, value in changes.items():
                if value is None:
                    self._db.execute("DELETE FROM state WHERE room = ? AND field = ?",
                                     (where, name))
                else:
                    self._db.execute(
                        "INSERT OR REPLACE INTO state (room, field, value) VALUES (?, ?, ?)",
                        (where, name, protocol.encode(value).decode()))
        self._db.executemany("DELETE FROM log WHERE room = ? AND id = ?",
                             [(room, entry_id) for entry_id in effects.erase])
        if effects.erase_all and row is not None:
            self._db.execute("DELETE FROM log WHERE room = ? AND id < ?", (room, row[1]))

    def _trim(self, newest: dict[str, int]) -> None:
        """Delete each room's entries beyond the cap, oldest first."""
        if self.cap is not None:
            self._db.executemany(
                "DELETE FROM log WHERE room = ? AND id <= ?",
                [(room, entry_id - self.cap) for room, entry_id in newest.items()],
            )
