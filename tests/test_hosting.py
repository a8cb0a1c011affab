"""The host's powers on one server, through real sockets: the key, delete, mute, kick, ban,
lock, slow mode, clear, pin, topic, op; and what everyone else is refused."""

import pytest
from conftest import next_event, send
from tornado.httpclient import HTTPClientError

from chat.app import make_app
from chat.config import Settings

KEY = "k" * 32


@pytest.fixture
def settings(tmp_path, request) -> Settings:
    """The usual test settings, with a known host key (a `burst` mark sets a tight limit)."""
    burst = request.node.get_closest_marker("burst")
    limits = {"rate": 0.01, "burst": burst.args[0]} if burst else {"rate": 100, "burst": 1000}
    return Settings(db=tmp_path / "chat.db", history=5, max_text=100, host_key=KEY, **limits)


@pytest.fixture
def page(connect):
    """Return a function that opens a page's socket: nick, session, room, address, since."""

    def open_page(nick: str, session: str | None = None, room: str = "general",
                  source: str | None = None, since: int | None = None):
        return connect(nick, source=source, session=session, room=room, since=since)

    return open_page


async def become_host(ws, nick: str) -> dict:
    """Present the key; return the `hosts` event that names `nick`."""
    await send(ws, {"type": "host", "key": KEY})
    while nick not in (event := await next_event(ws, "hosts"))["hosts"]:
        pass
    return event


async def error(ws) -> dict:
    """Return the next error event."""
    return await next_event(ws, "error")


async def message(ws, text: str) -> dict:
    """Read until the message with this text arrives."""
    while (event := await next_event(ws, "message"))["text"] != text:
        pass
    return event


@pytest.mark.gen_test
async def test_the_key_makes_a_host_that_everyone_sees_and_a_wrong_key_is_forbidden(page):
    """A wrong key is refused; the right one puts the host in everyone's hosts, and a welcome's."""
    teacher, _ = await page("teacher", "s-teacher")
    bob, _ = await page("bob", "s-bob")
    await send(bob, {"type": "host", "key": "k" * 31 + "x"})
    assert (await error(bob))["code"] == "forbidden"
    assert (await become_host(teacher, "teacher"))["hosts"] == ["teacher"]
    assert (await next_event(bob, "hosts"))["hosts"] == ["teacher"]
    _, welcome = await page("carol")
    assert welcome["hosts"] == ["teacher"]
    await send(teacher, {"type": "message", "text": "from the host"})
    await send(bob, {"type": "message", "text": "from bob"})
    assert (await message(bob, "from the host"))["host"] is True
    assert "host" not in await message(bob, "from bob")


@pytest.mark.burst(8)
@pytest.mark.gen_test
async def test_a_non_host_is_forbidden_every_power_and_it_costs_the_flood_limit(page):
    """Each host command (or a wrong key) from a non-host is `forbidden`; then it is limited."""
    bob, _ = await page("bob", "s-bob", source="127.0.0.2")
    await page("carol", "s-carol", source="127.0.0.3")
    frames = [{"type": "lock"}, {"type": "mute", "nick": "carol", "seconds": 60},
              {"type": "kick", "nick": "carol"}, {"type": "topic", "topic": "mine"},
              {"type": "clear"}, {"type": "slow", "seconds": 5}, {"type": "op", "nick": "carol"},
              {"type": "host", "key": "guess" * 5}]
    for frame in frames:
        await send(bob, frame)
        assert (await error(bob))["code"] == "forbidden", frame
    await send(bob, {"type": "host", "key": KEY})  # even the right key, once the burst is spent
    assert (await error(bob))["code"] == "rate_limited"


@pytest.mark.gen_test
async def test_delete_removes_a_message_everywhere_and_leaves_a_tombstone(page):
    """Your own message, or anyone's for a host: all hear the delete, newcomers never see it."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await page("bob", "s-bob")
    await send(bob, {"type": "message", "text": "oops"})
    oops = await message(teacher, "oops")
    await send(bob, {"type": "message", "text": "rude"})
    rude = await message(teacher, "rude")
    carol, _ = await page("carol", "s-carol")
    await send(carol, {"type": "delete", "target": rude["id"]})
    assert (await error(carol))["code"] == "forbidden"  # not hers
    await send(bob, {"type": "delete", "target": oops["id"]})
    assert (await next_event(carol, "delete"))["target"] == oops["id"]
    await send(teacher, {"type": "delete", "target": rude["id"]})
    tombstone = await next_event(carol, "delete")
    assert (tombstone["target"], tombstone["by"]) == (rude["id"], "teacher")
    _, welcome = await page("dave")
    assert [entry.get("text") for entry in welcome["history"]] == [None, None]  # tombstones
    _, resumed = await page("erin", since=oops["id"] - 1)
    assert {entry["type"] for entry in resumed["history"]} == {"delete"}
    await send(teacher, {"type": "delete", "target": rude["id"]})
    assert (await error(teacher))["code"] == "no_such_message"


@pytest.mark.gen_test
async def test_mute_refuses_posts_and_renames_until_unmuted(page):
    """A muted person's posts get `muted` with when it ends; everyone sees the mute."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await page("bob", "s-bob")
    await send(teacher, {"type": "mute", "nick": "BOB", "seconds": 300})
    mute = await next_event(bob, "mute")
    assert (mute["nick"], mute["by"]) == ("bob", "teacher")
    await send(bob, {"type": "message", "text": "let me talk", "ref": "r-1"})
    refusal = await error(bob)
    assert (refusal["code"], refusal["until"], refusal["ref"]) == ("muted", mute["until"], "r-1")
    await send(bob, {"type": "nick", "nick": "bob2"})
    assert (await error(bob))["code"] == "muted"
    _, welcome = await page("carol")
    assert welcome["muted"] == {"bob": mute["until"]}
    await send(teacher, {"type": "unmute", "nick": "bob"})
    await next_event(bob, "unmute")
    await send(bob, {"type": "message", "text": "thanks"})
    await message(teacher, "thanks")


@pytest.mark.gen_test
async def test_kick_closes_the_connection_and_bars_address_and_page_for_a_while(page, http_port):
    """The kicked page is closed with 4000 and a reason; its address and session cannot return."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await page("bob", "s-bob", source="127.0.0.2")
    carol, _ = await page("carol", "s-carol", source="127.0.0.3")
    await send(teacher, {"type": "kick", "nick": "bob"})
    assert (await next_event(carol, "kick"))["nick"] == "bob"
    while await bob.read_message() is not None:
        pass
    assert bob.close_code == 4000 and "5 minutes" in bob.close_reason
    for source, session in (("127.0.0.2", "s-new"), ("127.0.0.3", "s-bob")):
        with pytest.raises(HTTPClientError) as refused:
            await page("bob", session, source=source)
        assert refused.value.code == 403 and "removed from this room" in refused.value.message
    await page("bob", "s-new", room="maths", source="127.0.0.2")  # another room is open to him
    await send(carol, {"type": "message", "text": "still here"})
    await message(teacher, "still here")


@pytest.mark.gen_test
async def test_ban_closes_every_room_and_unban_lets_back_in(page):
    """A ban closes the person's sockets in every room with 4003 and bars the whole server."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await page("bob", "s-bob", source="127.0.0.2")
    elsewhere, _ = await page("bobby", "s-bob", room="maths", source="127.0.0.2")
    await send(teacher, {"type": "ban", "nick": "bob"})
    for ws in (bob, elsewhere):
        while await ws.read_message() is not None:
            pass
        assert ws.close_code == 4003
    with pytest.raises(HTTPClientError) as refused:
        await page("bob", "s-other", room="art", source="127.0.0.2")
    assert refused.value.code == 403 and "banned" in refused.value.message
    await send(teacher, {"type": "unban", "nick": "Bob"})
    assert (await next_event(teacher, "unban"))["nick"] == "bob"
    await page("bob", "s-bob", source="127.0.0.2")


@pytest.mark.gen_test
async def test_lock_lets_only_hosts_post_and_slow_mode_spaces_posts(page):
    """Locked: others get `locked`; slow mode: a second post too soon gets `slow_mode`."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await page("bob", "s-bob")
    await send(teacher, {"type": "lock"})
    await next_event(bob, "lock")
    await send(bob, {"type": "message", "text": "can I?"})
    assert (await error(bob))["code"] == "locked"
    await send(teacher, {"type": "message", "text": "announcement"})
    await message(bob, "announcement")
    await send(teacher, {"type": "unlock"})
    await send(teacher, {"type": "slow", "seconds": 60})
    assert (await next_event(bob, "slow"))["seconds"] == 60
    _, welcome = await page("carol")
    assert (welcome["locked"], welcome["slow"]) == (False, 60)
    await send(bob, {"type": "message", "text": "first"})
    await message(bob, "first")
    await send(bob, {"type": "message", "text": "second"})
    refusal = await error(bob)
    assert refusal["code"] == "slow_mode" and 59 < refusal["retry_after"] <= 60
    await send(teacher, {"type": "message", "text": "hosts are not slowed"})
    await send(teacher, {"type": "message", "text": "not at all"})
    await message(bob, "not at all")


@pytest.mark.gen_test
async def test_clear_empties_the_room_and_a_since_across_it_is_answered(page):
    """After a clear, newcomers see nothing before it; a page that was away gets the clear."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    await send(teacher, {"type": "message", "text": "old"})
    old = await message(teacher, "old")
    await send(teacher, {"type": "clear"})
    clear = await next_event(teacher, "clear")
    _, fresh = await page("bob")
    assert [entry["type"] for entry in fresh["history"]] == ["clear"]
    _, resumed = await page("carol", since=old["id"] - 1)
    assert resumed["history"] == [clear] and "truncated" not in resumed


@pytest.mark.gen_test
async def test_pin_and_topic_reach_everyone_and_the_welcome(page):
    """A pin and a topic are entries for everyone and in the welcome; deleting unpins."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await page("bob", "s-bob")
    await send(teacher, {"type": "message", "text": "Homework: chapter 3"})
    homework = await message(bob, "Homework: chapter 3")
    await send(teacher, {"type": "pin", "target": homework["id"]})
    assert (await next_event(bob, "pin"))["message"] == homework
    await send(teacher, {"type": "topic", "topic": "WebSockets,   week 2"})
    assert (await next_event(bob, "topic"))["topic"] == "WebSockets, week 2"
    _, welcome = await page("carol")
    assert (welcome["pin"], welcome["topic"]) == (homework, "WebSockets, week 2")
    await send(teacher, {"type": "delete", "target": homework["id"]})
    await next_event(bob, "delete")
    _, later = await page("dave")
    assert later["pin"] is None


@pytest.mark.gen_test
async def test_a_host_made_by_the_key_holder_keeps_it_but_cannot_act_on_the_key_holder(page):
    """op: a host (after a reconnect too) who may mute others but not the key holder."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await page("bob", "s-bob")
    carol, _ = await page("carol", "s-carol")
    await send(teacher, {"type": "op", "nick": "bob"})
    assert (await next_event(carol, "op"))["nick"] == "bob"
    assert (await next_event(carol, "hosts"))["hosts"] == ["teacher", "bob"]
    await send(bob, {"type": "mute", "nick": "teacher", "seconds": 60})
    assert (await error(bob))["code"] == "forbidden"
    await send(bob, {"type": "op", "nick": "carol"})
    assert (await error(bob))["code"] == "forbidden"  # only the key holder makes hosts
    bob.close()
    while (await next_event(carol, "hosts"))["hosts"] != ["teacher"]:
        pass
    bob, welcome = await page("bob", "s-bob")
    assert welcome["hosts"] == ["teacher", "bob"]
    await send(bob, {"type": "mute", "nick": "carol", "seconds": 60})
    assert (await next_event(carol, "mute"))["by"] == "bob"
    await send(teacher, {"type": "deop", "nick": "bob"})
    await next_event(carol, "deop")
    await send(bob, {"type": "unmute", "nick": "carol"})
    assert (await error(bob))["code"] == "forbidden"


@pytest.mark.gen_test
async def test_bad_targets_get_clear_errors(page):
    """An unknown nickname, a missing message, a time out of range, a long topic: each named."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    cases = [
        ({"type": "mute", "nick": "nobody", "seconds": 60}, "no_such_person"),
        ({"type": "mute", "nick": "teacher", "seconds": 60}, "bad_target"),
        ({"type": "pin", "target": 999}, "no_such_message"),
        ({"type": "mute", "nick": "teacher", "seconds": 0}, "out_of_range"),
        ({"type": "slow", "seconds": 99999}, "out_of_range"),
        ({"type": "slow", "seconds": True}, "bad_message"),
        ({"type": "topic", "topic": "x" * 201}, "too_long"),
        ({"type": "unpin"}, "no_such_message"),
        ({"type": "unban", "nick": "bob"}, "bad_target"),
    ]
    for frame, code in cases:
        await send(teacher, frame)
        assert (await error(teacher))["code"] == code, frame
    await send(teacher, {"type": "message", "text": "in maths"})
    maths, _ = await page("bob", room="maths")
    await send(maths, {"type": "message", "text": "elsewhere"})
    elsewhere = await message(maths, "elsewhere")
    await send(teacher, {"type": "pin", "target": elsewhere["id"] + 5})
    assert (await error(teacher))["code"] == "no_such_message"


@pytest.mark.gen_test
async def test_the_key_and_the_rules_survive_a_restart(tmp_path):
    """A second app on the same database keeps the key it made, the lock and the topic."""

    async def hub_of(**options):
        app = make_app(Settings(db=tmp_path / "again.db", **options))
        app.settings["pinger"].stop()
        return app.settings["hub"]

    first = await hub_of()
    first.store.set_fields("general", {"locked": True, "topic": "kept"})
    await first.close()
    second = await hub_of()
    assert second.host_key == first.host_key and len(first.host_key) >= 22
    standing = second.standing("general")
    assert (standing.locked, standing.topic) == (True, "kept")
    await second.close()
    renewed = await hub_of(new_host_key=True)
    assert renewed.host_key != first.host_key
    await renewed.close()
    given = await hub_of(host_key=KEY)
    assert given.host_key == KEY
    await given.close()


@pytest.mark.gen_test
async def test_the_host_exports_the_transcript_with_the_key_in_a_header(page, http_client,
                                                                        http_port):
    """With X-Host-Key: a download of every kept message, deleted ones left out; else 403."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    for text in ("first <b>line</b>", "deleted one", "multi\nline"):
        await send(teacher, {"type": "message", "text": text})
    deleted = await message(teacher, "deleted one")
    await send(teacher, {"type": "delete", "target": deleted["id"]})
    await next_event(teacher, "delete")
    url = f"http://127.0.0.1:{http_port}/export?room=general&format="
    for headers in ({}, {"X-Host-Key": "k" * 31 + "x"}):
        with pytest.raises(HTTPClientError) as refused:
            await http_client.fetch(url + "txt", headers=headers)
        assert refused.value.code == 403
    expected_lines = {"txt": "teacher: first <b>line</b>", "md": "    multi\n    line",
                      "html": "first &lt;b&gt;line&lt;/b&gt;"}
    for kind, expected in expected_lines.items():
        response = await http_client.fetch(url + kind, headers={"X-Host-Key": KEY})
        body = response.body.decode()
        assert expected in body and "deleted one" not in body, kind
        assert response.headers["Content-Disposition"].startswith("attachment; filename=")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    with pytest.raises(HTTPClientError) as bad:
        await http_client.fetch(url + "pdf", headers={"X-Host-Key": KEY})
    assert bad.value.code == 400


@pytest.mark.gen_test
async def test_a_refused_host_frame_names_its_ref(page):
    """A host command refused at its fields names the frame's ref, as a message's refusal does."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    await send(teacher, {"type": "mute", "nick": "x", "seconds": 0, "ref": "m-1"})
    assert (await error(teacher))["ref"] == "m-1"
    await send(teacher, {"type": "host", "key": 5, "ref": "h-1"})
    assert (await error(teacher))["ref"] == "h-1"
    await send(teacher, {"type": "topic", "topic": "t", "ref": "t-1"})
    assert (await next_event(teacher, "ack"))["ref"] == "t-1"


@pytest.mark.gen_test
async def test_a_host_page_that_takes_its_seat_back_is_answered_and_still_shown(page):
    """The same page reconnecting keeps its badge; presenting the key again is answered."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    again, welcome = await page("teacher", "s-teacher")  # before the old socket is seen dead
    assert welcome["hosts"] == ["teacher"]
    await send(again, {"type": "host", "key": KEY})
    assert (await next_event(again, "hosts"))["hosts"] == ["teacher"]


@pytest.mark.gen_test
async def test_a_kick_leaves_others_on_the_same_address_connected_but_barred(page):
    """Bob's sockets close; Dave at the same address stays, but a new one from it is refused."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await page("bob", "s-bob", source="127.0.0.2")
    dave, _ = await page("dave", "s-dave", source="127.0.0.2")
    await send(teacher, {"type": "kick", "nick": "bob"})
    while await bob.read_message() is not None:
        pass
    await send(dave, {"type": "message", "text": "I am still here"})
    await message(teacher, "I am still here")
    with pytest.raises(HTTPClientError) as refused:
        await page("erin", "s-erin", source="127.0.0.2")
    assert refused.value.code == 403


@pytest.mark.gen_test
async def test_a_made_host_cannot_be_muted_kicked_or_banned_until_unmade(page):
    """A host is no target: `bad_target` says to take the hosting back first."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    await page("bob", "s-bob")
    await send(teacher, {"type": "op", "nick": "bob"})
    await next_event(teacher, "op")
    for frame in ({"type": "mute", "nick": "bob", "seconds": 60}, {"type": "kick", "nick": "bob"},
                  {"type": "ban", "nick": "bob"}):
        await send(teacher, frame)
        assert (await error(teacher))["code"] == "bad_target", frame


@pytest.mark.gen_test
async def test_a_muted_page_stays_muted_under_a_new_nickname(page):
    """The mute follows the page: the same session back as someone else still gets `muted`."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await page("bob", "s-bob")
    await send(teacher, {"type": "mute", "nick": "bob", "seconds": 300})
    await next_event(bob, "mute")
    bob.close()
    again, _ = await page("not-bob", "s-bob")
    await send(again, {"type": "message", "text": "it is not me"})
    assert (await error(again))["code"] == "muted"
