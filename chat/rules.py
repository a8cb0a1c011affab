"""The rules both hubs follow, written once: nicknames offered, welcome flags, ref lifetime, errors.

`LocalHub` (chat/local.py, through chat/room.py and chat/store.py) and
`RedisHub` (chat/cluster/) import these and keep no copy of their own, so one
process and a cluster give a client the same nickname, the same flags and the
same refusals (tests/test_hub_contract.py runs both and compares). No I/O here.
"""

import secrets
from collections.abc import Iterator

from chat import protocol
from chat.hub import Unavailable
from chat.protocol import ProtocolError

MAX_SUFFIX = 99  # a nickname taken is offered as -2 ... -99, then refused
GUEST_TRIES = 20  # guest-XXXX names drawn before giving up (65,536 exist)
REF_SECONDS = 10 * 60  # a ref re-sent within 10 minutes is the same message


# Nicknames ---------------------------------------------------------------------------


def wanted_nick(wanted: str | None) -> str | None:
    """Return the nickname asked for in its normal form; None if missing or against the rules."""
    if wanted is None:
        return None
    try:
        return protocol.check_nick(wanted)
    except ProtocolError:
        return None


def candidates(nick: str | None) -> Iterator[str]:
    """Yield the nicknames to offer, in order: `nick`, `nick-2` ... `nick-99`; or guest names."""
    if nick is None:
        for _ in range(GUEST_TRIES):
            yield guest_name()
        return
    yield nick
    for number in range(2, MAX_SUFFIX + 1):
        yield numbered(nick, number)


def numbered(nick: str, number: int) -> str:
    """Return `nick` with `-number` after it, cut short to stay within protocol.MAX_NICK."""
    suffix = f"-{number}"
    return nick[: protocol.MAX_NICK - len(suffix)] + suffix


def guest_name() -> str:
    """Return a random `guest-XXXX` nickname (four hex digits)."""
    return f"guest-{secrets.token_hex(2)}"


# The welcome -------------------------------------------------------------------------


def resumes(since: int | None, newest: int) -> bool:
    """Tell whether a welcome carries what came after `since` (else the newest history).

    A `since` beyond the room's newest id means its history was lost and ids
    started again: that welcome says `reset` and carries the newest history.
    """
    return since is not None and since <= newest


def missed(since: int, newest: int, oldest: int | None, limit: int) -> bool:
    """Tell whether some entries after `since` are out of a welcome's reach.

    More than `limit` came after it, or the oldest id still kept (`oldest`,
    None if unknown) is past the first one wanted: the history cap deleted it.
    """
    return newest - since > limit or (oldest is not None and oldest > since + 1)


def oldest_kept(newest: int, cap: int | None) -> int | None:
    """Return the oldest id a log capped at `cap` entries still may hold (None: no cap).

    From the cap, not from the oldest row: a deletion or a clear takes entries
    out too, and a page away through one of those has missed nothing.
    """
    return None if cap is None else newest - cap + 1


def welcome_flags(since: int | None, newest: int, missing: bool, cut: bool) -> dict[str, bool]:
    """Return the welcome's flags, for protocol.welcome.

    `reset` when `since` is beyond the newest id; `truncated` when resuming
    and some entries are `missing` (see `missed`) or were `cut` to fit the
    welcome's byte budget. Without `since`, neither.
    """
    if since is None:
        return {}
    if not resumes(since, newest):
        return {"reset": True}
    return {"truncated": missing or cut}


# What both hubs refuse, in the same words ---------------------------------------------------


def nick_taken(nick: str) -> ProtocolError:
    """Return the refusal of a rename to a nickname that someone online holds (or one like it)."""
    return ProtocolError("nick_taken", f"{nick!r} is taken by someone online.")


def replaced() -> ProtocolError:
    """Return the refusal of a rename from a connection a newer one of its page replaced."""
    return ProtocolError("replaced", "This connection no longer holds a nickname.")


def every_name_taken() -> Unavailable:
    """Return the refusal of a newcomer for whom every candidate nickname is taken.

    The socket closes with 1013 (try again later) and this as the reason.
    """
    return Unavailable(f"Every nickname like that, up to -{MAX_SUFFIX}, is taken; choose another.")
