"""A message's file: its `file` field, the claim that posts it, its removal with the message.

Kept apart from chat/commands/message.py so that a message without a file
never touches the disk, and the command gains two lines, not a section.
"""

from typing import Any

from chat.protocol import Event, ProtocolError
from chat.uploads.files import Files


def file_field(data: dict[str, Any]) -> str | None:
    """Return a message frame's optional `file`, the ID its upload was answered with."""
    file_id = data.get("file")
    if file_id is not None and not isinstance(file_id, str):
        raise ProtocolError("bad_message", '"file" must be the string an upload answered.')
    return file_id


def attach(files: Files | None, file_id: str, room: str, session: str | None) -> Event:
    """Claim an upload for a message and return the message's `file`; else no_such_file."""
    stored = files.claim(file_id, room, session) if files is not None else None
    if stored is None:
        raise ProtocolError("no_such_file", f"There is no file {file_id[:30]!r} that this page "
                            f"uploaded for #{room} (files not posted within 10 minutes go).")
    return stored.described()


def file_id(entry: Event) -> str | None:
    """Return the ID of the file a stored message posted (its url is /uploads/ID/NAME)."""
    file = entry.get("file")
    if not isinstance(file, dict) or not isinstance(file.get("url"), str):
        return None
    parts = file["url"].split("/")
    return parts[2] if len(parts) > 2 else None


def remove_posted(files: Files | None, entry: Event) -> None:
    """Remove the file a deleted message posted, if it posted one."""
    found = file_id(entry)
    if files is not None and found is not None:
        files.remove(found)
