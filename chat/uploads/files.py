"""Files: the upload directory, the one place that reads and writes what was uploaded.

Each upload is two files under a random name ID (`secrets.token_urlsafe(16)`):
`ID`, the bytes, and a small JSON sidecar saying what they are (name, size,
type, image or not, room, the uploader's session digest, time). The sidecar is
`ID.pending.json` until a message posts the file, then `ID.json`: renaming it
is the claim, and the sweep, which removes files left unposted for
PENDING_SECONDS, only ever looks at `*.pending.json`. Every change is a rename
or an unlink, each atomic, so nodes of a cluster sharing the directory need no
lock: whoever renames or unlinks first wins, the other finds the name gone.
A file that is being received is `.part-*` until it is complete.

The sweep runs on each upload (no background task) and measures the directory
in the same pass, for the quota.
"""

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from chat.protocol import Event

PENDING_SECONDS = 600  # an upload not posted within 10 minutes is removed
ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{22}")  # what token_urlsafe(16) makes, and nothing else
PENDING = ".pending.json"
POSTED = ".json"
PART = ".part-"


def is_id(candidate: str) -> bool:
    """Tell whether `candidate` has the shape of a file's ID (so it can name no other path)."""
    return ID_SHAPE.fullmatch(candidate) is not None


@dataclass(frozen=True)
class Stored:
    """What the sidecar says of one uploaded file."""

    id: str
    name: str
    size: int
    type: str
    image: bool
    room: str
    session: str  # a digest of the uploader's page session, never the secret
    time: float

    def described(self) -> Event:
        """Return the `file` of the message that posts it (docs/protocol.md, "Files")."""
        return {"url": f"/uploads/{self.id}/{quote(self.name, safe='')}", "name": self.name,
                "size": self.size, "type": self.type, "image": self.image}


class Files:
    """The directory of uploads: receive, keep, claim for a post, find, remove, sweep."""

    def __init__(self, directory: Path | None, clock: Callable[[], float] = time.time) -> None:
        """Use `directory`, made now if need be; None: a temporary one, made at first use
        and removed at `close` (for --db :memory:, which keeps nothing either)."""
        self._directory = directory
        self.clock = clock
        self.temporary = directory is None
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)  # a bad --upload-dir fails at start

    @property
    def directory(self) -> Path:
        """Return the directory, making the temporary one if this is its first use."""
        if self._directory is None:
            self._directory = Path(tempfile.mkdtemp(prefix="chat-uploads-"))
        return self._directory

    def receive(self, size: int) -> tuple[BinaryIO, Path]:
        """Open a new part file in the directory for an upload's `size` bytes as they arrive."""
        descriptor, name = tempfile.mkstemp(prefix=PART, dir=self.directory)
        # At its full size from the start (a sparse file, written over as the bytes come):
        # the quota counts what uploads under way will take, not what they have taken so far.
        os.ftruncate(descriptor, size)
        return os.fdopen(descriptor, "wb"), Path(name)

    def keep(self, part: Path, name: str, size: int, media: str, image: bool, room: str,
             session: str) -> Stored:
        """Keep a complete part file under a new ID, unposted; return what was kept."""
        stored = Stored(secrets.token_urlsafe(16), name, size, media, image, room, session,
                        self.clock())
        os.replace(part, self.data(stored.id))
        fields = asdict(stored)
        del fields["id"]
        self._write_sidecar(self.directory / (stored.id + PENDING), fields)
        return stored

    def find(self, file_id: str) -> Stored | None:
        """Return the kept file with this ID, posted or not; None if there is none."""
        if not is_id(file_id):  # never a path: "../chat.db" is no ID
            return None
        for suffix in (POSTED, PENDING):
            try:
                fields = json.loads((self.directory / (file_id + suffix)).read_text())
            except FileNotFoundError:
                continue
            return Stored(id=file_id, **fields)
        return None

    def data(self, file_id: str) -> Path:
        """Return the path of a file's bytes (the ID is checked by the caller: `is_id`)."""
        return self.directory / file_id

    def claim(self, file_id: str, room: str, session: str | None) -> Stored | None:
        """Mark the file posted, if this page uploaded it for this room; None if not.

        Claiming a posted file again answers it again, so a message sent again
        with the same `ref` (after `unavailable`) still finds its file.
        """
        stored = self.find(file_id)
        if stored is None or session is None or (stored.room, stored.session) != (room, session):
            return None
        try:
            os.replace(self.directory / (file_id + PENDING), self.directory / (file_id + POSTED))
        except FileNotFoundError:  # posted already, or swept a moment ago
            if not (self.directory / (file_id + POSTED)).exists():
                return None
        return stored

    def remove(self, file_id: str) -> None:
        """Remove a file and its sidecar (the sidecar first: a file without one is not served)."""
        if not is_id(file_id):
            return
        for name in (file_id + POSTED, file_id + PENDING, file_id):
            (self.directory / name).unlink(missing_ok=True)

    def remove_room(self, room: str) -> int:
        """Remove every file uploaded for `room`, posted or not; return how many."""
        removed = 0
        for path in list(self.directory.iterdir()):
            file_id = path.name.removesuffix(PENDING).removesuffix(POSTED)
            if file_id == path.name or not is_id(file_id):
                continue
            stored = self.find(file_id)
            if stored is not None and stored.room == room:
                self.remove(file_id)
                removed += 1
        return removed

    def sweep(self) -> int:
        """Remove unposted files older than PENDING_SECONDS; return the bytes the rest take.

        Also goes: a part file nobody has written to for as long (its upload
        died with its node), and bytes whose sidecar never got written.
        """
        entries = {}
        with os.scandir(self.directory) as scan:
            for entry in scan:
                try:
                    if entry.is_file(follow_symlinks=False):
                        entries[entry.name] = entry.stat(follow_symlinks=False)
                except FileNotFoundError:  # removed by another node while we looked
                    continue
        old = self.clock() - PENDING_SECONDS
        gone: set[str] = set()
        for name, status in entries.items():
            if status.st_mtime >= old or name in gone:
                continue
            if name.endswith(PENDING):
                file_id = name.removesuffix(PENDING)
                if self._unlink(name):  # first to unlink the sidecar removes the bytes
                    gone.update((name, file_id))
                    self._unlink(file_id)
            elif name.startswith(PART) or (
                is_id(name) and name + POSTED not in entries and name + PENDING not in entries
            ):
                self._unlink(name)
                gone.add(name)
        return sum(status.st_size for name, status in entries.items() if name not in gone)

    def close(self) -> None:
        """Remove the directory if it was made for this process alone."""
        if self.temporary and self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    def _unlink(self, name: str) -> bool:
        """Remove one entry of the directory; tell whether it was still there."""
        try:
            (self.directory / name).unlink()
        except FileNotFoundError:
            return False
        return True

    def _write_sidecar(self, path: Path, fields: dict[str, object]) -> None:
        """Write a sidecar whole or not at all: a reader never sees half of one."""
        descriptor, name = tempfile.mkstemp(prefix=PART, dir=self.directory)
        with os.fdopen(descriptor, "w") as sidecar:
            json.dump(fields, sidecar, ensure_ascii=False)
        os.replace(name, path)
