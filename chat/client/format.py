"""Events as the rows a terminal prints: what others send cannot drive the terminal or pass
for another line.

Control, format (bidi) and separator characters print as escapes; other people's
nicknames are isolated between FSI and PDI; every further row of a message (a
newline in it, or, on a terminal, the piece cut off to fit its width) starts
with CONTINUATION, which no message starts with; a fenced code block's lines
are indented under its language and cut, not wrapped. A message's first row names
its id (`#42`, for /delete and /pin) and, before it, HOST_BADGE when the server
says a host sent it: where a nickname cannot reach. No I/O: plain functions
from events to strings.
"""

import math
import time
import unicodedata
from datetime import datetime
from typing import Any

from chat.client import blocks

Event = dict[str, Any]

# Our own sentence for `unavailable`: the server's wording may change.
NOT_STORED = "! The server could not store your message yet; it will be sent again. (unavailable)"
# First Strong Isolate ... Pop Directional Isolate: a nickname's own direction stays between
# them, so a right-to-left name cannot reorder what follows it on the line.
ISOLATE, END_ISOLATE = "\u2068", "\u2069"
# What every further row of a message starts with, however the message or the terminal wrapped
# it. A message's first row starts with its time ("14:05 "), a notice with "* " or "! ".
CONTINUATION = "      │ "
# Before a host's message id, and before a host's name in the online list: on a message's row
# it comes before the id, where no nickname can put it.
HOST_BADGE = "[host]"
# A fenced code block's heading (its language) and its lines, after CONTINUATION.
LABEL_INDENT, CODE_INDENT = "  ", "    "
ELLIPSIS = "…"  # ends a line of code cut to fit the terminal
NARROWEST = 20  # columns: a narrower terminal is wrapped as if this wide
TAB_STOP = 8
# Characters that would drive or rearrange the terminal, or hide: controls, format characters
# (bidi overrides and isolates, zero-width ones) and the line and paragraph separators.
HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})


def shown(char: str) -> str:
    """Return a character someone sent as printed: itself, or an escape such as \\u202e."""
    if char == "\t" or unicodedata.category(char) not in HIDDEN:
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: str) -> str:
    """Return text with control, format and separator characters shown as escapes, so nobody
    can drive your terminal or reorder what it shows."""
    return "".join(shown(char) for char in text)


def columns(text: str) -> int:
    """Return the most columns a terminal may give `text`: better to wrap early than late.

    Wide and ambiguous East Asian characters count two, everything else one
    (a combining mark too, though most terminals draw it in no column).
    """
    return sum(2 if unicodedata.east_asian_width(char) in "WFA" else 1 for char in text)


def rows(lines: list[list[str]], width: int | None) -> list[str]:
    """Return the rows that print these lines (each line a list of characters as shown).

    Every line after the first starts with CONTINUATION. With a width (a
    terminal), each line is also cut to fit it, and each piece cut off starts
    with CONTINUATION too: whatever someone sends, and however it is padded,
    no row of theirs but the first can look like the start of a message.
    """
    if width is None:  # a pipe: nobody wraps the lines
        return ["".join(lines[0])] + [CONTINUATION + "".join(line) for line in lines[1:]]
    printed: list[str] = []
    for number, line in enumerate(lines):
        printed += fitted(line, max(width, NARROWEST), continued=number > 0)
    return printed


def fitted(units: list[str], width: int, continued: bool) -> list[str]:
    """Cut one line into rows of at most `width` columns, after a space when one is near."""
    done: list[str] = []
    floor = 1 if continued else 0  # how many units at the start of `row` are the marker
    row = [CONTINUATION] if continued else []
    used = columns(CONTINUATION) if continued else 0
    for unit in units:
        if unit == "\t":  # as spaces: a tab's width depends on where the terminal thinks it is
            unit = " " * (TAB_STOP - used % TAB_STOP)
        size = columns(unit)
        if used + size > width and len(row) > floor:
            # A word moves to the next row whole if it is short: a long one (Chinese has no
            # spaces) would leave this row nearly empty, so it is cut where the row ends.
            room = min(width - columns(CONTINUATION) - size, width // 2)
            cut = break_after_space(row, floor, room)
            done.append("".join(row[:cut]))
            row, floor = [CONTINUATION, *row[cut:]], 1
            used = columns("".join(row))
        row.append(unit)
        used += size
    done.append("".join(row))
    return done


def break_after_space(row: list[str], floor: int, room: int) -> int:
    """Return where to cut a full row: after its last space if what follows it takes at most
    `room` columns, else at the row's end."""
    for index in range(len(row) - 1, floor - 1, -1):
        if row[index].isspace():
            rest = row[index + 1 :]
            return index + 1 if columns("".join(rest)) <= room else len(row)
    return len(row)


def name(nick: object, own: str | None = None) -> str:
    """Return a nickname to print: escaped and, unless it is ours, isolated (FSI ... PDI)."""
    nick = str(nick)
    return visible(nick) if nick == own else f"{ISOLATE}{visible(nick)}{END_ISOLATE}"


def clock(ts: object) -> str:
    """Return HH:MM in local time for a server timestamp in Unix milliseconds."""
    seconds = ts / 1000 if isinstance(ts, int | float) and not isinstance(ts, bool) else time.time()
    try:
        return datetime.fromtimestamp(seconds).strftime("%H:%M")
    except (OverflowError, OSError, ValueError):  # a timestamp no calendar holds
        return "--:--"


def moment(ms: object) -> str:
    """Return when a server time (Unix milliseconds) falls: HH:MM today, else with the day."""
    if not isinstance(ms, int | float) or isinstance(ms, bool):
        return "?"
    try:
        then = datetime.fromtimestamp(ms / 1000)
    except (OverflowError, OSError, ValueError):  # a time no calendar holds
        return "?"
    return then.strftime("%H:%M" if then.date() == datetime.now().date() else "%a %d %b %H:%M")


def heading(event: Event, own: str | None = None) -> str:
    """Return who said a message, and its number: `#42 bob`, `[host] #43 teacher`."""
    entry_id = event.get("id")
    number = f"#{entry_id} " if isinstance(entry_id, int) and not isinstance(entry_id, bool) else ""
    badge = f"{HOST_BADGE} " if event.get("host") is True else ""
    return f"{badge}{number}{name(event.get('nick', '?'), own)}"


def said(prefix: str, text: object, width: int | None) -> list[str]:
    """Return `prefix` and someone's text as rows: each further line of it after CONTINUATION
    (and, on a terminal `width` columns wide, each piece cut off to fit); a fenced code block
    indented under its language, its lines never wrapped (see code_row())."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    found = blocks.lines(text)
    if found[0][0] != "text":  # it opens with a block: the heading goes under the name
        found.insert(0, ("text", ""))
        prefix = prefix.rstrip()
    printed = rows([[*prefix, *(shown(char) for char in found[0][1])]], width)
    for kind, line in found[1:]:
        units = [shown(char) for char in line]
        if kind == "code":
            printed.append(code_row(units, width))
        else:
            printed += further([*(LABEL_INDENT if kind == "label" else ""), *units], width)
    return printed


def further(units: list[str], width: int | None) -> list[str]:
    """Return a further line of a message as rows, each after CONTINUATION (see rows())."""
    return rows([[], units], width)[1:]


def code_row(units: list[str], width: int | None) -> str:
    """Return one line of code as one row: after CONTINUATION and CODE_INDENT, tabs as spaces.

    On a terminal a line too long for it is cut, ending in ELLIPSIS, not wrapped: wrapped
    code no longer reads as code, and the terminal's own wrapping would put the rest at the
    left edge, where it could pass for the start of a message. A pipe gets it whole.
    """
    start = CONTINUATION + CODE_INDENT
    if width is None:
        return start + "".join(units)
    room, kept, used = max(width, NARROWEST) - columns(start), [], 0
    for unit in units:
        if unit == "\t":  # from the code's own first column: that is what it was aligned to
            unit = " " * (TAB_STOP - used % TAB_STOP)
        kept.append(unit)
        used += columns(unit)
    if used <= room:
        return start + "".join(kept)
    while kept and used + columns(ELLIPSIS) > room:
        used -= columns(kept.pop())
    return start + "".join(kept) + ELLIPSIS


def message_lines(event: Event, own: str | None = None, width: int | None = None) -> list[str]:
    """Return a message as rows: `HH:MM #42 nick: text`, then its further lines (and, on a
    terminal `width` columns wide, the pieces cut off to fit) after CONTINUATION."""
    return said(f"{clock(event.get('ts'))} {heading(event, own)}: ", event.get("text", ""), width)


def error_line(event: Event) -> str:
    """Return an error event as `! <message> (<code>)`: a mute with when it ends, slow mode with
    when the message goes again."""
    message, code = visible(str(event.get("message", ""))), event.get("code")
    wait = event.get("retry_after")
    if code == "muted" and "until" in event:
        message = f"A host muted you until {moment(event['until'])}."
    elif code == "slow_mode" and isinstance(wait, int | float):
        message += f" Yours goes again in {math.ceil(wait)} s."
    return f"! {message} ({visible(str(code or '?'))})"


def people(nicks: list[object], hosts: list[object], own: str | None) -> str:
    """Return nicknames as a list to print, each host's after HOST_BADGE."""
    return ", ".join(f"{HOST_BADGE} {name(nick, own)}" if nick in hosts else name(nick, own)
                     for nick in nicks)


def welcome_lines(event: Event, room: str | None) -> list[str]:
    """Return the welcome as lines: room, nickname and who is online (hosts badged); then any
    reset or gap."""
    own = str(event.get("nick"))
    hosts = event.get("hosts")
    online = people(event.get("online") or [], hosts if isinstance(hosts, list) else [], own)
    room = visible(str(event.get("room") or room or "general"))
    lines = [f"* connected to #{room} as {visible(own)}; online: {online}"]
    if event.get("reset"):
        lines.append("* the server lost its history: message numbers start again")
    if event.get("truncated"):
        lines.append("* more was said while you were away than the server resends; "
                     "the oldest of it is missing")
    return lines


def messages(count: int) -> str:
    """Return "1 message" or "N messages"."""
    return f"{count} message" if count == 1 else f"{count} messages"
