"""Editing, replying and reacting on one server, through real sockets: who may, what everyone
gets, what `since` replays, what the export shows, and every refusal.

Time is injected where it matters: the commands read the clock through
chat.commands.authority.now_ms, which the window's test moves ten minutes on.
"""

import pytest
from conftest import next_event, send

from chat.commands import authority
from chat.config import Settings
from chat.revisions import EDIT_WINDOW_MS

KEY = "k" * 32


@pytest.fixture
def settings(tmp_path, request) -> Settings:
    """Test settings with a known host key, room for a quote to be cut (a `burst` mark sets a
    tight limit)."""
    burst = request.node.get_closest_marker("burst")
    limits = {"rate": 0.01, "burst": burst.args[0]} if burst else {"rate": 100, "burst": 1000}
    return Settings(db=tmp_path / "chat.db", history=5, max_text=200, host_key=KEY, **limits)


@pytest.fixture
def page(connect):
    """Return a function that opens a page's socket: nick, session, room, address, since."""

    def open_page(nick: str, session: str | None = None, source: str | None = None,
                  since: int | None = None):
        return connect(nick, source=source, session=session, since=since)

    return open_page


async def become_host(ws, nick: str) -> None:
    """Present the key; return once the `hosts` event names `nick`."""
    await send(ws, {"type": "host", "key": KEY})
    while nick not in (await next_event(ws, "hosts"))["hosts"]:
        pass


async def message(ws, text: str) -> dict:
    """Read until the message with this text arrives."""
    while (event := await next_event(ws, "message"))["text"] != text:
        pass
    return event


async def refused(ws, frame: dict) -> dict:
    """Send a frame; return the error it is answered with."""
    await send(ws, frame)
    return await next_event(ws, "error")


@pytest.mark.gen_test
async def test_an_edit_of_your_own_message_reaches_everyone(page):
    """The author's page edits its message: everyone gets the edit entry, the sender an ack."""
    ada, _ = await page("ada", "s-ada")
    bob, _ = await page("bob", "s-bob")
    await send(ada, {"type": "message", "text": "helo"})
    hello = await message(bob, "helo")
    await send(ada, {"type": "edit", "target": hello["id"], "text": "hello", "ref": "e-1"})
    for ws in (ada, bob):
        edit = await next_event(ws, "edit")
        assert list(edit) == ["type", "room", "id", "target", "nick", "text", "ts"]
        assert (edit["room"], edit["id"], edit["target"], edit["nick"], edit["text"]) == (
            "general", hello["id"] + 1, hello["id"], "ada", "hello")
    assert (await next_event(ada, "ack")) == {"type": "ack", "ref": "e-1", "id": hello["id"] + 1}
    await send(ada, {"type": "edit", "target": hello["id"], "text": "hello again"})
    assert (await next_event(bob, "edit"))["text"] == "hello again"  # a later edit, too


@pytest.mark.gen_test
async def test_editing_someone_elses_message_or_a_bad_edit_is_refused(page):
    """Another's message (even a host's try) is forbidden; the text follows a message's rules."""
    ada, _ = await page("ada", "s-ada")
    bob, _ = await page("bob", "s-bob")
    await send(ada, {"type": "message", "text": "mine"})
    mine = await message(bob, "mine")
    answer = await refused(bob, {"type": "edit", "target": mine["id"], "text": "yours",
                                 "ref": "b-1"})
    assert (answer["code"], answer["message"], answer["ref"]) == (
        "forbidden", "You can only edit your own messages.", "b-1")
    await become_host(bob, "bob")  # a host may delete it, not edit it
    assert (await refused(bob, {"type": "edit", "target": mine["id"], "text": "x"}))["code"] == (
        "forbidden")
    for frame, code in (({"text": "   "}, "empty"), ({"text": "x" * 201}, "too_long"),
                        ({"text": 7}, "bad_message"), ({"target": "1", "text": "x"}, "bad_message"),
                        ({"target": mine["id"] + 50, "text": "x"}, "no_such_message")):
        answer = await refused(ada, {"type": "edit", "target": mine["id"], **frame, "ref": "a-1"})
        assert (answer["code"], answer["ref"]) == (code, "a-1"), frame


@pytest.mark.gen_test
async def test_an_edit_after_ten_minutes_is_too_late(page, monkeypatch):
    """Once the message is older than the window, its author's edit is `too_late`."""
    ada, _ = await page("ada", "s-ada")
    await send(ada, {"type": "message", "text": "old news"})
    old = await message(ada, "old news")
    # The commands read the time through authority.now_ms: ten minutes and a moment pass.
    monkeypatch.setattr(authority, "now_ms", lambda: old["ts"] + EDIT_WINDOW_MS + 1)
    answer = await refused(ada, {"type": "edit", "target": old["id"], "text": "new news"})
    assert answer["code"] == "too_late" and "10 minutes" in answer["message"]
    monkeypatch.setattr(authority, "now_ms", lambda: old["ts"] + EDIT_WINDOW_MS)  # just in time
    await send(ada, {"type": "edit", "target": old["id"], "text": "new news"})
    assert (await next_event(ada, "edit"))["text"] == "new news"


@pytest.mark.gen_test
async def test_another_page_with_the_same_nickname_cannot_edit(page):
    """The nickname is not the author: a new page (another session) called ada is forbidden."""
    ada, _ = await page("ada", "s-ada")
    bob, _ = await page("bob", "s-bob")
    await send(ada, {"type": "message", "text": "from the first page"})
    first = await message(bob, "from the first page")
    ada.close()
    assert (await next_event(bob, "leave"))["nick"] == "ada"
    impostor, welcome = await page("ada", "s-other")
    assert welcome["nick"] == "ada"
    answer = await refused(impostor, {"type": "edit", "target": first["id"], "text": "mine"})
    assert answer["code"] == "forbidden"
    back, _ = await page("ada2", "s-ada")  # the first page, under another nickname: its own
    await send(back, {"type": "edit", "target": first["id"], "text": "still mine"})
    assert (await next_event(bob, "edit"))["nick"] == "ada2"


@pytest.mark.gen_test
async def test_edits_are_refused_while_muted_or_locked_but_not_slowed(page):
    """A muted author's edit is `muted`, a locked room's `locked`; slow mode lets edits through."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await page("bob", "s-bob")
    await send(bob, {"type": "message", "text": "typo"})
    typo = await message(bob, "typo")
    await send(teacher, {"type": "mute", "nick": "bob", "seconds": 60})
    mute = await next_event(bob, "mute")
    answer = await refused(bob, {"type": "edit", "target": typo["id"], "text": "fixed"})
    assert (answer["code"], answer["until"]) == ("muted", mute["until"])
    await send(teacher, {"type": "unmute", "nick": "bob"})
    await send(teacher, {"type": "lock"})
    await next_event(bob, "lock")
    assert (await refused(bob, {"type": "edit", "target": typo["id"], "text": "x"}))["code"] == (
        "locked")
    await send(teacher, {"type": "unlock"})
    await send(teacher, {"type": "slow", "seconds": 60})
    await next_event(bob, "slow")
    await send(bob, {"type": "message", "text": "the one post"})
    await message(bob, "the one post")
    await send(bob, {"type": "edit", "target": typo["id"], "text": "fixed"})
    assert (await next_event(bob, "edit"))["text"] == "fixed"


@pytest.mark.gen_test
async def test_editing_the_pinned_message_updates_the_pin(page):
    """The pin newcomers are welcomed with shows the edited text; another edit, no pin change."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    await send(teacher, {"type": "message", "text": "homework: page 4"})
    homework = await message(teacher, "homework: page 4")
    await send(teacher, {"type": "message", "text": "unpinned"})
    other = await message(teacher, "unpinned")
    await send(teacher, {"type": "pin", "target": homework["id"]})
    await next_event(teacher, "pin")
    await send(teacher, {"type": "edit", "target": homework["id"], "text": "homework: page 5"})
    await send(teacher, {"type": "edit", "target": other["id"], "text": "still unpinned"})
    await next_event(teacher, "edit")
    await next_event(teacher, "edit")
    _, welcome = await page("bob")
    assert welcome["pin"] == {**homework, "text": "homework: page 5"}


@pytest.mark.gen_test
async def test_a_page_that_was_away_gets_edits_reactions_and_replies_through_since(page):
    """Every one is an entry of the log: `since` replays them in order, after their message."""
    ada, _ = await page("ada", "s-ada")
    bob, _ = await page("bob", "s-bob")
    await send(ada, {"type": "message", "text": "question?"})
    question = await message(bob, "question?")
    bob.close()
    await next_event(ada, "leave")
    await send(ada, {"type": "edit", "target": question["id"], "text": "a question?"})
    await send(ada, {"type": "react", "target": question["id"], "emoji": "🤔", "on": True})
    await send(ada, {"type": "message", "text": "answer", "reply": question["id"], "ref": "a-1"})
    await next_event(ada, "ack")
    _, welcome = await page("bob", "s-bob", since=question["id"])
    history = welcome["history"]
    assert [entry["type"] for entry in history] == ["edit", "react", "message"]
    assert [entry["id"] for entry in history] == [question["id"] + n for n in (1, 2, 3)]
    assert (history[0]["text"], history[1]["emoji"]) == ("a question?", "🤔")
    assert history[2]["reply"] == {"id": question["id"], "nick": "ada", "text": "question?"}


@pytest.mark.gen_test
async def test_reactions_go_on_and_off_for_everyone_and_bad_ones_are_refused(page):
    """A reaction and its taking back reach everyone; another emoji, a non-bool, none: refused."""
    ada, _ = await page("ada", "s-ada")
    bob, _ = await page("bob", "s-bob")
    await send(ada, {"type": "message", "text": "party"})
    party = await message(bob, "party")
    for on in (True, False):
        await send(bob, {"type": "react", "target": party["id"], "emoji": "🎉", "on": on})
        react = await next_event(ada, "react")
        assert list(react) == ["type", "room", "id", "target", "nick", "emoji", "on", "ts"]
        assert (react["target"], react["nick"], react["emoji"], react["on"]) == (
            party["id"], "bob", "🎉", on)
    await send(bob, {"type": "react", "target": party["id"], "emoji": "❤", "on": True})
    assert (await next_event(ada, "react"))["emoji"] == "❤️"  # one heart, with or without FE0F
    answer = await refused(bob, {"type": "react", "target": party["id"], "emoji": "🙂",
                                 "on": True, "ref": "b-1"})
    assert (answer["code"], answer["ref"]) == ("bad_reaction", "b-1")
    assert all(emoji in answer["message"] for emoji in ("👍", "❤️", "😂", "🎉", "🤔", "👀"))
    for on in (1, "true", None):
        answer = await refused(bob, {"type": "react", "target": party["id"], "emoji": "👍",
                                     "on": on})
        assert answer["code"] == "bad_message", on
    await send(ada, {"type": "delete", "target": party["id"]})
    await next_event(bob, "delete")
    answer = await refused(bob, {"type": "react", "target": party["id"], "emoji": "👍",
                                 "on": True, "ref": "b-2"})
    assert (answer["code"], answer["ref"]) == ("no_such_message", "b-2")


@pytest.mark.gen_test
async def test_a_muted_person_cannot_react_but_a_locked_room_takes_reactions(page):
    """Muted: `muted` with when it ends. Locked (and slow): reactions still go through."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await page("bob", "s-bob")
    await send(teacher, {"type": "message", "text": "vote"})
    vote = await message(bob, "vote")
    await send(teacher, {"type": "mute", "nick": "bob", "seconds": 60})
    mute = await next_event(bob, "mute")
    answer = await refused(bob, {"type": "react", "target": vote["id"], "emoji": "👍",
                                 "on": True})
    assert (answer["code"], answer["until"]) == ("muted", mute["until"])
    await send(teacher, {"type": "unmute", "nick": "bob"})
    await send(teacher, {"type": "lock"})
    await send(teacher, {"type": "slow", "seconds": 60})
    await next_event(bob, "slow")
    for emoji in ("👍", "👀"):  # two in a row: slow mode does not space reactions
        await send(bob, {"type": "react", "target": vote["id"], "emoji": emoji, "on": True})
        assert (await next_event(teacher, "react"))["emoji"] == emoji


@pytest.mark.burst(4)
@pytest.mark.gen_test
async def test_reactions_count_against_the_flood_limit(page):
    """Reactions spend the sender's burst like messages; the next is `rate_limited`."""
    ada, _ = await page("ada", "s-ada", source="127.0.0.2")
    await send(ada, {"type": "message", "text": "spam me"})
    spam = await message(ada, "spam me")
    for number in range(3):
        await send(ada, {"type": "react", "target": spam["id"], "emoji": "😂",
                         "on": number % 2 == 0})
        await next_event(ada, "react")
    answer = await refused(ada, {"type": "react", "target": spam["id"], "emoji": "😂",
                                 "on": True, "ref": "a-1"})
    assert (answer["code"], answer["ref"]) == ("rate_limited", "a-1") and answer["retry_after"]


@pytest.mark.gen_test
async def test_a_reply_carries_the_servers_quote_of_the_message_it_answers(page):
    """A reply's quote is the server's, 140 characters on one line; none to quote: refused."""
    ada, _ = await page("ada", "s-ada")
    bob, _ = await page("bob", "s-bob")
    long = "line one\nline two " + "x" * 90
    await send(ada, {"type": "message", "text": long})
    asked = await message(bob, long)
    await send(bob, {"type": "message", "text": "yes", "reply": asked["id"], "ref": "b-1",
                     "quote": {"id": asked["id"], "nick": "ada", "text": "forged"}})
    reply = await message(ada, "yes")
    assert list(reply) == ["type", "room", "id", "nick", "text", "reply", "ts"]
    assert reply["reply"] == {"id": asked["id"], "nick": "ada", "text": long.replace("\n", " ")}
    await send(ada, {"type": "message", "text": "y" * 100 + "\r\n" + "z" * 60})
    longer = await message(bob, "y" * 100 + "\r\n" + "z" * 60)
    await send(bob, {"type": "message", "text": "ok", "reply": longer["id"]})
    quoted = (await message(ada, "ok"))["reply"]["text"]
    assert quoted == "y" * 100 + " " + "z" * 39 + "…"
    for reply_to, code in ((longer["id"] + 50, "no_such_message"), ("1", "bad_message"),
                           ({"id": 1}, "bad_message")):
        answer = await refused(bob, {"type": "message", "text": "to what?", "reply": reply_to,
                                     "ref": "b-2"})
        assert (answer["code"], answer["ref"]) == (code, "b-2"), reply_to
    await send(ada, {"type": "delete", "target": asked["id"]})
    await next_event(bob, "delete")
    answer = await refused(bob, {"type": "message", "text": "to a deleted one",
                                 "reply": asked["id"]})
    assert answer["code"] == "no_such_message"


@pytest.mark.gen_test
async def test_the_export_shows_edits_and_replies_but_not_deleted_quotes(page, http_client,
                                                                         http_port):
    """Every format shows edits and quotes; a deleted message's text is in none of them."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await page("bob", "s-bob")
    await send(bob, {"type": "message", "text": "first draft"})
    draft = await message(teacher, "first draft")
    await send(bob, {"type": "message", "text": "something rude"})
    rude = await message(teacher, "something rude")
    for text, answered in (("about the draft", draft), ("about the rude one", rude)):
        await send(teacher, {"type": "message", "text": text, "reply": answered["id"]})
        await message(teacher, text)
    await send(bob, {"type": "edit", "target": draft["id"], "text": "final version"})
    await next_event(teacher, "edit")
    await send(teacher, {"type": "delete", "target": rude["id"]})
    await next_event(teacher, "delete")
    url = f"http://127.0.0.1:{http_port}/export?room=general&format="
    expected = {"txt": ["bob (edited): final version", "    ↪ bob: first draft",
                        "    ↪ deleted message"],
                "md": ["`bob` (edited)\n\n    final version", "↪ `bob`: ` first draft `",
                       "↪ deleted message"],
                "html": ["<b>bob</b> (edited): ", "<blockquote>↪ <b>bob</b>: first draft",
                         "<blockquote>↪ deleted message</blockquote>"]}
    for kind, lines in expected.items():
        body = (await http_client.fetch(url + kind, headers={"X-Host-Key": KEY})).body.decode()
        assert all(line in body for line in lines), (kind, body)
        assert "rude" not in body.replace("about the rude one", ""), kind
        assert "3 messages" in body, kind


@pytest.mark.gen_test
async def test_a_deleted_message_leaves_nothing_of_its_words_in_a_newcomers_history(page):
    """Its edits go from the history and the quotes of it lose their text, raw JSON included."""
    teacher, _ = await page("teacher", "s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await page("bob", "s-bob")
    await send(bob, {"type": "message", "text": "something rude"})
    rude = await message(teacher, "something rude")
    await send(bob, {"type": "edit", "target": rude["id"], "text": "something ruder"})
    await next_event(teacher, "edit")
    await send(teacher, {"type": "react", "target": rude["id"], "emoji": "👀", "on": True})
    await next_event(teacher, "react")
    await send(teacher, {"type": "message", "text": "please don't", "reply": rude["id"]})
    await message(teacher, "please don't")
    await send(teacher, {"type": "delete", "target": rude["id"]})
    await next_event(teacher, "delete")
    for since in (None, rude["id"] - 1):
        newcomer, welcome = await page("carol", "s-carol", since=since)
        kinds = [entry["type"] for entry in welcome["history"]]
        assert "edit" not in kinds and "react" not in kinds and "delete" in kinds, since
        reply = next(entry for entry in welcome["history"] if entry["type"] == "message"
                     and entry.get("reply"))
        assert reply["reply"] == {"id": rude["id"], "nick": "bob", "text": ""}
        assert "rude" not in str(welcome), since
        newcomer.close()
        await next_event(teacher, "leave")
