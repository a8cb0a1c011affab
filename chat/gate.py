"""The way in: every TCP connection is counted and capped, and unfinished requests time out.

Left to itself, Tornado's HTTPServer waits an hour for a request's headers and
lets in as many connections as clients open: a thousand half-sent requests
from one address used up the process's file descriptors, and then its accept
handler failed with EMFILE on every turn of the loop (the listening socket
stays readable), logging a traceback each time. `GatedServer` is an HTTPServer
with an accept handler of its own:

- each connection counts against its address and against the total until its
  socket closes, whoever closes it (the peer, a timeout, the end of a
  WebSocket, the server stopping): `CountedStream.close_fd` gives it back;
- a connection past its address's cap gets a raw 429, one past the total cap a
  raw 503, each with a one-line reason, and is closed at once;
- out of descriptors anyway, it stops accepting for a second (newcomers wait
  in the kernel's backlog), saying so in one line every few seconds at most;
- a request's headers (then its body) must arrive within `header_timeout`
  seconds, and a kept-alive connection may wait `idle_timeout` for the next.

`Gate`, `Refusal` and `connection_cap`, which do no I/O, are chat/admission.py's.
"""

import copy
import errno
import logging
import resource
import socket
from collections.abc import Iterable
from typing import Any

import tornado.httputil
from tornado.http1connection import HTTP1Connection
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream

from chat.admission import Gate, Refusal, connection_cap
from chat.config import Settings
from chat.occasional import OccasionalWarning

log = logging.getLogger(__name__)

# Beyond --max-per-ip's chat sockets, an address may hold this many more connections:
# a browser fetches the page, its stylesheet, scripts and QR codes over up to 6 at once.
PAGE_CONNECTIONS = 10
PAUSE = 1.0  # seconds without accepting once the process is out of descriptors
ACCEPT_BATCH = 128  # connections accepted per turn of the loop at most, so nothing else starves
OUT_OF_DESCRIPTORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
# Linux's accept() reports the network errors of the connection it was about to return:
# that one is gone, the next may be fine (accept(2) says to retry).
GONE_BEFORE_ACCEPT = {
    errno.ECONNABORTED, errno.EPROTO, errno.ENETDOWN, errno.ENETUNREACH,
    errno.EHOSTDOWN, errno.EHOSTUNREACH, errno.ENOPROTOOPT, errno.EOPNOTSUPP,
}


def raise_file_limit() -> int:
    """Raise this process's soft limit on open files to the hard limit if allowed; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == hard:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):  # e.g. macOS refuses an unlimited hard limit as the soft one
        return soft
    return hard


class CountedStream(IOStream):
    """A client's stream that gives its place at the gate back when its socket closes."""

    # IOStream's 27 attributes fill its instances' shared __dict__ keys almost to the
    # 30 CPython allows; ours in the dict as well would give each stream a 1.6 KB dict.
    __slots__ = ("address", "server", "requests")

    def __init__(
        self, connection: socket.socket, address: str, server: "GatedServer", **options: Any
    ) -> None:
        super().__init__(connection, **options)
        self.address = address
        self.server = server
        self.requests = 0  # requests begun on it: from the second on, it was kept alive

    def close_fd(self) -> None:
        # IOStream.close() calls this once, whoever closes the stream and when:
        # the one place that every way a connection ends goes through.
        super().close_fd()
        self.server.forget(self)


class GatedServer(HTTPServer):
    """An HTTPServer that counts, caps and times out connections, and outlives EMFILE."""

    def initialize(  # type: ignore[override]  # HTTPServer's own options pass through
        self,
        request_callback: tornado.httputil.HTTPServerConnectionDelegate,
        gate: Gate,
        file_limit: int,
        idle_timeout: float,
        **options: Any,
    ) -> None:
        super().initialize(request_callback, **options)
        self.gate = gate
        self.file_limit = file_limit
        self.kept_alive = copy.copy(self.conn_params)  # for a connection's later requests
        self.kept_alive.header_timeout = idle_timeout
        self.listening: list[socket.socket] = []
        self.io_loop: IOLoop | None = None
        self.resuming: object | None = None  # the timeout that ends a pause
        self.over_address_cap = OccasionalWarning(log)
        self.over_total_cap = OccasionalWarning(log)
        self.out_of_resources = OccasionalWarning(log)

    def add_sockets(self, sockets: Iterable[socket.socket]) -> None:
        """Accept connections on these listening sockets, through the gate."""
        self.io_loop = IOLoop.current()
        for listening in sockets:
            self.listening.append(listening)
            if self.resuming is None:
                self.io_loop.add_handler(listening, self.accept, IOLoop.READ)

    def accept(self, listening: socket.socket, events: int) -> None:
        """Take the connections waiting on a listening socket; pause if out of descriptors."""
        for _ in range(ACCEPT_BATCH):
            try:
                connection, address = listening.accept()
            except BlockingIOError:
                return  # none left waiting
            except OSError as error:
                if error.errno in OUT_OF_DESCRIPTORS:
                    self.pause(error)
                    return
                if error.errno in GONE_BEFORE_ACCEPT:
                    continue
                raise
            self.admit(connection, address)

    def admit(self, connection: socket.socket, address: Any) -> None:
        """Serve HTTP on a new connection, or tell it why not and close it."""
        refusal = self.gate.admit(address[0])
        if refusal is not None:
            self.refuse(connection, address[0], refusal)
            return
        stream = CountedStream(
            connection, address[0], self,
            max_buffer_size=self.max_buffer_size, read_chunk_size=self.read_chunk_size,
        )
        self.handle_stream(stream, address)

    def refuse(self, connection: socket.socket, address: str, refusal: Refusal) -> None:
        """Send the refusal, close the connection, and say so in the log now and then."""
        if refusal is self.gate.too_many:
            self.over_address_cap.warn(
                "Refusing connections from %s: it has %d open, the most one address may "
                "(--max-per-ip plus %d for the page's files)",
                address, self.gate.address_cap, PAGE_CONNECTIONS,
            )
        else:
            self.over_total_cap.warn(
                "Refusing connections: %d open, the most the server takes (--max-connections)",
                self.gate.total_cap,
            )
        connection.setblocking(False)
        try:
            connection.send(refusal.response())  # a new socket's buffer takes it whole
            # Read what the client already sent: closing with unread data sends a
            # reset, which can make the client drop our answer before reading it.
            for _ in range(16):
                if not connection.recv(65536):
                    break
        except OSError:  # BlockingIOError: nothing more to read; others: the client left
            pass
        connection.close()

    def pause(self, error: OSError) -> None:
        """Stop accepting for PAUSE seconds; meanwhile newcomers wait in the kernel's backlog."""
        assert self.io_loop is not None
        for listening in self.listening:
            self.io_loop.remove_handler(listening)
        self.resuming = self.io_loop.call_later(PAUSE, self.resume)
        self.out_of_resources.warn(
            "Out of %s: refusing new connections for %g s; %d connections open, file limit %s",
            "file descriptors" if error.errno in (errno.EMFILE, errno.ENFILE) else "memory",
            PAUSE, self.gate.open, self.file_limit,
        )

    def resume(self) -> None:
        """Accept again after a pause."""
        assert self.io_loop is not None
        self.resuming = None
        for listening in self.listening:
            self.io_loop.add_handler(listening, self.accept, IOLoop.READ)

    def forget(self, stream: CountedStream) -> None:
        """Give a closed connection's place back."""
        self.gate.leave(stream.address)

    def start_request(
        self, server_conn: object, request_conn: tornado.httputil.HTTPConnection
    ) -> tornado.httputil.HTTPMessageDelegate:
        """Begin a request; on a kept-alive connection, its headers get the idle timeout."""
        if isinstance(request_conn, HTTP1Connection) and isinstance(
            request_conn.stream, CountedStream
        ):
            # Tornado's header timeout runs from here: on a kept-alive connection
            # that is the idle wait for the next request, which gets its own limit.
            if request_conn.stream.requests:
                request_conn.params = self.kept_alive
            request_conn.stream.requests += 1
        return super().start_request(server_conn, request_conn)

    def stop(self) -> None:
        """Stop accepting and close the listening sockets; connections stay open."""
        if self.io_loop is not None:
            if self.resuming is not None:
                self.io_loop.remove_timeout(self.resuming)
                self.resuming = None
            for listening in self.listening:
                self.io_loop.remove_handler(listening)
        for listening in self.listening:
            listening.close()
        self.listening = []


def make_server(
    request_callback: tornado.httputil.HTTPServerConnectionDelegate, settings: Settings
) -> GatedServer:
    """Build the server for the app with the settings' caps and timeouts."""
    file_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    total_cap = settings.max_connections
    if total_cap is None:
        total_cap = connection_cap(file_limit)
    address_cap = settings.max_per_ip and settings.max_per_ip + PAGE_CONNECTIONS
    log.info(
        "Taking %s connections from one address and %s in all (file limit %s)",
        f"at most {address_cap}" if address_cap else "any number of",
        total_cap or "any number", file_limit,
    )
    return GatedServer(
        request_callback,
        gate=Gate(address_cap, total_cap),
        file_limit=file_limit,
        idle_timeout=settings.idle_timeout,
        # Tornado's "idle_connection_timeout" is the time a request's headers may
        # take; the body gets as long again.
        idle_connection_timeout=settings.header_timeout,
        body_timeout=settings.header_timeout,
    )
