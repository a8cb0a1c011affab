"""The message history in SQLite: assigns message ids, keeps every message, finds them again.

The handlers see three calls, `append`, `recent` and `since`, so a broker can
replace this store without touching them. One INSERT and COMMIT per message,
in WAL mode with synchronous=NORMAL: a commit appends to the write-ahead log
without waiting for the disk (measured in the README), so storing stays on the
event loop without stalling it. `:memory:` keeps nothing beyond the process.
"""

import sqlite3
from pathlib import Path

from chat import protocol
from chat.protocol import Event

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
CREATE INDEX IF NOT EXISTS messages_by_ref ON messages (room, nick, ref) WHERE ref IS NOT NULL;
"""

DEDUPLICATE_MS = 10 * 60 * 1000  # a re-sent ref within 10 minutes is the same message


class StoreError(Exception):
    """The database file cannot be opened, read or written."""


class SQLiteStore:
    """Every room's messages in one SQLite database; ids count up from 1 per room."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as error:
            raise StoreError(f"Cannot use the database {self.path}: {error}.") from error
        self._last_ids: dict[str, int] = {}

    def last_id(self, room: str) -> int:
        """Return the newest message id in `room`, 0 if it has none."""
        if room not in self._last_ids:
            row = self._db.execute("SELECT MAX(id) FROM messages WHERE room = ?", (room,))
            self._last_ids[room] = row.fetchone()[0] or 0
        return self._last_ids[room]

    def append(
        self, room: str, nick: str, text: str, ts: int, ref: str | None = None
    ) -> tuple[Event, bool]:
        """Store a message under the next id; return it and whether it is new.

        A `ref` this nickname already used within 10 minutes returns the message
        stored then, and False: the client re-sent it after a reconnect.
        """
        if ref is not None:
            earlier = self._db.execute(
                "SELECT id, nick, text, ts FROM messages"
                " WHERE room = ? AND nick = ? AND ref = ? AND ts >= ?",
                (room, nick, ref, ts - DEDUPLICATE_MS),
            ).fetchone()
            if earlier:
                return protocol.message(*earlier), False
        message_id = self.last_id(room) + 1
        self._db.execute(
            "INSERT INTO messages (room, id, nick, text, ts, ref) VALUES (?, ?, ?, ?, ?, ?)",
            (room, message_id, nick, text, ts, ref),
        )
        self._last_ids[room] = message_id
        return protocol.message(message_id, nick, text, ts), True

    def recent(self, room: str, limit: int) -> list[Event]:
        """Return the newest `limit` messages of `room`, oldest first."""
        return self._newest(room, 0, limit)

    def since(self, room: str, after: int, limit: int) -> tuple[list[Event], bool]:
        """Return the messages after id `after`, the newest `limit` of them, and whether some were cut."""
        missed = self.last_id(room) - after
        return self._newest(room, after, limit), missed > limit

    def close(self) -> None:
        """Close the database; what was appended is already committed."""
        self._db.close()

    def _newest(self, room: str, after: int, limit: int) -> list[Event]:
        """Return the newest `limit` messages with an id above `after`, oldest first."""
        rows = self._db.execute(
            "SELECT id, nick, text, ts FROM messages WHERE room = ? AND id > ?"
            " ORDER BY id DESC LIMIT ?",
            (room, after, limit),
        ).fetchall()
        return [protocol.message(*row) for row in reversed(rows)]
