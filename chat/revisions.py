"""The entries that change or answer a message already in the room: edits, reactions, quotes.

docs/protocol.md, "Editing, replying, reacting", is the contract. Each builder
gives an entry's type, room and own fields; the hub stamps the id and the time
(chat/protocol.py, `stamped`), as for a message. A reply is a message whose
`reply` field quotes the message it answers (`quote`, built here from the
message as stored, so no client can forge what someone else said). No I/O here.
"""

from chat.protocol import Event, stamped

REACTIONS = ("👍", "❤️", "😂", "🎉", "🤔", "👀")
EDIT_WINDOW_MS = 10 * 60 * 1000  # a message may be edited this long after its `ts`
QUOTE_LENGTH = 140  # characters of the answered message a reply carries

# Keyboards and terminals often send the heart without its emoji-style selector (U+FE0F):
# the same reaction, so it is taken and stored in the one form every page compares.
_CANONICAL = {emoji.replace("\ufe0f", ""): emoji for emoji in REACTIONS}


def edited(room: str, target: int, nick: str, text: str) -> Event:
    """Build the entry that replaces message `target`'s text with `text` (its author's edit)."""
    return {"type": "edit", "room": room, "target": target, "nick": nick, "text": text}


def reacted(room: str, target: int, nick: str, emoji: str, on: bool) -> Event:
    """Build the entry that adds `nick` to (or, `on` false, takes them out of) a reaction."""
    return {"type": "react", "room": room, "target": target, "nick": nick, "emoji": emoji,
            "on": on}


def reaction(emoji: str) -> str | None:
    """Return the reaction `emoji` names, in its stored form; None if it is not one of REACTIONS."""
    return _CANONICAL.get(emoji.replace("\ufe0f", ""))


def quote(message: Event) -> Event:
    """Return what a reply carries of the message it answers: its id, author, and text cut short.

    The text is put on one line (every line break a space) and cut to its
    first QUOTE_LENGTH characters, with "…" when something was cut.
    """
    text = " ".join(message["text"].splitlines())
    if len(text) > QUOTE_LENGTH:
        text = text[:QUOTE_LENGTH] + "…"
    return {"id": message["id"], "nick": message["nick"], "text": text}


def redacted(history: list[Event]) -> list[Event]:
    """Return a welcome's history without what it still holds of the messages deleted in it.

    A deleted message leaves its edits (its author's words) and the quotes of
    it in replies behind in the log. The log only grows, so its tombstone
    follows them in any history that holds them: those edits and reactions
    are left out, and those quotes keep their id and author but lose their text.
    """
    gone = {entry["target"] for entry in history if entry["type"] == "delete"}
    if not gone:
        return history
    kept = []
    for entry in history:
        if entry["type"] in ("edit", "react") and entry["target"] in gone:
            continue
        reply = entry.get("reply") if entry["type"] == "message" else None
        if reply is not None and reply["id"] in gone:
            entry = {**entry, "reply": {**reply, "text": ""}}
        kept.append(entry)
    return kept


# One of each, as sent: a cluster's node checks what it hears against these fields
# (chat/cluster/envelopes.py).
ANNOUNCED: tuple[Event, ...] = tuple(stamped(entry, 0, 0) for entry in (
    edited("", 0, "", ""), reacted("", 0, "", "", True),
))
