"""What a chat socket's URL says besides its room: the page's session and `since`. No I/O.

The room and the nickname are checked by chat/protocol.py; these two are
read here so that a bad value is simply ignored, as docs/protocol.md says.
"""

import hashlib

from chat import protocol

MAX_ID_DIGITS = 18  # a `since` longer than this is no id: int() of 5000 digits raises


def since_id(value: str) -> int | None:
    """Return the `since` query argument if it is an id of the room's log, else None."""
    is_id = value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS
    return int(value) if is_id else None


def session_digest(session: str) -> str | None:
    """Return a digest of the page's secret session: the hub never holds the secret itself."""
    if not session or len(session) > protocol.MAX_REF:
        return None
    return hashlib.sha256(session.encode()).hexdigest()
