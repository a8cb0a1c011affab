"""The client commands: one module each, loaded into one table and dispatched by name.

A command module says what it is (`NAME`, `DESCRIPTION`), what its frame must
carry (`parse`, which raises ProtocolError at the edge), whether it counts
against the flood limit (`COUNTED`), who may run it (`WHO`: "anyone", or
"host", checked by its `run` through chat/commands/authority.py), and what it
does (`run`, given the socket as its `Context`; a ProtocolError it raises is
the sender's `error`). Adding a command is adding a module here and its
name to MODULES; `ChatSocket.on_message` needs no change (README: "Adding a
command").
"""

from types import ModuleType
from typing import Any

from chat import protocol
from chat.commands import (
    ban,
    clear,
    delete,
    deop,
    edit,
    host,
    kick,
    lock,
    message,
    mute,
    nick,
    op,
    pin,
    react,
    slow,
    topic,
    typing,
    unban,
    unlock,
    unmute,
    unpin,
)
from chat.protocol import ProtocolError

MODULES: tuple[ModuleType, ...] = (
    message, nick, typing, delete, edit, react,  # anyone's
    host, op, deop, mute, unmute, kick, ban, unban, lock, unlock, slow, clear, pin, unpin, topic,
)
TABLE: dict[str, ModuleType] = {module.NAME: module for module in MODULES}


def parse(frame: str | bytes, max_text: int) -> tuple[ModuleType, Any]:
    """Turn one client frame into its command module and its checked arguments.

    A refusal names the frame's `ref` when it carried a valid one, so the
    client knows which of its frames was refused.
    """
    kind, data = protocol.decode(frame)
    command = TABLE.get(kind)
    if command is None:
        known = ", ".join(f'"{name}"' for name in TABLE)
        raise ProtocolError("unknown_type", f"Unknown type {kind[:40]!r}: send one of {known}.")
    try:
        return command, command.parse(data, max_text)
    except ProtocolError as error:
        try:
            error.details.setdefault("ref", protocol.optional_ref(data))
        except ProtocolError:
            pass  # the ref itself was what was wrong
        raise
