"""The way in (chat.gate): caps per address and in all, timeouts, running out of descriptors."""

import asyncio
import logging
import re
import socket
import time

import pytest
from conftest import next_event
from servers import ChatServer, LimitedChatServer, free_port
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.iostream import IOStream
from tornado.netutil import bind_sockets
from tornado.websocket import websocket_connect

from chat.admission import connection_cap
from chat.config import Settings
from chat.gate import PAGE_CONNECTIONS, make_server
from chat.handlers import ChatSocket
from chat.occasional import REPORT_EVERY, OccasionalWarning

HALF_SENT = b"GET / HTTP/1.1\r\nHost: x\r\n"  # a request whose headers never end
REST = b"Connection: close\r\n\r\n"  # what ends them, so the server answers and closes
TOO_MANY = b"Too many connections from your address: at most %d at once."
FULL = b"The server is full: at most %d connections at once."


# --- the warnings, without I/O


def test_warnings_come_once_per_interval_and_count_the_ones_held_back(caplog):
    """Within the interval warnings are held back; the next one says how many."""
    now = [0.0]
    warning = OccasionalWarning(logging.getLogger("chat.gate"), 5.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="chat.gate"):
        for moment in (0.0, 1.0, 4.9, 5.0, 6.0):
            now[0] = moment
            warning.warn("Refusing %s", "10.0.0.1")
    assert caplog.messages == [
        "Refusing 10.0.0.1", "Refusing 10.0.0.1 (and 2 more times since the last warning)"
    ]


# --- the app in this process, behind the gate


def timeouts(**overrides) -> list[Settings]:
    """Settings for one test: an in-memory history and short timeouts."""
    return [Settings(db=":memory:", **{"header_timeout": 0.5, "idle_timeout": 0.5, **overrides})]


@pytest.fixture
def gated(io_loop, app, settings):
    """The app behind make_server's server on a free port of 127.0.0.1: (server, port)."""
    server = make_server(app, settings)
    sockets = bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    yield server, sockets[0].getsockname()[1]
    server.stop()


async def connect_from(source: str, port: int) -> IOStream:
    """Open a raw connection to the server from the address `source`."""
    sock = socket.socket()
    sock.bind((source, 0))
    stream = IOStream(sock)
    await stream.connect(("127.0.0.1", port))
    return stream


async def until(condition, timeout: float = 5.0) -> None:
    """Poll the server's counts, which no event announces, until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the counts never got there"
        await asyncio.sleep(0.01)  # sleep-ok: the gate's counts announce nothing; deadline above


@pytest.mark.gen_test(timeout=10)
@pytest.mark.parametrize("settings", timeouts())
async def test_every_way_a_connection_ends_gives_its_place_back(settings, gated):
    """Header timeout, idle keep-alive, the peer leaving, a chat socket's end, the server stopping:
    each gives the connection's place back."""
    server, port = gated
    gate = server.gate
    slow = await connect_from("127.0.0.2", port)
    await slow.write(HALF_SENT)
    await until(lambda: gate.open_from == {"127.0.0.2": 1})
    assert await slow.read_until_close() == b""  # the header timeout closed it...
    assert gate.open_from == {} and gate.open == 0  # ...and gave its place back first

    page = await connect_from("127.0.0.3", port)
    await page.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await page.read_until(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    await page.read_bytes(int(re.search(rb"Content-Length: (\d+)", head)[1]))
    assert gate.open_from == {"127.0.0.3": 1}  # kept alive for the page's next request
    assert await page.read_until_close() == b""
    assert gate.open == 0

    leaving = await connect_from("127.0.0.2", port)
    await leaving.write(HALF_SENT)
    await until(lambda: gate.open == 1)
    leaving.close()
    await until(lambda: gate.open == 0)

    ws = await websocket_connect(f"ws://127.0.0.1:{port}/ws?nick=ada")
    await next_event(ws, "welcome")
    assert gate.open_from == {"127.0.0.1": 1}
    ws.close()
    await until(lambda: gate.open == 0)

    waiting = await connect_from("127.0.0.2", port)
    await waiting.write(HALF_SENT)
    ws = await websocket_connect(f"ws://127.0.0.1:{port}/ws?nick=bea")
    await next_event(ws, "welcome")
    await until(lambda: gate.open == 2)
    server.stop()  # as run.py stops: the listening socket, the requests, then the chat sockets
    await server.close_all_connections()
    assert await waiting.read_until_close() == b""
    closing = asyncio.ensure_future(ChatSocket.close_all(1001, "Going away.", grace=2.0))
    while await ws.read_message() is not None:  # the client answers the close once it reads
        pass
    await closing
    assert ws.close_code == 1001
    ws.close()  # let the client object go too
    assert gate.open == 0 and gate.open_from == {}


@pytest.mark.gen_test(timeout=5)
@pytest.mark.parametrize("settings", timeouts(header_timeout=30, idle_timeout=0.3))
async def test_a_kept_alive_connection_is_closed_after_the_idle_timeout(settings, gated):
    """After a response, the wait for the next request is limited by --idle-timeout."""
    server, port = gated
    page = await connect_from("127.0.0.2", port)
    await page.write(b"GET /invite.svg?address=9 HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await page.read_until(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404")
    await page.read_bytes(int(re.search(rb"Content-Length: (\d+)", head)[1]))
    assert await page.read_until_close() == b""  # in 0.3 s, not the header timeout's 30
    assert server.gate.open == 0


@pytest.mark.gen_test(timeout=5)
@pytest.mark.parametrize("settings", timeouts())
async def test_a_request_whose_body_never_comes_is_closed(settings, gated):
    """Headers that announce a body which never arrives: closed after the header timeout again."""
    server, port = gated
    stream = await connect_from("127.0.0.2", port)
    await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
    assert await stream.read_until_close() == b""
    assert server.gate.open == 0


# --- python run.py, as people run it


def half_sent(port: int, source: str = "127.0.0.1") -> socket.socket:
    """Connect from the address `source` and send a request whose headers never end."""
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    sock.sendall(HALF_SENT)
    return sock


def read_to_end(sock: socket.socket, timeout: float) -> bytes:
    """Read until the server closes; fail if it has not within `timeout` seconds."""
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:  # closed with our unread bytes: what came first still counts
        pass
    return received


def still_open(sock: socket.socket) -> bool:
    """Return True if the server has neither answered nor closed this connection."""
    sock.setblocking(False)
    try:
        sock.recv(1)
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)
    return False


def log_lines(server: ChatServer, text: str) -> list[str]:
    """Return the lines of the server's log that contain `text`."""
    return [line for line in server.log_path.read_text().splitlines() if text in line]


def wait_for_log(server: ChatServer, text: str, count: int, timeout: float) -> list[str]:
    """Poll the server's log until `count` lines contain `text`; return them."""
    deadline = time.monotonic() + timeout
    while len(lines := log_lines(server, text)) < count:
        assert time.monotonic() < deadline, f"fewer than {count} {text!r} in the log: {lines}"
        time.sleep(0.05)  # sleep-ok: a subprocess's log file cannot be awaited; deadline above
    return lines


@pytest.mark.gen_test(timeout=30)
async def test_half_sent_requests_from_one_address_leave_room_for_everyone_else(tmp_path):
    """Past an address's cap half-sent requests get 429, the rest time out; others get in now."""
    timeout = 3.0
    server = ChatServer(free_port(), tmp_path / "server.log",
                        "--max-per-ip", "2", "--header-timeout", str(timeout))
    server.start()
    cap = 2 + PAGE_CONNECTIONS
    flood: list[socket.socket] = []
    try:
        flood = [half_sent(server.port, "127.0.0.2") for _ in range(cap + 8)]
        for sock in flood[cap:]:
            answer = read_to_end(sock, timeout=5)
            assert answer.startswith(b"HTTP/1.1 429 Too Many Requests\r\n")
            assert TOO_MANY % cap in answer
        page = await AsyncHTTPClient().fetch(
            HTTPRequest(server.url, network_interface="127.0.0.3")
        )
        assert page.code == 200 and b"<html" in page.body.lower()
        sockets = [
            await websocket_connect(HTTPRequest(
                f"ws://127.0.0.1:{server.port}/ws?nick=tab{number}", network_interface="127.0.0.3"
            ))
            for number in (1, 2)
        ]
        for ws in sockets:
            await next_event(ws, "welcome")
        assert all(still_open(sock) for sock in flood[:cap])  # nobody waited for them to go
        with pytest.raises(HTTPClientError) as refused:  # the chat socket's own cap stays
            await websocket_connect(HTTPRequest(
                f"ws://127.0.0.1:{server.port}/ws?nick=tab3", network_interface="127.0.0.3"
            ))
        assert refused.value.code == 429 and "(at most 2)" in refused.value.response.reason
        for sock in flood[:cap]:
            assert read_to_end(sock, timeout=timeout + 2) == b""  # closed without an answer
        for ws in sockets:
            ws.close()
        [warning] = log_lines(server, "Refusing connections from 127.0.0.2")
        assert "WARNING" in warning and f"it has {cap} open" in warning
    finally:
        for sock in flood:
            sock.close()
        server.stop()


def test_past_the_total_cap_newcomers_get_503_until_connections_close(tmp_path):
    """run.py raises its soft file limit to the hard one, takes that less a reserve, then 503s."""
    server = LimitedChatServer(free_port(), tmp_path / "server.log", (32, 96),
                               "--max-per-ip", "0", "--header-timeout", "20")
    server.start()
    cap = connection_cap(96)
    held: list[socket.socket] = []
    try:
        assert server.open_files_limit() == (96, 96)
        assert log_lines(server, f"and {cap} in all (file limit 96)")
        held = [half_sent(server.port) for _ in range(cap)]
        with half_sent(server.port) as newcomer:
            answer = read_to_end(newcomer, timeout=5)
        assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        assert FULL % cap in answer
        assert all(still_open(sock) for sock in held)
        for sock in held:
            sock.sendall(REST)
        for sock in held:
            assert read_to_end(sock, timeout=5).startswith(b"HTTP/1.1 200 OK")
        with half_sent(server.port) as newcomer:  # their places are free again
            newcomer.sendall(REST)
            assert read_to_end(newcomer, timeout=5).startswith(b"HTTP/1.1 200 OK")
        assert len(log_lines(server, "Refusing connections:")) == 1
        assert "Traceback" not in server.log_path.read_text()
    finally:
        for sock in held:
            sock.close()
        server.stop()


def test_running_out_of_file_descriptors_pauses_accepting_without_a_busy_loop(tmp_path):
    """EMFILE on accept: a line every few seconds, no traceback, little CPU; then it serves."""
    server = LimitedChatServer(free_port(), tmp_path / "server.log", (64, 64), "--max-per-ip",
                               "0", "--max-connections", "0", "--header-timeout", "60")
    server.start()
    clients: list[socket.socket] = []
    try:
        with half_sent(server.port) as warm_up:  # the page's template is read and kept
            warm_up.sendall(REST)
            assert read_to_end(warm_up, timeout=5).startswith(b"HTTP/1.1 200 OK")
        clients = [half_sent(server.port) for _ in range(80)]  # 80 > 64 descriptors
        [first] = wait_for_log(server, "Out of file descriptors", count=1, timeout=10)
        cpu_before = server.cpu_seconds()
        # The next line comes REPORT_EVERY seconds later, after several pauses and retries.
        lines = wait_for_log(server, "Out of file descriptors", count=2, timeout=REPORT_EVERY + 5)
        assert server.cpu_seconds() - cpu_before < 0.5  # a busy loop would burn ~5 s
        assert len(lines) == 2 and "more times since the last warning" in lines[1]
        assert re.search(r"refusing new connections for 1 s; \d+ connections open, "
                         r"file limit 64$", first)
        for sock in clients:
            sock.sendall(REST)
        for sock in clients:  # those in the backlog are taken once descriptors are free
            assert read_to_end(sock, timeout=10).startswith(b"HTTP/1.1 200 OK")
        with half_sent(server.port) as newcomer:
            newcomer.sendall(REST)
            assert read_to_end(newcomer, timeout=5).startswith(b"HTTP/1.1 200 OK")
        log = server.log_path.read_text()
        assert "Traceback" not in log and " ERROR " not in log
        assert len(log_lines(server, "Out of file descriptors")) <= 3
    finally:
        for sock in clients:
            sock.close()
        server.stop()
