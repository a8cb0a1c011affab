"""Context: what a command may use of the connection that sent it (ChatSocket provides it)."""

from typing import Protocol

from chat.hub import Hub
from chat.protocol import Event
from chat.uploads.files import Files


class Context(Protocol):
    """The sender's connection: its hub, room, nickname, holder id, uploads, and a way to answer."""

    hub: Hub
    room: str
    nick: str | None  # set once the socket has joined; commands run only after that
    holder: str  # names this connection to the hub
    session: str | None  # a digest of the page's secret session (the hub never sees the secret)
    address: str  # where the connection comes from
    keyed: bool  # it presented the host key: it is the room's host
    typing_relayed_at: float  # when this sender's last typing hint went to the room
    files: Files | None  # the upload directory (None: a cluster node given none)

    def send_event(self, event: Event) -> None:
        """Send one event to this client only."""

    def gone(self) -> bool:
        """Tell whether the connection is closed or closing (an awaiting command may find it so)."""
