"""ShownOnline: one room's online list as this node's pages were told it, and how to correct it.

A page builds its list from its welcome, then applies `join`, `leave` and
`nick` events. Pub/sub delivers nothing to a node while its subscription is
down, so after an outage the pages can show people who left, or miss people
who came. The node keeps the list its pages were told, by applying the same
events the same way the page does, and after resubscribing compares it with
Redis and sends the joins and leaves that make up the difference: ordinary
events, so every client already handles them. No I/O here.
"""

from chat import protocol
from chat.protocol import Event


class ShownOnline:
    """The nicknames this node's pages show as online in one room, in the order they were shown."""

    def __init__(self, online: list[str]) -> None:
        self.online = list(online)  # the first welcome's list on this node

    def apply(self, event: Event) -> None:
        """Change the list as a page does on hearing `event` (other types change nothing)."""
        kind = event["type"]
        if kind == "join" and event["nick"] not in self.online:
            self.online.append(event["nick"])
        elif kind == "leave":
            self.online = [nick for nick in self.online if nick != event["nick"]]
        elif kind == "nick":
            self.online = [event["nick"] if nick == event["old"] else nick for nick in self.online]

    def correct(self, actual: list[str]) -> list[Event]:
        """Return the leaves, then the joins, that turn the list shown into `actual`."""
        events = [protocol.presence("leave", nick, 0) for nick in self.online if nick not in actual]
        events += [protocol.presence("join", nick, 0) for nick in actual if nick not in self.online]
        for event in events:  # each with the count a page has after it, as in live events
            self.apply(event)
            event["online"] = len(self.online)
        return events
