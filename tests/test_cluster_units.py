"""The cluster's parts that do no I/O: templates, envelopes, shown lists, back-off, URLs."""

import asyncio
import json
import logging

import pytest

from chat import protocol
from chat.cluster import envelopes, templates
from chat.cluster.connection import describe, redact
from chat.cluster.presence import ShownOnline
from chat.cluster.supervision import FIRST_DELAY, MAX_DELAY, supervise


def payload(value: object) -> bytes:
    """Return `value` as a published payload."""
    return json.dumps(value).encode()


def fill(pieces: list[str], *values: str) -> str:
    """Join pieces with a value between each two, as `fill` in chat/lua/common.lua does."""
    return "".join(piece + value for piece, value in zip(pieces, [*values, ""], strict=True))


@pytest.mark.parametrize("event, holes", [
    (protocol.stamped(
        protocol.message("maths", "Zoë/🙂", 'a/b "q" \\ \u2028\n 日本語 </script>'), 42,
        1764100000123), ("id",)),
    (protocol.presence("join", "Zoë/🙂", 3), ("online",)),
    (protocol.presence("leave", "a\\b", 0), ("nick", "online")),
    (protocol.rooms([]), ("rooms",)),
    (protocol.rooms(["general", "числа"]), ("rooms",)),
])
def test_a_template_filled_in_is_the_event_as_protocol_encodes_it(event, holes):
    """The pieces of an event with its own values put back are protocol.encode's bytes."""
    pieces = templates.cut(event, *holes)
    assert len(pieces) == len(holes) + 1
    assert fill(pieces, *(templates.encoded(event[hole]) for hole in holes)).encode() == (
        protocol.encode(event))


def test_a_template_names_its_holes_in_order():
    """Holes that are not fields, or out of order, are a mistake caught at once."""
    with pytest.raises(ValueError):
        templates.cut(protocol.presence("leave", "ada", 1), "online", "nick")
    with pytest.raises(ValueError):
        templates.cut(protocol.typing("ada"), "id")


def test_the_shapes_the_scripts_publish_are_understood():
    """Room events (with and without skip), the rooms list and takeovers parse to their types."""
    message = {"type": "message", "room": "maths", "id": 3, "nick": "ada", "text": "hi", "ts": 1}
    assert envelopes.parse(payload({"room": "maths", "event": message})) == envelopes.RoomEvent(
        "maths", message)
    typing = {"room": "maths", "skip": "ada", "event": {"type": "typing", "nick": "ada"}}
    assert envelopes.parse(payload(typing)).skip == "ada"
    rooms = {"room": None, "event": {"type": "rooms", "rooms": ["general", "maths"]}}
    assert envelopes.parse(payload(rooms)) == envelopes.Rooms(["general", "maths"])
    replaced = {"room": "maths", "replaced": "ada", "node": "n1", "holder": "h1"}
    assert envelopes.parse(payload(replaced)) == envelopes.Replaced("maths", "ada", "n1", "h1")
    for close in (envelopes.Close("maths", "bob", "s1", 4000, "Kicked."),
                  envelopes.Close(None, "bob", None, 4003, "Banned.")):
        assert envelopes.parse(payload(envelopes.closing(close))) == close
    hosts = {"room": "maths", "event": {"type": "hosts", "hosts": ["teacher"]}}
    assert envelopes.parse(payload(hosts)).event["hosts"] == ["teacher"]


@pytest.mark.parametrize("data", [
    b"not json", b"\xff\xfe\x00", b"[1, 2]", b"null", b'"text"',
    payload({"room": "general"}),
    payload({"room": 5, "event": {"type": "typing", "nick": "x"}}),
    payload({"room": "general", "event": {"type": "typing", "nick": "x"}, "extra": 1}),
    payload({"room": "general", "event": {"type": "typing", "nick": "x", "extra": 1}}),
    payload({"room": "general", "event": {"type": "shout", "nick": "x"}}),
    payload({"room": "general", "event": {"type": "message", "room": "general", "id": True,
                                          "nick": "x", "text": "y", "ts": 1}}),
    payload({"room": "general", "event": {"type": "message", "room": "other", "id": 1,
                                          "nick": "x", "text": "y", "ts": 1}}),
    payload({"room": "general", "event": {"type": "rooms", "rooms": []}}),
    payload({"room": None, "event": {"type": "join", "nick": "x", "online": 1}}),
    payload({"room": None, "event": {"type": "rooms", "rooms": [1]}}),
    payload({"room": "general", "event": {"type": "hosts", "hosts": [None]}}),
    payload({"room": "general", "replaced": "x", "node": "n"}),
    payload({"room": "general", "close": "x", "session": None, "code": 1000,
             "reason": "r"}),
    payload({"room": "general", "close": "x", "session": 5, "code": 4000,
             "reason": "r"}),
    payload({"room": None, "close": "x", "session": None, "code": 4000}),
])
def test_anything_else_is_refused_without_repeating_it(data):
    """Not UTF-8, not JSON, a missing, extra or mistyped field, an unknown type: BadEnvelope."""
    with pytest.raises(envelopes.BadEnvelope) as refused:
        envelopes.parse(data)
    assert "extra" not in str(refused.value) and "shout" not in str(refused.value)


def test_a_shown_list_follows_events_as_a_page_does():
    """Joins are added once, leaves removed, renames replaced in place."""
    shown = ShownOnline(["ada", "bob"])
    for event in ({"type": "join", "nick": "bob", "online": 2},
                  {"type": "join", "nick": "cy", "online": 3},
                  {"type": "nick", "old": "ada", "nick": "Ada"},
                  {"type": "leave", "nick": "bob", "online": 2},
                  {"type": "typing", "nick": "cy"}):
        shown.apply(event)
    assert shown.online == ["Ada", "cy"]


def test_a_shown_list_is_corrected_with_leaves_then_joins():
    """The correction is the leaves of who is gone and the joins of who came, with counts."""
    shown = ShownOnline(["ada", "bob", "cy"])
    assert shown.correct(["ada", "cy", "dan"]) == [
        {"type": "leave", "nick": "bob", "online": 2},
        {"type": "join", "nick": "dan", "online": 3},
    ]
    assert shown.online == ["ada", "cy", "dan"]
    assert shown.correct(["ada", "cy", "dan"]) == []  # nothing to say twice


@pytest.mark.gen_test
async def test_a_supervised_loop_restarts_with_back_off_and_logs_every_failure(caplog):
    """Expected failures get a line, others a traceback; the delay doubles up to MAX_DELAY and
    starts again after a healthy run."""
    now, delays, runs = [0.0], [], []

    async def sleep(delay: float) -> None:
        delays.append(delay)

    async def body() -> None:
        runs.append(1)
        if len(runs) == 8:
            now[0] += MAX_DELAY + 1  # this run was healthy for a while before it failed
        if len(runs) == 9:
            raise asyncio.CancelledError  # the end of the test, as at shutdown
        raise (ConnectionError("gone") if len(runs) % 2 else KeyError("bug"))

    with caplog.at_level(logging.WARNING), pytest.raises(asyncio.CancelledError):
        await supervise("listener", body, (ConnectionError,), sleep=sleep, clock=lambda: now[0])
    assert delays == [FIRST_DELAY * 2 ** n for n in range(6)] + [MAX_DELAY, FIRST_DELAY]
    assert "The listener stopped (ConnectionError: gone); trying again in 0.1 s" in caplog.text
    tracebacks = [record for record in caplog.records if record.exc_info]
    assert len(tracebacks) == 4 and "KeyError: 'bug'" in caplog.text


@pytest.mark.parametrize("url, shown", [
    ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
    ("redis://chat:s3cret@10.0.0.5:6379/2", "redis://chat:***@10.0.0.5:6379/2"),
    ("rediss://h:6380/0?password=s3cret&ssl_cert_reqs=none",
     "rediss://h:6380/0?password=***&ssl_cert_reqs=none"),
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
])
def test_a_redis_url_is_shown_without_its_password(url, shown):
    """redact() hides the password in the address and in the query, and nothing else."""
    assert redact(url) == shown


def test_an_error_that_echoes_the_password_is_scrubbed():
    """describe() hides a URL's password in any error text, even percent-decoded."""
    url = "redis://:p%40ss@127.0.0.1:6379/0"
    assert describe(ValueError("bad password p@ss"), url) == "bad password ***"
