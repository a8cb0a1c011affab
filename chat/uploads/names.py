"""A file's name as the uploader's page sent it, made safe to show and to save. No I/O.

The name is only ever shown and offered as the download's name: the file is
kept under a random ID, so nothing here protects the disk. It keeps the name
from carrying a path, control characters (a newline in a header) or
invisible ones (a right-to-left override turning "gpj.exe" into "exe.jpg").
"""

import unicodedata
from urllib.parse import unquote

MAX_NAME = 120  # characters
DEFAULT_NAME = "file"


class BadName(ValueError):
    """The name's percent-encoding is not UTF-8."""


def decode(header: str) -> str:
    """Return the X-File-Name header's name, percent-decoded as UTF-8 (BadName if it is not)."""
    try:
        return unquote(header, errors="strict")
    except UnicodeDecodeError:
        raise BadName("X-File-Name must be percent-encoded UTF-8.") from None


def clean(name: str) -> str:
    """Return the name without a path, control or format characters, at most MAX_NAME long."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]  # "C:\\fakepath\\a.png" is "a.png"
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    name = name.strip().strip(".").strip()  # "..", and a dot file's hidden name
    if len(name) > MAX_NAME:  # keep the extension, which says what it is to the one saving it
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_NAME - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:MAX_NAME]
    return name or DEFAULT_NAME
