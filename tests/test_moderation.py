"""Unit tests of the room's standing and the rules of who may do what (chat/moderation.py)."""

import pytest

from chat import moderation
from chat.commands.authority import expired
from chat.moderation import HOST, MEMBER, OP, Person, PostTimes, Standing


def test_a_mute_holds_by_nickname_and_by_page_until_it_ends():
    """Muted by nickname key, or by the page's session under another name; not after `until`."""
    standing = Standing({"mute:bob": {"nick": "bob", "until": 2000, "session": "s1"},
                         "mute-session:s1": "bob"}, {})
    assert standing.muted_until("bob", None, 1000) == 2000
    assert standing.muted_until("robert", "s1", 1000) == 2000  # renamed in a new tab
    assert standing.muted_until("carol", "s2", 1000) is None
    assert standing.muted_until("bob", "s1", 2000) is None
    assert standing.mutes(1000) == {"bob": 2000} and standing.mutes(2000) == {}


def test_a_bar_names_its_scope_and_when_it_ends():
    """A kick bars the room for its time, a ban the server (0: until lifted), by address or page."""
    standing = Standing({"kick:addr:10.0.0.2": {"nick": "bob", "until": 5 * 60_000}},
                        {"ban:session:s9": {"nick": "eve", "until": 0}})
    assert standing.barred("10.0.0.2", None, 0) == (
        "You were removed from this room by a host; you may come back in 5 minutes.")
    assert standing.barred("10.0.0.2", None, 5 * 60_000) is None
    assert standing.barred("10.0.0.3", "s9", 10**15) == "You were banned from this chat by a host."
    assert standing.barred("10.0.0.3", None, 0) is None


def test_levels_and_who_may_act_on_whom():
    """The key holder is HOST, a made host OP; nobody acts on a higher level, a member on none."""
    standing = Standing({"op:s-bob": "bob"}, {})
    assert moderation.level(standing, True, None) == HOST
    assert moderation.level(standing, False, "s-bob") == OP
    assert moderation.level(standing, False, "s-carol") == MEMBER
    key_holder = Person("teacher", "teacher", HOST, "s-t", "127.0.0.1")
    member = Person("carol", "carol", MEMBER, "s-c", "127.0.0.3")
    moderation.may_act_on(OP, member)
    for actor, target in ((OP, key_holder), (MEMBER, member)):
        with pytest.raises(moderation.ProtocolError) as refused:
            moderation.may_act_on(actor, target)
        assert refused.value.code == "forbidden"


def test_posts_are_refused_when_muted_or_locked_but_never_for_a_host():
    """refuse_post: muted first, then locked; a host of any level passes."""
    standing = Standing({"locked": True, "mute:bob": {"nick": "bob", "until": 9, "session": None}},
                        {})
    assert moderation.refuse_post(standing, MEMBER, "bob", None, 1).code == "muted"
    assert moderation.refuse_post(standing, MEMBER, "carol", None, 1).code == "locked"
    assert moderation.refuse_post(standing, OP, "bob", None, 1) is None


def test_slow_mode_spaces_each_persons_posts():
    """One post per `every` seconds per nickname; the wait counts down; 0 seconds is no limit."""
    times = PostTimes()
    assert times.wait("bob", 10, 1_000) == 0
    assert times.wait("bob", 10, 4_000) == 7.0
    assert times.wait("carol", 10, 4_000) == 0
    assert times.wait("bob", 10, 11_000) == 0
    assert times.wait("bob", 0, 11_001) == 0


def test_ended_records_are_pruned_when_new_ones_are_written():
    """Records whose time is over are named for removal; lasting (0) and current ones stay."""
    fields = {"mute:a": {"until": 5}, "mute:b": {"until": 50}, "ban:x": {"until": 0},
              "topic": "kept"}
    assert expired(fields, "mute:", 10) == {"mute:a": None}
    assert expired(fields, "ban:", 10) == {}
