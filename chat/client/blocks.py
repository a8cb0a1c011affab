"""Markdown's fenced code blocks in a message's text: which lines are code, and each block's
language.

CommonMark's rules, as far as a terminal needs them: a fence is a line of at
least three backticks or tildes, indented at most three spaces; a backtick
fence's info string holds no backtick; the block ends at a fence of the same
character at least as long, with nothing after it but spaces, or at the end of
the message. Fences inside a quote or a list item are left as the text they
are. No I/O and no terminal: chat/client/format.py prints what this finds.
"""

import re
from typing import Literal

Kind = Literal["text", "label", "code"]  # a line outside code, a block's heading, a code line
OPENING = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)")


def closes(line: str, fence: str) -> bool:
    """Say whether a line ends the block that `fence` (e.g. "```") opened."""
    found = re.fullmatch(r" {0,3}(`{3,}|~{3,})[ \t]*", line)
    return found is not None and found[1][0] == fence[0] and len(found[1]) >= len(fence)


def label(info: str) -> str:
    """Return the heading a block's info string gives: its first word (the language), or
    `code` when it names none."""
    words = info.split()
    return f"{words[0] if words else 'code'}:"


def lines(text: str) -> list[tuple[Kind, str]]:
    """Return each line of a message's text, its fences dropped, with what it is: text outside
    code, a block's heading (`python:`), or a code line, verbatim but for the fence's indent."""
    found: list[tuple[Kind, str]] = []
    fence, indent = "", 0  # the open block's fence, and how far it was indented
    for line in text.split("\n"):
        if fence:
            if closes(line, fence):
                fence = ""
            else:  # CommonMark takes the fence's indent off each line of its block
                found.append(("code", line[min(indent, len(line) - len(line.lstrip(" "))):]))
            continue
        opening = OPENING.fullmatch(line)
        if opening and not (opening[2][0] == "`" and "`" in opening[3]):
            fence, indent = opening[2], len(opening[1])
            found.append(("label", label(opening[3])))
        else:
            found.append(("text", line))
    return found
