"""Gapless resume through real sockets: `since`, acks, and re-sent messages delivered once."""

import json
import sqlite3

import pytest
from conftest import next_event, send

from chat.config import Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    """A small resume limit, so truncation is easy to reach; no rate limit."""
    return Settings(db=tmp_path / "chat.db", history=2, resume_limit=3, rate=0)


async def post_all(ws, texts) -> list[dict]:
    """Post each text and return the messages as broadcast back to the sender."""
    for text in texts:
        await send(ws, {"type": "message", "text": text})
    return [await next_event(ws, "message") for _ in texts]


@pytest.mark.gen_test
async def test_since_brings_every_message_after_that_id(connect):
    """A client reconnecting with since=N gets exactly the messages after N."""
    ada, _ = await connect(nick="ada")
    posted = await post_all(ada, ["m1", "m2", "m3", "m4"])
    assert [m["id"] for m in posted] == [1, 2, 3, 4]
    _, welcome = await connect(path="/ws?nick=bob&since=2")
    assert [m["text"] for m in welcome["history"]] == ["m3", "m4"]
    assert "truncated" not in welcome and "reset" not in welcome


@pytest.mark.gen_test
async def test_since_beyond_the_cap_gives_the_newest_and_says_truncated(connect):
    """More missed than the cap: the newest ones, and `truncated: true`."""
    ada, _ = await connect(nick="ada")
    await post_all(ada, ["m1", "m2", "m3", "m4", "m5"])
    _, welcome = await connect(path="/ws?nick=bob&since=0")
    assert [m["text"] for m in welcome["history"]] == ["m3", "m4", "m5"]
    assert welcome["truncated"] is True


@pytest.mark.gen_test
async def test_since_from_a_lost_history_says_reset(connect):
    """A since the server never reached (its history was lost) gets `reset: true`."""
    ada, _ = await connect(nick="ada")
    await post_all(ada, ["m1"])
    _, welcome = await connect(path="/ws?nick=bob&since=99")
    assert welcome["reset"] is True
    assert [m["text"] for m in welcome["history"]] == ["m1"]


@pytest.mark.gen_test
@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "٣", "²", "9" * 5000])
async def test_a_since_that_is_not_an_id_is_ignored(connect, since):
    """A since that is not a whole number gives the usual recent history."""
    ada, _ = await connect(nick="ada")
    await post_all(ada, ["m1", "m2", "m3"])
    _, welcome = await connect(path=f"/ws?nick=bob&since={since}")
    assert [m["text"] for m in welcome["history"]] == ["m2", "m3"]


@pytest.mark.gen_test
async def test_a_message_with_a_ref_is_acknowledged_with_its_id(connect):
    """The sender of a message with a ref gets an ack naming the stored id."""
    ada, _ = await connect(nick="ada")
    await send(ada, {"type": "message", "text": "hi", "ref": "c-17"})
    message = await next_event(ada, "message")
    assert await next_event(ada, "ack") == {"type": "ack", "ref": "c-17", "id": message["id"]}


@pytest.mark.gen_test
async def test_a_re_sent_ref_is_acknowledged_again_but_delivered_once(connect):
    """Re-sending the same ref gets the original ack; nobody sees the message twice."""
    ada, _ = await connect(nick="ada")
    bob, _ = await connect(nick="bob")
    await send(ada, {"type": "message", "text": "once", "ref": "c-1"})
    first_ack = await next_event(ada, "ack")
    await send(ada, {"type": "message", "text": "once", "ref": "c-1"})
    assert await next_event(ada, "ack") == first_ack
    await send(ada, {"type": "message", "text": "next"})
    received = [await next_event(bob, "message") for _ in range(2)]
    assert [m["text"] for m in received] == ["once", "next"]
    _, welcome = await connect(path="/ws?nick=cy&since=0")
    assert [m["text"] for m in welcome["history"]] == ["once", "next"]


@pytest.mark.gen_test
async def test_a_refused_message_names_its_ref(connect):
    """An error about a message that carried a ref carries the same ref."""
    ada, _ = await connect(nick="ada")
    await send(ada, {"type": "message", "text": "   ", "ref": "c-9"})
    error = await next_event(ada, "error")
    assert (error["code"], error["ref"]) == ("empty", "c-9")


@pytest.mark.gen_test
@pytest.mark.parametrize("ref", [17, "", "r" * 65, ["c-1"]])
async def test_a_bad_ref_is_refused(connect, ref):
    """A ref that is not a string of 1 to 64 characters is bad_message, and nothing is stored."""
    ada, _ = await connect(nick="ada")
    await send(ada, {"type": "message", "text": "hi", "ref": ref})
    assert (await next_event(ada, "error"))["code"] == "bad_message"
    await send(ada, {"type": "message", "text": "after"})
    assert (await next_event(ada, "message"))["id"] == 1


@pytest.mark.gen_test
async def test_a_message_that_cannot_be_stored_is_answered_unavailable(connect, settings):
    """A failed write answers `unavailable` with the ref; sending it again stores it."""
    ada, _ = await connect(nick="ada")
    with sqlite3.connect(settings.db) as db:  # a broken database, as a failing disk would be
        db.execute("ALTER TABLE log RENAME TO broken")
    await send(ada, {"type": "message", "text": "hi", "ref": "c-1"})
    error = await next_event(ada, "error")
    assert (error["code"], error["ref"]) == ("unavailable", "c-1")
    with sqlite3.connect(settings.db) as db:
        db.execute("ALTER TABLE broken RENAME TO log")
    await send(ada, {"type": "message", "text": "hi", "ref": "c-1"})
    assert (await next_event(ada, "ack"))["ref"] == "c-1"


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "settings", [Settings(db=":memory:", history=50, resume_limit=1000, rate=0, welcome_bytes=2000)]
)
async def test_a_welcome_carries_at_most_its_byte_budget_newest_first(settings, connect):
    """Long messages: a welcome holds the newest that fit its bytes, and says truncated."""
    ada, _ = await connect(nick="ada")
    posted = await post_all(ada, [f"{number:02} " + "é" * 500 for number in range(20)])
    for path in ("/ws?nick=bob&since=0", "/ws?nick=cy"):
        ws, welcome = await connect(path=path)
        history = welcome["history"]
        assert 0 < len(history) < 20 and history[-1]["id"] == posted[-1]["id"]
        assert sum(len(json.dumps(m, ensure_ascii=False, separators=(",", ":")).encode()) + 1
                   for m in history) <= 2000
        assert welcome.get("truncated", False) is ("since" in path)
        ws.close()
