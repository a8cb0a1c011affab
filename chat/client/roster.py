"""Who is in the room now, as the welcome, join, leave and nick events tell it: the
nicknames the prompt completes. No I/O."""

from chat.client.format import Event


class Roster:
    """The nicknames online in our room, kept up to date from the server's events."""

    def __init__(self) -> None:
        self.nicknames: set[str] = set()

    def update(self, event: Event) -> None:
        """Follow one event: a welcome names everyone; join, leave and nick change one name."""
        match event.get("type"):
            case "welcome":
                online = event.get("online")
                self.nicknames = set(map(str, online)) if isinstance(online, list) else set()
            case "join":
                self.nicknames.add(str(event.get("nick")))
            case "leave":
                self.nicknames.discard(str(event.get("nick")))
            case "nick":
                self.nicknames.discard(str(event.get("old")))
                self.nicknames.add(str(event.get("nick")))

    def others(self, own: str | None) -> list[str]:
        """Return everyone online but `own`, in alphabetical order whatever their case."""
        return sorted(self.nicknames - {own}, key=str.casefold)
