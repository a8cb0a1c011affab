"""One person's conversation with a room, without the socket: typed lines become frames,
frames from the server become printed rows and outbox updates.

It owns who we are (nickname, room) and the newest entry of the room's log
applied (the next connection's `since`). The connection
(chat/client/connection.py) hands it every frame it reads and says when the
socket closed; it hands frames back through `send`, which a socket that is
gone ignores: the next welcome sends the whole outbox again. Its helpers:
chat/client/commands.py parses what is typed, chat/client/delivery.py sends
messages until answered for, chat/client/entries.py prints the room's log, and
chat/client/host.py presents the host key.
"""

import json
from collections.abc import Awaitable, Callable

from chat.client import commands
from chat.client.commands import CommandError, Frame, Parsed
from chat.client.delivery import HELD, Delivery
from chat.client.entries import entry_lines, hosts_line, is_entry, standing_lines
from chat.client.format import Event, error_line, name, rows, visible, welcome_lines
from chat.client.held import Held
from chat.client.host import Host
from chat.client.roster import Roster


class Conversation:
    """What one person typed and what the room said: print events, keep the outbox."""

    def __init__(
        self,
        nick: str | None,
        room: str | None,
        send: Callable[[str], None],
        write: Callable[[str], None],
        width: Callable[[], int | None],
        pause: Callable[[float], Awaitable[None]],
        all_answered: Callable[[], None],
        export: Callable[[str, str, str], Awaitable[str]],
        give_back: Callable[[str], None],
        host_key: str | None = None,
        origin: str | None = None,
    ) -> None:
        self.nick = nick
        self.room = room
        self.send = send  # a frame to the server, if there is a socket
        self.write = write  # chat rows: what the room said and what the server answered
        self.width = width  # the terminal's columns now, or None for a pipe (see rows())
        self.give_back = give_back  # a refused message's text, to type again
        self.origin = origin  # the server's http(s)://HOST:PORT, for the links to its files
        self.delivery = Delivery(self._send, self._print, pause, all_answered)
        self.host = Host(host_key, send=self._send, say=self._print, export=export)
        self.last_id: int | None = None  # the newest entry of the room's log applied
        self.online = Roster()  # who is in the room: the names the prompt completes
        self.held = Held()  # the messages shown, and their reactions: what /react toggles
        self.ready = False  # welcomed on the current socket: frames may go out
        self.previous = ""  # the line typed before: a /clear right after a /clear goes

    def others(self) -> list[str]:
        """Return the nicknames of everyone else online, to complete."""
        return self.online.others(self.nick)

    def disconnected(self) -> None:
        """Note that the socket closed: nothing goes out until the next welcome."""
        self.ready = False
        self.host.disconnected()

    def typed(self, line: str) -> bool:
        """Act on one typed line: a command or a message; return False if it asks to quit."""
        line = line.rstrip("\r\n")
        if not line.strip():  # the server would only answer "empty"
            return True
        previous, self.previous = self.previous, line
        try:
            command = commands.parse(line)
        except CommandError as error:
            self._print(f"! {error} (usage)")
            return True
        if command is None:
            self.delivery.post(commands.message_text(line), self.ready)
            return True
        return self._command(command, confirmed=previous.strip() == "/clear")

    def _command(self, command: Parsed, confirmed: bool) -> bool:
        """Carry out a command that parsed; return False if it asks to quit."""
        if command.frame is not None:
            if command.frame["type"] in commands.DELIVERED:  # /reply, /edit, /react
                self._deliver(command.frame)
            elif command.frame["type"] == "clear" and not confirmed:
                self._print("* /clear empties the room for everyone, for good: "
                            "type /clear again to confirm")
            else:
                self.previous = ""  # a third /clear asks again
                self._order(command.frame)
            return True
        match command.command.name:  # the commands carried out here
            case "quit":
                return False
            case "help":
                for line in commands.help_lines():
                    self._print(line)
            case "nick":
                self._rename(command.argument)
            case "export":
                self.host.export_to(command.argument, self.room or "general")
        return True

    def _deliver(self, frame: Frame) -> None:
        """Send a reply, an edit or a reaction like a message: with a ref, until answered for.
        A reaction adds ours, or takes it back if it stands (the protocol's toggle)."""
        if frame["type"] == "react":
            frame["on"] = not self.held.reacted(frame["target"], frame["emoji"], self.nick)
        self.delivery.post(frame, self.ready)

    def _order(self, frame: Frame) -> None:
        """Send a command's frame now; offline, say it was not sent (later it may be stale).

        No ref: the server's refusal of a command's fields would not name it,
        and an outbox waiting for that answer would wait for ever.
        """
        if not self.ready:
            self._print(f"! Not connected: /{frame['type']} was not sent; type it again once "
                        "reconnected. (offline)")
            return
        self._send(json.dumps(frame, ensure_ascii=False))

    def _rename(self, nick: str) -> None:
        """Ask for a new nickname now, or on the next connection if we are offline."""
        if self.ready:
            self._send(json.dumps({"type": "nick", "nick": nick}, ensure_ascii=False))
        else:
            self.nick = nick
            self._print(f"* you will ask for the nickname {visible(nick)} when reconnected")

    def _send(self, frame: str) -> None:
        """Send a frame if welcomed; a lost one is re-sent from the outbox after reconnecting."""
        if self.ready:
            self.send(frame)

    def receive(self, frame: str | bytes) -> None:
        """Act on one frame from the server: print it, or update the outbox."""
        try:
            event = json.loads(frame)
        except ValueError:
            return  # not protocol v1: nothing to show
        if not isinstance(event, dict):
            return
        self.online.update(event)
        match event.get("type"):
            case "welcome":
                self._welcomed(event)
            case "message":
                self._entry(event)
            case "hosts":
                self._hosts(event)
            case "ack":
                self.delivery.acknowledged(event.get("ref"))
            case "error":
                self._refused(event)
            case "join" | "leave" if event.get("nick") != self.nick:  # the welcome said we are in
                verb = "joined" if event["type"] == "join" else "left"
                self._print(f"* {name(event.get('nick'))} {verb}")
            case "nick":
                self._renamed(event)
            case _ if is_entry(event):  # delete, mute, lock, pin... and kinds newer than us
                self._entry(event)
            # typing, rooms and anything else newer than this client: not worth a line

    def _welcomed(self, event: Event) -> None:
        """Show who is here, the room's standing and what we missed; then present the host key
        and send everything not yet acknowledged."""
        self.ready = True
        self.nick = str(event.get("nick", self.nick))
        if isinstance(event.get("room"), str):
            self.room = event["room"]  # its canonical name, for /export
        if event.get("reset"):  # ids started again: the ones we saw mean nothing now
            self.last_id = None
            self.held.forget()
        for line in welcome_lines(event, self.room):
            self._print(line)
        for row in standing_lines(event, self.width()):
            self.write(row)
        for entry in event.get("history") or []:
            if isinstance(entry, dict):
                self._entry(entry)
        self.host.present()  # before the outbox: a locked room takes a host's messages
        self.delivery.restart()

    def _entry(self, event: Event) -> None:
        """Apply one entry of the room's log, unless its id shows we had it already.

        Ids count every kind of entry; a kind this client does not show still
        moves `last_id` on, so the next `since` does not ask for it again.
        """
        entry_id = event.get("id")
        if isinstance(entry_id, int):
            if self.last_id is not None and entry_id <= self.last_id:
                return
            self.last_id = entry_id
        if not self.held.apply(event):  # about a message we do not hold, or changing nothing
            return
        for row in entry_lines(event, self.nick, self.width(), self.origin):
            self.write(row)

    def _hosts(self, event: Event) -> None:
        """Print who hosts the room now; our own name there answers the host key."""
        hosts = event.get("hosts")
        hosts = [str(nick) for nick in hosts] if isinstance(hosts, list) else []
        self.host.hosts(hosts, self.nick)
        self._print(hosts_line(hosts, self.nick))

    def _print(self, line: str) -> None:
        """Print one chat line, cut to fit the terminal like a message (see rows())."""
        for row in rows([list(line)], self.width()):
            self.write(row)

    def _renamed(self, event: Event) -> None:
        """Print a nickname change, and remember ours for the next connection."""
        old, new = str(event.get("old")), str(event.get("nick"))
        if old == self.nick:  # ours: printed as it is, as our nickname always is
            self.nick = new
            self._print(f"* {visible(old)} is now {visible(new)}")
        else:
            self._print(f"* {name(old)} is now {name(new)}")

    def _refused(self, event: Event) -> None:
        """Hold a frame refused for now, to send again later; show any other error, and give
        a refused message back to type again."""
        ref, code = event.get("ref"), event.get("code")
        if not isinstance(ref, str):  # a command's, a rename's or the host key's
            if not self.host.refused(event):
                self._print(error_line(event))
            return
        if ref not in self.delivery.outbox:
            return  # about a message already answered for (a re-send's twin)
        if code in HELD:
            if code == "slow_mode":  # rate_limited passes unsaid; unavailable says its own
                self._print(error_line(event))
            self.delivery.held(ref, str(code), event.get("retry_after"))
            return
        self._print(error_line(event))
        text = commands.retyped(self.delivery.outbox.pending[ref])
        self.delivery.answered(ref)
        self.give_back(text)
