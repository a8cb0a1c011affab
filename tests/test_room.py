"""Unit tests of the room: nicknames, history and message ids, without sockets."""

import re

import pytest

from chat import protocol
from chat.protocol import ProtocolError
from chat.room import Room
from chat.store import SQLiteStore


def post(room: Room, nick: str, text: str, ref: str | None = None):
    """Append a chat message from `nick` to the room's log, as the message command does."""
    return room.append(protocol.message(room.name, nick, text), nick, ref)


@pytest.fixture
def room() -> Room:
    """A room that welcomes with three messages, resumes with four, at 1764100000.123 s."""
    return Room("general", SQLiteStore(":memory:"), history=3, resume_limit=4,
                clock=lambda: 1764100000.123)


def test_join_gives_the_wanted_nick(room):
    """A free, valid nickname is granted as asked."""
    assert room.join("ada")[0] == "ada"
    assert room.online() == ["ada"]


@pytest.mark.parametrize("wanted", [None, "", "   ", "x" * 25, "bad\x00nick"])
def test_join_without_a_valid_nick_gets_a_guest_name(room, wanted):
    """A missing or invalid nickname becomes guest-XXXX."""
    assert re.fullmatch(r"guest-[0-9a-f]{4}", room.join(wanted)[0])


def test_taken_nick_gets_a_suffix_case_insensitively(room):
    """A nickname held online, in any case, is granted with -2, -3..."""
    assert room.join("ada")[0] == "ada"
    assert room.join("ADA")[0] == "ADA-2"
    assert room.join("Ada")[0] == "Ada-3"


def test_suffix_keeps_the_nick_within_24_characters(room):
    """A suffixed long nickname is cut so it stays within the limit."""
    long_nick = "n" * 24
    room.join(long_nick)
    assert room.join(long_nick)[0] == "n" * 22 + "-2"


def test_leave_frees_the_nick(room):
    """After someone leaves, their nickname can be taken again."""
    room.join("ada")
    room.leave("ada")
    assert room.join("ada")[0] == "ada"


def test_rename_refuses_a_nick_held_by_another(room):
    """Renaming to someone else's nickname, in any case, fails with nick_taken."""
    room.join("ada")
    room.join("bob")
    with pytest.raises(ProtocolError) as caught:
        room.rename("bob", "Ada")
    assert caught.value.code == "nick_taken"
    assert room.online() == ["ada", "bob"]


def test_rename_to_another_case_of_ones_own_nick(room):
    """Changing only the case of your own nickname is allowed."""
    room.join("ada")
    room.rename("ada", "Ada")
    assert room.online() == ["Ada"]


def test_posts_get_increasing_ids_and_millisecond_timestamps(room):
    """Each message gets the next id and the clock in Unix milliseconds."""
    first, _, _ = post(room, "ada", "one")
    second, _, _ = post(room, "ada", "two")
    assert (first["id"], second["id"]) == (1, 2)
    assert first == {
        "type": "message", "room": "general", "id": 1, "nick": "ada", "text": "one",
        "ts": 1764100000123,
    }


def test_welcome_holds_the_most_recent_messages_oldest_first(room):
    """The welcome carries who is online and the last `history` messages."""
    room.join("ada")
    for text in ["1", "2", "3", "4"]:
        post(room, "ada", text)
    welcome = room.welcome("ada", ["general"])
    assert welcome["online"] == ["ada"]
    assert [m["text"] for m in welcome["history"]] == ["2", "3", "4"]


def test_welcome_since_holds_everything_after_that_id(room):
    """With `since`, the history is every message after it, not just the recent ones."""
    for text in ["1", "2", "3", "4", "5"]:
        post(room, "ada", text)
    welcome = room.welcome("bob", ["general"], since=2)
    assert [m["id"] for m in welcome["history"]] == [3, 4, 5]
    assert "truncated" not in welcome and "reset" not in welcome
    assert room.welcome("bob", ["general"], since=5)["history"] == []


def test_welcome_since_caps_and_says_truncated(room):
    """More missed than the resume limit: the newest ones, flagged truncated."""
    for number in range(10):
        post(room, "ada", str(number))
    welcome = room.welcome("bob", ["general"], since=1)
    assert [m["id"] for m in welcome["history"]] == [7, 8, 9, 10]
    assert welcome["truncated"] is True


def test_welcome_since_beyond_the_newest_id_says_reset(room):
    """A `since` the room never reached means its history was lost: reset, recent history."""
    post(room, "ada", "only")
    welcome = room.welcome("bob", ["general"], since=57)
    assert welcome["reset"] is True
    assert [m["text"] for m in welcome["history"]] == ["only"]


def test_a_re_sent_ref_returns_the_first_message_and_is_not_new(room):
    """The same (nick, ref) again is the first copy's id, flagged not new, with no second text."""
    first, _, new = post(room, "ada", "hi", ref="c-1")
    again, stored_again, new_again = post(room, "ada", "hi", ref="c-1")
    assert (new, new_again) == (True, False)
    assert again is None and stored_again.result() == first["id"]
    other, _, new_other = post(room, "bob", "hi", ref="c-1")
    assert new_other and other["id"] == first["id"] + 1


def test_the_same_session_takes_its_nickname_back(room):
    """Joining with the holder's session is a takeover, in the form all have seen; else a suffix."""
    assert room.join("ada", session="s1") == ("ada", False)
    assert room.join("ada", session="s2") == ("ada-2", False)
    assert room.join("Ada", session="s1") == ("ada", True)
    assert room.online() == ["ada", "ada-2"]


def test_names_that_look_alike_are_one_name(room):
    """A Cyrillic а, full-width letters or a capital I for an l cannot pass for someone online."""
    room.join("teacher")
    room.join("Alice")
    assert room.join("te\u0430cher")[0] == "te\u0430cher-2"
    assert room.join("\uff54\uff45\uff41\uff43\uff48\uff45\uff52")[0] == "teacher-3"
    assert room.join("AIice")[0] == "AIice-2"
    with pytest.raises(ProtocolError, match="nick_taken|taken"):
        room.rename("AIice-2", "alice")


def test_leaving_forgets_the_session(room):
    """After the holder leaves, its session claims nothing."""
    room.join("ada", session="s1")
    room.leave("ada")
    room.join("ada", session="other")
    assert room.join("ada", session="s1") == ("ada-2", False)


def test_only_the_connection_holding_a_nickname_can_rename_or_free_it(room):
    """After a takeover, the old connection's rename is refused and its leave frees nothing."""
    room.join("ada", session="s1", holder="old")
    assert room.join("ada", session="s1", holder="new") == ("ada", True)
    with pytest.raises(ProtocolError) as refused:
        room.rename("ada", "mallory", holder="old")
    assert refused.value.code == "replaced"
    assert room.leave("ada", holder="old") is False
    assert room.online() == ["ada"]
    assert room.leave("ada", holder="new") is True and room.online() == []


def test_the_online_list_kept_between_welcomes_follows_every_change(room):
    """Joins, a rename, a takeover and a leave after a welcome all show in the next one."""
    room.join("ada", session="s-ada")
    assert room.welcome("ada", [])["online"] == ["ada"]
    room.join("bob")
    room.welcome("bob", [])["online"].append("not in the room")  # a welcome's list is its own
    room.rename("ada", "Ada")
    assert room.join("ada", session="s-ada")[1] is True  # a takeover: nobody new
    room.join("cy")
    assert room.welcome("cy", [])["online"] == ["Ada", "bob", "cy"] and room.count() == 3
    room.leave("bob")
    assert room.online() == ["Ada", "cy"] and room.count() == 2


def test_hosts_are_listed_in_arrival_order_through_renames_and_leaves(room):
    """The key's holder and a page made host are the hosts, in the order they came."""
    room.join("ada", session="s-ada")
    room.join("bob", session="s-bob")
    room.join("cy", session="s-cy")
    room.key_presented("cy", holder="")
    room.store.set_fields(room.name, {"op:s-bob": True})
    assert room.hosts() == ["bob", "cy"]
    room.rename("bob", "Bobby")
    room.rename("cy", "Cyril")
    assert room.hosts() == ["Bobby", "Cyril"]
    room.leave("Cyril")
    room.join("cy", session="s-cy")  # back, without presenting the key again
    assert room.hosts() == ["Bobby"]
