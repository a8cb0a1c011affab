"""What travels on the cluster's channel, checked on arrival before any handler sees it.

The Lua scripts (chat/lua/), RedisHub.typing and RedisHub.remove publish these shapes:

    {"room": ROOM, "event": EVENT}                  an event for one room's sockets
    {"room": ROOM, "skip": NICK, "event": EVENT}    the same, for all but NICK (typing)
    {"room": null, "event": {"type": "rooms", ...}} the busy rooms, for everyone
    {"room": ROOM, "replaced": KEY, "node": NODE, "holder": HOLDER}
                                                    a page came back through another node
    {"room": ROOM or null, "close": KEY, "session": SESSION or null,
     "code": CODE, "reason": REASON}                a host put someone out of ROOM (null:
                                                    of every room): close their sockets

Anyone who can reach Redis can PUBLISH there too. Whatever is not exactly one
of these (not UTF-8, not JSON, a missing, extra or mistyped field, an unknown
event type) raises BadEnvelope, whose text says what was wrong and never
repeats the payload. No I/O here.
"""

import json
from dataclasses import dataclass
from typing import Any

from chat import hosting, protocol, revisions
from chat.protocol import Event

# The fields of each event a node may hear, with their types (bool is no int here): the
# ones the builders of chat/protocol.py, chat/hosting.py and chat/revisions.py give, so a
# field added there is no stranger here. A type may have more than one shape (a host's
# message says so).
EVENTS: dict[str, list[dict[str, type]]] = {}
for sample in protocol.ANNOUNCED + hosting.ANNOUNCED + revisions.ANNOUNCED:
    EVENTS.setdefault(sample["type"], []).append(
        {name: type(value) for name, value in sample.items()})


class BadEnvelope(ValueError):
    """A payload on the channel that the cluster did not send; the text says why, briefly."""


@dataclass(frozen=True)
class RoomEvent:
    """An event for the sockets of one room (all of them, or all but `skip`)."""

    room: str
    event: Event
    skip: str | None = None


@dataclass(frozen=True)
class Rooms:
    """The rooms with people in them, for every socket of every room."""

    rooms: list[str]


@dataclass(frozen=True)
class Replaced:
    """A page took its nickname back through another node: `node` closes `holder`'s socket."""

    room: str
    nick_key: str
    node: str
    holder: str


@dataclass(frozen=True)
class Close:
    """A host put someone out: every node closes their sockets (Audience.close_person)."""

    room: str | None  # None: in every room (a ban)
    nick_key: str
    session: str | None  # a digest of the page's secret
    code: int  # 4000 to 4999, one of ours (chat/commands/kick.py, ban.py)
    reason: str


Envelope = RoomEvent | Rooms | Replaced | Close


def closing(close: Close) -> dict[str, Any]:
    """Return the envelope that asks every node to close one person's sockets."""
    return {"room": close.room, "close": close.nick_key, "session": close.session,
            "code": close.code, "reason": close.reason}


def parse(data: bytes | str) -> Envelope:
    """Return the envelope in one published payload, or raise BadEnvelope."""
    try:
        envelope = json.loads(data.decode() if isinstance(data, bytes) else data)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadEnvelope(f"not UTF-8 JSON ({len(data)} bytes)") from None
    if not isinstance(envelope, dict):
        raise BadEnvelope(f"a JSON {type(envelope).__name__}, not an object")
    if "replaced" in envelope:
        fields = check(envelope, {"room": str, "replaced": str, "node": str, "holder": str})
        return Replaced(fields["room"], fields["replaced"], fields["node"], fields["holder"])
    if "close" in envelope:
        return close(envelope)
    if envelope.get("room", "") is None:
        check(envelope, {"room": type(None), "event": dict})
        event = check_event(envelope["event"])
        if event["type"] != "rooms":
            raise BadEnvelope(f"a {event['type']!r} event for no room")
        return Rooms(event["rooms"])
    shape: dict[str, type] = {"room": str, "event": dict}
    if "skip" in envelope:
        shape["skip"] = str
    fields = check(envelope, shape)
    event = check_event(fields["event"])
    if event["type"] == "rooms" or event.get("room", fields["room"]) != fields["room"]:
        raise BadEnvelope(f"a {event['type']!r} event in the wrong envelope")
    return RoomEvent(fields["room"], event, fields.get("skip"))


def close(envelope: dict[str, Any]) -> Close:
    """Return the Close in an envelope that names one, or raise BadEnvelope."""
    shape = {"room": str, "close": str, "session": str, "code": int, "reason": str}
    for name in ("room", "session"):  # null: every room, no page
        if envelope.get(name, "") is None:
            shape[name] = type(None)
    fields = check(envelope, shape)
    if not 4000 <= fields["code"] <= 4999:  # a code Tornado would refuse to send
        raise BadEnvelope("a close code outside 4000-4999")
    return Close(fields["room"], fields["close"], fields["session"], fields["code"],
                 fields["reason"])


def check_event(event: dict[str, Any]) -> Event:
    """Return `event` if it has exactly the fields of its type, else raise BadEnvelope."""
    kind = event.get("type")
    if kind not in EVENTS:
        raise BadEnvelope("an event of no known type")
    shapes = EVENTS[kind]
    check(event, next((shape for shape in shapes if shape.keys() == event.keys()), shapes[0]))
    if kind in ("rooms", "hosts") and not all(isinstance(name, str) for name in event[kind]):
        raise BadEnvelope(f"a {kind} event whose {kind} are not all names")
    return event


def check(value: dict[str, Any], shape: dict[str, type]) -> dict[str, Any]:
    """Return `value` if it has exactly the fields of `shape`, of those types; else raise."""
    if value.keys() != shape.keys():
        missing, extra = sorted(shape.keys() - value.keys()), sorted(value.keys() - shape.keys())
        raise BadEnvelope(f"fields missing {missing[:5]}, unknown {len(extra)}")
    for name, kind in shape.items():
        if type(value[name]) is not kind:  # `type is`, so True is not an id
            raise BadEnvelope(f"{name!r} is a {type(value[name]).__name__}, not a {kind.__name__}")
    return value
