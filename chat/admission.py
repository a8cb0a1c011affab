"""Who gets in: connections counted per address and in all, and refused past a cap.

`Gate` keeps the counts and says why a newcomer is refused; `Refusal` is that
answer as a raw HTTP response; `connection_cap` derives the total cap from the
process's file limit. No I/O here: chat/gate.py's server does the accepting,
and these get plain unit tests.
"""

import resource
from dataclasses import dataclass
from http import HTTPStatus

RESERVE = 32  # descriptors never given to clients, at least: the database, Redis, logs, files


def connection_cap(file_limit: int) -> int:
    """Return how many connections fit in `file_limit` descriptors beside a reserve; 0 = no cap."""
    if file_limit == resource.RLIM_INFINITY:
        return 0
    return max(file_limit - max(RESERVE, file_limit // 10), 1)


@dataclass(frozen=True)
class Refusal:
    """Why a connection is turned away: the HTTP status and the line the client reads."""

    status: int
    reason: str

    def response(self) -> bytes:
        """Return the whole HTTP response: the status line, then the reason as plain text."""
        body = f"{self.reason}\n".encode()
        head = (
            f"HTTP/1.1 {self.status} {HTTPStatus(self.status).phrase}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        return head.encode() + body


class Gate:
    """Count the connections open per address and in all; refuse those past a cap (0: none)."""

    def __init__(self, address_cap: int, total_cap: int) -> None:
        self.address_cap = address_cap
        self.total_cap = total_cap
        self.open_from: dict[str, int] = {}  # address -> its open connections; absent if none
        self.open = 0  # open connections in all
        self.too_many = Refusal(
            429, f"Too many connections from your address: at most {address_cap} at once. "
                 "Close some tabs, then try again."
        )
        self.full = Refusal(
            503, f"The server is full: at most {total_cap} connections at once. "
                 "Try again in a minute."
        )

    def admit(self, address: str) -> Refusal | None:
        """Count a connection from `address` in, or return why it is refused."""
        here = self.open_from.get(address, 0)
        if self.address_cap and here >= self.address_cap:
            return self.too_many
        if self.total_cap and self.open >= self.total_cap:
            return self.full
        self.open_from[address] = here + 1
        self.open += 1
        return None

    def leave(self, address: str) -> None:
        """Count out a connection from `address` that closed."""
        here = self.open_from[address] - 1
        if here:
            self.open_from[address] = here
        else:
            del self.open_from[address]
        self.open -= 1
