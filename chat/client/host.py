"""The host key on the client's side: presented after every welcome, refused at most once
aloud, and sent in a header for /export. Never printed, and never in a URL.

The key goes as the first frame on each new connection (before the outbox,
so a locked room takes a host's queued messages). The server answers frames
in the order they came, and its refusal of a key names no ref: so the first
refusal without a ref after the key is the key's, unless a `hosts` event
naming us came first. No I/O of its own: frames go out through `send`, rows
through `say`, and the export is chat/client/export.py's.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable

from chat.client.format import Event, error_line


class Host:
    """Present the host key to the server, say once if it is refused, and export with it."""

    def __init__(
        self,
        key: str | None,
        send: Callable[[str], None],
        say: Callable[[str], None],
        export: Callable[[str, str, str], Awaitable[str]],
    ) -> None:
        self.key = key
        self.send = send  # a frame to the server, if connected
        self.say = say  # a row to print
        self.export = export  # (file, key, room) -> the line that says how it went
        self.answer_due = False  # the key was sent, and neither accepted nor refused yet
        self.refused_once = False  # a wrong key is said once, not after every reconnection
        self.exports: set[asyncio.Task[None]] = set()  # kept, so none is collected mid-way

    def present(self) -> None:
        """Send the key, if we have one: the first frame after a welcome."""
        if self.key is not None:
            self.answer_due = True
            self.send(json.dumps({"type": "host", "key": self.key}))

    def disconnected(self) -> None:
        """Forget the answer we waited for: the next welcome presents the key again."""
        self.answer_due = False

    def hosts(self, hosts: list[str], own: str | None) -> None:
        """Note a `hosts` event: our name in it means the key was accepted."""
        if own in hosts:
            self.answer_due = False

    def refused(self, event: Event) -> bool:
        """Take a refusal that names no ref if it answers the key (saying so the first time);
        return whether it did."""
        if not self.answer_due:
            return False
        self.answer_due = False
        if event.get("code") != "forbidden":  # not about the key itself (the flood limit, say)
            return False
        if not self.refused_once:
            self.say(error_line(event))
        self.refused_once = True
        return True

    def export_to(self, path: str, room: str) -> None:
        """Save the room's messages to `path` in the background; print how it went."""
        if self.key is None:
            self.say("! /export needs the host key: start the client with --host-key KEY "
                     "(or CHAT_HOST_KEY=KEY). (usage)")
            return
        task = asyncio.ensure_future(self._exported(path, self.key, room))
        self.exports.add(task)
        task.add_done_callback(self.exports.discard)

    async def _exported(self, path: str, key: str, room: str) -> None:
        """Wait for the export, then say how it went."""
        self.say(await self.export(path, key, room))
