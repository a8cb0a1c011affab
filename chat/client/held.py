"""The messages this client holds, and who reacted to each with what: a fold of the room's
log, in id order.

A terminal prints each entry once and never redraws, so no text is kept: only
which messages were shown (an edit or a reaction about one it does not hold it
skips, as docs/protocol.md says) and, per message and emoji, the *set* of
nicknames who reacted, so /react can send the opposite of what stands (adding
twice, or taking back what was never there, changes nothing). A deletion forgets
its message, a clear or a reset everything. No I/O.
"""

from chat.client.format import Event
from chat.client.rich import whole as number

KEPT = 10_000  # messages remembered, newest first: an evening's busy room; older ones fall off


class Held:
    """The messages shown, by id, each with its reactions: emoji -> the nicknames who gave it."""

    def __init__(self) -> None:
        self.messages: dict[int, dict[str, set[str]]] = {}  # oldest first

    def apply(self, event: Event) -> bool:
        """Fold one entry of the room's log in; return whether it is worth printing (not an
        edit or reaction about a message we do not hold, nor a reaction that changes nothing)."""
        kind, target = event.get("type"), number(event.get("target"))
        if kind == "message" and (entry_id := number(event.get("id"))) is not None:
            self.messages[entry_id] = {}
            if len(self.messages) > KEPT:
                del self.messages[next(iter(self.messages))]
        elif kind in ("edit", "react"):
            if target not in self.messages:
                return False
            if kind == "react":
                return self._react(self.messages[target], event)
        elif kind == "delete" and target is not None:
            self.messages.pop(target, None)
        elif kind == "clear":
            self.forget()
        return True

    @staticmethod
    def _react(reactions: dict[str, set[str]], event: Event) -> bool:
        """Add a nickname to (or take it out of) an emoji's set; return whether it changed."""
        emoji, nick = str(event.get("emoji")), str(event.get("nick"))
        who = reactions.setdefault(emoji, set())
        if (nick in who) == (event.get("on") is not False):
            return False
        if nick in who:
            who.discard(nick)
        else:
            who.add(nick)
        return True

    def reacted(self, target: int, emoji: str, nick: str | None) -> bool:
        """Say whether `nick` stands among those who reacted `emoji` to message `target`."""
        return nick in self.messages.get(target, {}).get(emoji, set())

    def forget(self) -> None:
        """Forget every message: the room was cleared, or the server lost its history."""
        self.messages.clear()
