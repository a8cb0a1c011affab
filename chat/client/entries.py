"""The room's log as printed rows: a line for each kind of entry, and the room's standing
(topic, pin, lock, slow mode, who is muted) as the welcome tells it.

A terminal cannot take back a line it printed, so a deletion, a clear or an
unpin is a line of its own saying what happened, and who did it. Every entry
names the host who acted in `by` (docs/protocol.md, "Hosts"). No I/O: plain
functions from events to rows, as in chat/client/format.py.
"""

from collections.abc import Callable

from chat.client.format import Event, heading, moment, name, rows, said, visible
from chat.client.rich import edit_lines, message_rows, reaction_line


def is_entry(event: Event) -> bool:
    """Say whether an event is an entry of the room's log: those carry a room and an id."""
    entry_id = event.get("id")
    return "room" in event and isinstance(entry_id, int) and not isinstance(entry_id, bool)


def entry_lines(event: Event, own: str | None, width: int | None,
                origin: str | None = None) -> list[str]:
    """Return the rows that show one entry; none for a kind this client does not know.
    `origin` (http://HOST:PORT) makes the links to files absolute."""
    kind = event.get("type")
    if kind == "message":
        return message_rows(event, own, width, origin)
    if kind == "edit":
        return edit_lines(event, own, width)
    if kind == "react":
        return rows([list(reaction_line(event, own))], width)
    if kind == "pin":
        pinned = event.get("message")
        return pin_lines(f"* pinned by {name(event.get('by'), own)}: ",
                         pinned if isinstance(pinned, dict) else {}, own, width)
    sentence = SENTENCES.get(str(kind))
    return [] if sentence is None else rows([list(sentence(event, own))], width)


def pin_lines(prefix: str, message: Event, own: str | None, width: int | None) -> list[str]:
    """Return a pinned message after `prefix`: `* pinned: #42 bob: text`."""
    return said(f"{prefix}{heading(message, own)}: ", message.get("text", ""), width)


def until(ms: object) -> str:
    """Return ` until HH:MM` for an end time in Unix milliseconds; nothing for 0 (no end)."""
    return "" if ms == 0 else f" until {moment(ms)}"


def slow_mode(seconds: object) -> str:
    """Return what slow mode lets each person do."""
    return f"one message every {visible(str(seconds))} s each"


def person(verb: str) -> Callable[[Event, str | None], str]:
    """Return the sentence of an entry that acts on one person: `* bob was muted by ada`."""

    def sentence(event: Event, own: str | None) -> str:
        ending = until(event.get("until")) if "until" in event else ""
        return f"* {name(event.get('nick'), own)} {verb} by {name(event.get('by'), own)}{ending}"

    return sentence


def room(verb: str, after: str = "") -> Callable[[Event, str | None], str]:
    """Return the sentence of an entry about the room itself: `* the room was locked by ada`."""
    return lambda event, own: f"* {verb} by {name(event.get('by'), own)}{after}"


def slowed(event: Event, own: str | None) -> str:
    """Say that slow mode was set or turned off (0 seconds)."""
    by = name(event.get("by"), own)
    if not event.get("seconds"):
        return f"* slow mode was turned off by {by}"
    return f"* slow mode was set by {by}: {slow_mode(event.get('seconds'))}"


def topic(event: Event, own: str | None) -> str:
    """Say that the topic was set, or cleared ("")."""
    by = name(event.get("by"), own)
    text = visible(str(event.get("topic") or ""))
    return f"* the topic was set by {by}: {text}" if text else f"* the topic was cleared by {by}"


def deleted(event: Event, own: str | None) -> str:
    """Say which message was deleted, and by whom: its line stays on the screen."""
    target = visible(str(event.get("target")))
    return f"* message #{target} was deleted by {name(event.get('by'), own)}"


def unmade(event: Event, own: str | None) -> str:
    """Say that someone made a host is a host no longer."""
    return (f"* {name(event.get('nick'), own)}'s host powers were taken back by "
            f"{name(event.get('by'), own)}")


SENTENCES: dict[str, Callable[[Event, str | None], str]] = {
    "delete": deleted,
    "mute": person("was muted"),
    "unmute": person("was unmuted"),
    "kick": person("was put out of the room"),
    "ban": person("was banned"),
    "unban": person("was unbanned"),
    "op": person("was made a host"),
    "deop": unmade,
    "lock": room("the room was locked", ": only hosts may post"),
    "unlock": room("the room was unlocked", ": everyone may post"),
    "clear": room("the room was cleared", ": what came before is gone for newcomers"),
    "unpin": room("the pinned message was taken down"),
    "slow": slowed,
    "topic": topic,
}


def standing_lines(welcome: Event, width: int | None) -> list[str]:
    """Return the room's standing from a welcome: topic, pin, lock, slow mode, who is muted."""
    own = str(welcome.get("nick"))
    lines: list[str] = []
    if welcome.get("topic"):
        lines += rows([list(f"* topic: {visible(str(welcome['topic']))}")], width)
    if isinstance(welcome.get("pin"), dict):
        lines += pin_lines("* pinned: ", welcome["pin"], own, width)
    if welcome.get("locked"):
        lines += rows([list("* the room is locked: only hosts may post")], width)
    if welcome.get("slow"):
        lines += rows([list(f"* slow mode: {slow_mode(welcome['slow'])}")], width)
    muted = welcome.get("muted")
    if isinstance(muted, dict) and muted:
        who = ", ".join(f"{name(nick, own)}{until(ms)}" for nick, ms in muted.items())
        lines += rows([list(f"* muted: {who}")], width)
    return lines


def hosts_line(hosts: list[str], own: str | None) -> str:
    """Return who hosts the room now, as the live `hosts` event tells it."""
    if not hosts:
        return "* no host is online"
    return "* hosts online: " + ", ".join(name(nick, own) for nick in hosts)
