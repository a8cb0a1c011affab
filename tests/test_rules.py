"""The rules both hubs share (chat/rules.py): nickname candidates and their limit, welcome flags."""

import re

import pytest

from chat import rules
from chat.hub import Unavailable
from chat.room import Room
from chat.store import SQLiteStore


def test_a_nickname_is_offered_with_suffixes_up_to_the_limit():
    """The wanted nickname first, then -2 ... -99, each within 24 characters."""
    offered = list(rules.candidates("ada"))
    assert offered[:3] == ["ada", "ada-2", "ada-3"]
    assert offered[-1] == f"ada-{rules.MAX_SUFFIX}" and len(offered) == rules.MAX_SUFFIX
    assert list(rules.candidates("n" * 24))[-1] == "n" * 21 + "-99"


def test_no_nickname_is_offered_guest_names():
    """Without a valid nickname, GUEST_TRIES random guest-XXXX names."""
    offered = list(rules.candidates(rules.wanted_nick("bad\x00nick")))
    assert len(offered) == rules.GUEST_TRIES
    assert all(re.fullmatch(r"guest-[0-9a-f]{4}", nick) for nick in offered)


def test_one_process_stops_at_the_same_suffix_as_a_cluster():
    """With ada and ada-2 ... ada-99 online, the next ada is refused with every_name_taken."""
    room = Room("general", SQLiteStore(":memory:"), history=3, resume_limit=4)
    granted = [room.join("ada", holder=str(number))[0] for number in range(rules.MAX_SUFFIX)]
    assert granted[-1] == "ada-99"
    with pytest.raises(Unavailable) as refused:
        room.join("ada")
    assert refused.value.message == rules.every_name_taken().message
    assert room.join("bob")[0] == "bob"  # another nickname still gets in


@pytest.mark.parametrize("since, newest, missing, cut, flags", [
    (None, 5, False, True, {}),  # no since: the newest history, no flag even if cut
    (6, 5, False, True, {"reset": True}),  # beyond the newest id: reset, never truncated
    (5, 5, False, False, {"truncated": False}),
    (2, 5, True, False, {"truncated": True}),
    (2, 5, False, True, {"truncated": True}),
])
def test_welcome_flags(since, newest, missing, cut, flags):
    """reset for a since beyond the newest id; truncated for a resume that misses anything."""
    assert rules.welcome_flags(since, newest, missing, cut) == flags


def test_missed_counts_the_limit_and_the_cap():
    """More than the limit after since, or the oldest kept past since + 1, is missed."""
    assert not rules.missed(10, 14, 1, limit=4)
    assert rules.missed(10, 15, 1, limit=4)
    assert rules.missed(10, 12, 12, limit=4) and not rules.missed(10, 12, 11, limit=4)
    assert not rules.missed(10, 12, None, limit=4)
