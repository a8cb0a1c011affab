"""Wire protocol v1: decode client frames, check their fields, build server events.

The contract is docs/protocol.md; each command's own fields are checked by its
module in chat/commands/.

No I/O and no Tornado here: every function takes and returns plain values, so
the whole protocol is unit-tested without a socket.
"""

import json
import unicodedata
from typing import Any

import orjson

from chat import nicknames

MAX_NICK = 24
MAX_REF = 64
MAX_ROOM = 32
DEFAULT_ROOM = "general"
JSON_SPACE = " \t\n\r"  # the whitespace JSON allows before a value

Event = dict[str, Any]


class ProtocolError(Exception):
    """A frame the server refuses; answered with an `error` event to its sender."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details  # e.g. the refused message's `ref`, `retry_after`

    def event(self) -> Event:
        """Return the `error` event that tells the sender what went wrong."""
        details = {key: value for key, value in self.details.items() if value is not None}
        return {"type": "error", "code": self.code, "message": self.message, **details}


def decode(frame: str | bytes) -> tuple[str, dict[str, Any]]:
    """Return a client frame's type and its fields, or raise ProtocolError.

    The lesson's `socket.send('hi')`: a frame that is not a JSON object is a
    message whose text is the whole frame.
    """
    if isinstance(frame, bytes):
        raise ProtocolError(
            "binary_unsupported", "Binary frames are not supported: send text or JSON."
        )
    data = None
    # Only an object is a command: text that cannot start one is not parsed (nor raises).
    if frame.lstrip(JSON_SPACE).startswith("{"):
        try:
            data = json.loads(frame)
        except (ValueError, RecursionError):
            pass
    if not isinstance(data, dict):
        return "message", {"text": frame}
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_message", 'A JSON frame needs a "type" string.')
    return kind, data


def text_field(data: dict[str, Any], name: str) -> str:
    """Return a required string field of a client frame."""
    value = data.get(name)
    if not isinstance(value, str) or not _is_unicode(value):
        raise ProtocolError("bad_message", f'"{name}" must be a string of Unicode text.')
    return value


def optional_ref(data: dict[str, Any]) -> str | None:
    """Return the optional client reference of a frame."""
    ref = data.get("ref")
    if ref is None:
        return None
    if not isinstance(ref, str) or not 0 < len(ref) <= MAX_REF or not _is_unicode(ref):
        raise ProtocolError("bad_message", f'"ref" must be a string of 1 to {MAX_REF} characters.')
    return ref


def whole_number(data: dict[str, Any], name: str, low: int, high: int) -> int:
    """Return a required whole-number field of a client frame, within [low, high]."""
    value = data.get(name)
    if type(value) is not int:  # `type is`: true is no number here
        raise ProtocolError("bad_message", f'"{name}" must be a whole number.')
    if not low <= value <= high:
        raise ProtocolError("out_of_range", f'"{name}" must be from {low} to {high}.')
    return value


def _is_unicode(text: str) -> bool:
    """Tell whether `text` can be sent as UTF-8: JSON's "\\ud800" escapes make lone surrogates."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_text(text: str, max_text: int) -> str:
    """Return the message text if it is not blank and not too long."""
    if not text.strip():
        raise ProtocolError("empty", "The message is empty.")
    if len(text) > max_text:
        raise ProtocolError(
            "too_long", f"The message is {len(text)} characters long; the limit is {max_text}."
        )
    return text


def check_nick(nick: str) -> str:
    """Return the nickname in its normal form (chat.nicknames), if it follows the rules."""
    try:
        nick = nicknames.normalise(nick)
    except nicknames.BadNickname as error:
        raise ProtocolError("bad_nick", str(error)) from None
    if not nick:
        raise ProtocolError("bad_nick", "The nickname is empty.")
    if len(nick) > MAX_NICK:
        raise ProtocolError("bad_nick", f"A nickname has at most {MAX_NICK} characters.")
    return nick


def check_room(name: str) -> str:
    """Return the room's canonical (lowercase) name; empty means the default room."""
    name = name.strip().lower() or DEFAULT_ROOM
    # Letters, marks (the vowel signs of Hindi or Thai) and digits of any script.
    if len(name) > MAX_ROOM or not all(
        unicodedata.category(char)[0] in "LMN" or char in "-_" for char in name
    ):
        raise ProtocolError(
            "bad_room", f"A room name is 1 to {MAX_ROOM} letters, digits, - or _."
        )
    return name


def encode(event: Event) -> bytes:
    """Serialise an event to the UTF-8 JSON of one text frame."""
    try:
        return orjson.dumps(event)  # the same bytes as below, in a tenth of the time
    except orjson.JSONEncodeError:  # what orjson refuses (an integer past 64 bits): as ever
        return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def welcome(
    room: str,
    nick: str,
    online: list[str],
    rooms: list[str],
    history: list[Event],
    standing: Event,
    flags: dict[str, bool],
) -> Event:
    """Build the event a new client gets first, and only it.

    `standing` is built below; `flags` (chat.rules.welcome_flags) may hold
    `truncated` and `reset`, each sent only when true.
    """
    event: Event = {
        "type": "welcome", "room": room, "nick": nick, "online": online, "rooms": rooms,
        "history": history, **standing,
    }
    event.update((name, True) for name in ("truncated", "reset") if flags.get(name))
    return event


def standing(hosts: list[str], topic: str, pin: Event | None, locked: bool, slow: int,
             muted: dict[str, int]) -> Event:
    """Build what a welcome says of the room's standing: hosts online, topic, pin, rules, mutes."""
    return {"hosts": hosts, "topic": topic, "pin": pin, "locked": locked, "slow": slow,
            "muted": muted}


def fit_history(history: list[Event], max_bytes: int) -> tuple[list[Event], bool]:
    """Keep the newest entries that fit in `max_bytes` of JSON; say whether older ones were cut.

    A welcome is one frame built on the loop: 1000 long entries would be
    megabytes, to every page that reconnects asking for them.
    """
    size = 0
    for index in range(len(history) - 1, -1, -1):
        size += len(encode(history[index])) + 1
        if size > max_bytes:
            return history[index + 1 :], True
    return history, False


def ack(ref: str, id: int) -> Event:
    """Build the event that tells a sender its message is stored under `id`."""
    return {"type": "ack", "ref": ref, "id": id}


def rate_limited(retry_after: float, ref: str | None) -> ProtocolError:
    """Build the refusal for a frame sent faster than the rate limit allows."""
    return ProtocolError(
        "rate_limited",
        "Slow down: you are sending messages too fast.",
        retry_after=round(retry_after, 3),
        ref=ref,
    )


# The room's log (docs/protocol.md, "The room's log") --------------------------------------
#
# An entry is a change to a room that a page must see after a reconnect. Its
# builder gives its type, room and own fields; the hub stamps the next id of
# the room's log and the time as it appends it (`stamped`), so every kind is
# stored, replayed by `since`, de-duplicated and acknowledged the same way.


def stamped(entry: Event, id: int, ts: int) -> Event:
    """Return a log entry as everyone receives it: its id after its room, its time last."""
    kind, room, *fields = entry.items()
    return dict([kind, room, ("id", id), *fields, ("ts", ts)])


def is_entry(event: Event) -> bool:
    """Tell whether an event a hub announces is a log entry (it has an id), not live news."""
    return "id" in event


def message(room: str, nick: str, text: str, host: bool = False, reply: Event | None = None,
            file: Event | None = None) -> Event:
    """Build the log entry of a chat message, to be stamped by the hub.

    A host's says so; `reply` quotes the message it answers (chat/revisions.py,
    `quote`), `file` describes the upload it posts (docs/protocol.md, "Files").
    """
    entry: Event = {"type": "message", "room": room, "nick": nick, "text": text}
    if host:
        entry["host"] = True
    if reply is not None:
        entry["reply"] = reply
    if file is not None:
        entry["file"] = file
    return entry


def presence(kind: str, nick: str, online: int) -> Event:
    """Build a `join` or `leave` event with the number of people online."""
    return {"type": kind, "nick": nick, "online": online}


def renamed(old: str, nick: str) -> Event:
    """Build the event that tells everyone a nickname changed."""
    return {"type": "nick", "old": old, "nick": nick}


def typing(nick: str) -> Event:
    """Build the event that tells a room someone is typing."""
    return {"type": "typing", "nick": nick}


def rooms(names: list[str]) -> Event:
    """Build the event that lists the rooms with people in them."""
    return {"type": "rooms", "rooms": names}


# One of each event a hub announces, as sent: a cluster's node checks what it hears
# against these fields (chat/cluster/envelopes.py). The host's are in chat/hosting.py.
_OPTIONS: tuple[Event | None, ...] = (None, {})  # a message's reply and file: absent or there
ANNOUNCED: tuple[Event, ...] = tuple(
    stamped(message("", "", "", host, reply, file), 0, 0)  # each mix of a message's options
    for host in (False, True) for reply in _OPTIONS for file in _OPTIONS
) + (presence("join", "", 0), presence("leave", "", 0), renamed("", ""), typing(""), rooms([]))
