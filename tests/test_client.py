"""The terminal client against the real server, through real sockets: lines in, lines out."""

import asyncio
import contextlib
import fcntl
import json
import os
import pty
import re
import select
import sqlite3
import struct
import sys
import termios
import time
import unicodedata
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import pyte
import pytest
from conftest import next_event, send
from redis_server import RedisServer
from servers import ROOT, ChatServer, free_port
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError
from tornado.netutil import bind_sockets
from tornado.tcpclient import TCPClient
from tornado.tcpserver import TCPServer
from tornado.websocket import websocket_connect

from chat.client.__main__ import main
from chat.client.connection import TerminalChat
from chat.client.format import CONTINUATION, message_lines
from chat.client.outbox import STORE_FIRST_DELAY, STORE_LONGEST_DELAY, Outbox, back_off
from chat.config import Settings

CLOCK = r"\d\d:\d\d"
SAID = CLOCK + r" #\d+"  # how a message's row starts: its time and its id
BOB = "\u2068bob\u2069"  # someone else's nickname as printed: isolated between FSI and PDI


class Terminal:
    """A TerminalChat driven like a person at a keyboard: type lines, read what it prints."""

    def __init__(self, url: str, nick: str, **options) -> None:
        self.keyboard: asyncio.Queue[str | None] = asyncio.Queue()
        self.screen: asyncio.Queue[str] = asyncio.Queue()
        self.reports: asyncio.Queue[str] = asyncio.Queue()
        self.printed: list[str] = []  # every chat line, for counting
        self.reported: list[str] = []  # every stderr line
        self.chat = TerminalChat(
            url, nick, self.typed_lines(), self.print, self.report, **options
        )

    async def typed_lines(self) -> AsyncIterator[str]:
        """Yield what the test types, until it types None (end of input)."""
        while (line := await self.keyboard.get()) is not None:
            yield line

    @staticmethod
    async def nothing() -> AsyncIterator[str]:
        """Yield no lines: a keyboard nobody types on."""
        return
        yield

    def print(self, line: str) -> None:
        """Receive one chat line from the client."""
        self.printed.append(line)
        self.screen.put_nowait(line)

    def report(self, line: str) -> None:
        """Receive one line about the connection from the client."""
        self.reported.append(line)
        self.reports.put_nowait(line)

    def type(self, line: str | None) -> None:
        """Type one line; None ends the input (Ctrl+D)."""
        self.keyboard.put_nowait(line)

    async def next_line(self, matching: str) -> str:
        """Return the next chat line matching this regular expression, skipping others."""
        while not re.search(matching, line := await self.screen.get()):
            pass
        return line

    async def next_report(self, matching: str) -> str:
        """Return the next stderr line matching this regular expression."""
        while not re.search(matching, line := await self.reports.get()):
            pass
        return line


@contextlib.asynccontextmanager
async def running(terminal: Terminal) -> AsyncIterator["asyncio.Future[int]"]:
    """Run the client for the block; stop it and wait for it after, even if the test failed."""
    task = asyncio.ensure_future(terminal.chat.run())
    try:
        yield task
    finally:
        terminal.chat.stop()
        await asyncio.wait([task])


def hhmm(ts: int) -> str:
    """Return the local HH:MM a client should show for a server timestamp."""
    return datetime.fromtimestamp(ts / 1000).strftime("%H:%M")


@pytest.mark.gen_test(timeout=10)
async def test_shows_the_welcome_and_messages_and_delivers_typed_lines(connect, http_port):
    """Welcome, history and `HH:MM bob: hi` are printed; a typed line reaches bob and is acked."""
    bob, _ = await connect("bob")
    await send(bob, {"type": "message", "text": "earlier"})
    earlier = await next_event(bob, "message")
    terminal = Terminal(f"ws://127.0.0.1:{http_port}/ws", "ada")
    async with running(terminal) as run:
        welcome = await terminal.next_line("connected")
        assert welcome == f"* connected to #general as ada; online: {BOB}, ada"
        assert await terminal.screen.get() == (
            f"{hhmm(earlier['ts'])} #{earlier['id']} {BOB}: earlier")
        await send(bob, {"type": "message", "text": "hi"})
        hi = await next_event(bob, "message")
        assert await terminal.next_line("hi") == f"{hhmm(hi['ts'])} #{hi['id']} {BOB}: hi"
        terminal.type("hello from ada")
        mine = await next_event(bob, "message")
        assert (mine["nick"], mine["text"]) == ("ada", "hello from ada")
        assert re.fullmatch(f"{SAID} ada: hello from ada", await terminal.next_line("hello"))
        await terminal.chat.delivered()  # the ack came
        assert len(terminal.chat.outbox) == 0
        terminal.type(None)
        assert await run == 0
    assert (await next_event(bob, "leave"))["nick"] == "ada"


@pytest.mark.gen_test(timeout=10)
async def test_join_leave_and_multi_line_messages_are_printed(connect, http_port):
    """Others joining and leaving print a line each; a message's later lines are marked."""
    terminal = Terminal(f"ws://127.0.0.1:{http_port}/ws", "ada")
    async with running(terminal):
        await terminal.next_line("connected")
        bob, _ = await connect("bob")
        assert await terminal.screen.get() == f"* {BOB} joined"
        await send(bob, {"type": "message", "text": "one\ntwo"})
        first = await terminal.screen.get()
        assert re.fullmatch(f"{SAID} {BOB}: one", first)
        assert await terminal.screen.get() == CONTINUATION + "two"
        bob.close()
        assert await terminal.screen.get() == f"* {BOB} left"


@pytest.mark.gen_test(timeout=10)
async def test_refused_lines_print_the_error_and_leave_the_outbox(http_server, http_port):
    """A line over max_text prints `! ... (too_long)` and is dropped, not re-sent."""
    terminal = Terminal(f"ws://127.0.0.1:{http_port}/ws", "ada")
    async with running(terminal):
        await terminal.next_line("connected")
        terminal.type("x" * 101)  # the test settings' max_text is 100
        assert await terminal.next_line("^!") == (
            "! The message is 101 characters long; the limit is 100. (too_long)"
        )
        assert len(terminal.chat.outbox) == 0


@pytest.mark.gen_test(timeout=10)
async def test_refs_do_not_carry_the_secret_session(http_server, http_port, settings):
    """The refs the client sends, as the server stored them, share nothing with its session."""
    terminal = Terminal(f"ws://127.0.0.1:{http_port}/ws", "ada")
    async with running(terminal):
        await terminal.next_line("connected")
        for text in ("one", "two"):
            terminal.type(text)
        await terminal.next_line("ada: two")
        await terminal.chat.delivered()  # acknowledged: the rows are in the file
    session = terminal.chat.session
    with contextlib.closing(sqlite3.connect(settings.db)) as db:
        refs = [ref for (ref,) in db.execute("SELECT ref FROM log ORDER BY id")]
    assert len(refs) == 2 and len(set(refs)) == 2
    for ref in refs:
        assert session not in ref
        assert session[:8] not in ref and session[-8:] not in ref  # nor a part of it


@pytest.mark.gen_test(timeout=10)
async def test_nick_command_renames_or_prints_why_not(connect, http_port):
    """/nick NAME prints the change; a nickname someone holds prints `! ... (nick_taken)`."""
    await connect("bob")
    terminal = Terminal(f"ws://127.0.0.1:{http_port}/ws", "ada")
    async with running(terminal):
        await terminal.next_line("connected")
        terminal.type("/nick bob")
        assert (await terminal.next_line("^!")).endswith("(nick_taken)")
        terminal.type("/nick ada2")
        assert await terminal.next_line("is now") == "* ada is now ada2"
        assert terminal.chat.nick == "ada2"


@pytest.mark.gen_test(timeout=10)
async def test_room_is_joined_and_a_refused_room_ends_the_client(http_server, http_port):
    """--room joins that room; a room the server refuses (HTTP 400) exits 1 instead of retrying."""
    terminal = Terminal(f"ws://127.0.0.1:{http_port}/ws", "ada", room="maths")
    async with running(terminal):
        assert (await terminal.next_line("connected")).startswith("* connected to #maths as ada")
    refused = Terminal(f"ws://127.0.0.1:{http_port}/ws", "ada", room="no such room!")
    assert await refused.chat.run() == 1
    assert "HTTP 400" in await refused.next_report("refused")


class TestRateLimit:
    """The client under a server that takes one message at a time, 20 a second."""

    @pytest.fixture
    def settings(self, tmp_path) -> Settings:
        """The shared test settings with a burst of one."""
        return Settings(db=tmp_path / "chat.db", history=5, max_text=100, rate=20, burst=1)

    @pytest.mark.gen_test(timeout=10)
    async def test_rate_limited_lines_are_sent_again_in_order(self, connect, http_port):
        """Rate-limited lines go again after retry_after: once each, in order, no error shown."""
        bob, _ = await connect("bob")
        terminal = Terminal(f"ws://127.0.0.1:{http_port}/ws", "ada")
        async with running(terminal):
            await terminal.next_line("connected")
            texts = ["one", "two", "three", "four", "five"]
            for text in texts:
                terminal.type(text)
            received = [await next_event(bob, "message") for _ in texts]
            assert [message["text"] for message in received] == texts
            await terminal.chat.delivered()
            assert [line.split(": ", 1)[1] for line in terminal.printed[1:]] == texts


class Cable(TCPServer):
    """A TCP relay to the chat server whose client side can be cut while its server side stays.

    That is a dropped Wi-Fi the server has not noticed yet: the old connection
    still holds the nickname.
    """

    def __init__(self, target_port: int) -> None:
        super().__init__()
        self.target_port = target_port
        self.client_sides: list[IOStream] = []
        self.server_sides: list[IOStream] = []
        self.port = 0

    def start_on_free_port(self) -> None:
        """Listen on a free port of 127.0.0.1, kept in `port`."""
        sockets = bind_sockets(0, "127.0.0.1")
        self.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]

    async def handle_stream(self, stream: IOStream, address: tuple) -> None:
        upstream = await TCPClient().connect("127.0.0.1", self.target_port)
        self.client_sides.append(stream)
        self.server_sides.append(upstream)
        await asyncio.gather(self.relay(stream, upstream), self.relay(upstream, stream))

    @staticmethod
    async def relay(source: IOStream, destination: IOStream) -> None:
        """Copy bytes one way until either side closes."""
        with contextlib.suppress(StreamClosedError):
            while True:
                await destination.write(await source.read_bytes(65536, partial=True))

    def cut(self) -> None:
        """Close every client's side; each server side stays open, with nobody reading it."""
        for stream in self.client_sides:
            stream.close()

    def close(self) -> None:
        """Stop listening and close every stream."""
        self.stop()
        for stream in self.client_sides + self.server_sides:
            stream.close()


@pytest.fixture
def cable(http_server, http_port):
    """A Cable on a free port in front of the test's chat server."""
    relay = Cable(http_port)
    relay.start_on_free_port()
    yield relay
    relay.close()


@pytest.mark.gen_test(timeout=10)
async def test_a_reconnection_takes_over_the_nickname_its_stale_connection_holds(cable):
    """After a drop the server has not noticed, the client gets its nickname back, not ada-2."""

    async def at_once(seconds: float) -> None:
        pass  # reconnect without waiting

    terminal = Terminal(f"ws://127.0.0.1:{cable.port}/ws", "ada", wait=at_once)
    async with running(terminal):
        await terminal.next_line("connected")
        cable.cut()
        await terminal.next_report("reconnecting")
        welcome = await terminal.next_line("connected")
        assert welcome == "* connected to #general as ada; online: ada"


@pytest.fixture
def server(tmp_path):
    """run.py on a free port with no history for newcomers: only `since` brings what they missed."""
    chat_server = ChatServer(free_port(), tmp_path / "server.log", "--history", "0")
    chat_server.start()
    yield chat_server
    chat_server.stop()


async def in_thread(function) -> object:
    """Run a blocking function in a thread, so the client keeps running meanwhile."""
    return await IOLoop.current().run_in_executor(None, function)


@pytest.mark.gen_test(timeout=40)
async def test_reconnects_with_since_and_delivers_what_was_typed_offline_once(server):
    """After a restart: resumes with since, sends the line typed offline once, shows each once."""
    gate = asyncio.Event()  # the client reconnects when the test opens it

    async def wait_for_gate(seconds: float) -> None:
        await gate.wait()

    socket_url = f"ws://127.0.0.1:{server.port}/ws"
    terminal = Terminal(socket_url, "ada", wait=wait_for_gate)
    async with running(terminal):
        await terminal.next_line("connected")
        bob = await websocket_connect(socket_url + "?nick=bob")
        await send(bob, {"type": "message", "text": "before"})
        await terminal.next_line(f"{BOB}: before")
        bob.close()
        assert await in_thread(server.stop) == 0
        assert "going away" in await terminal.next_report("reconnecting")
        terminal.type("typed offline")
        await in_thread(server.start)
        bob = await websocket_connect(socket_url + "?nick=bob&since=1")
        await send(bob, {"type": "message", "text": "while ada was away"})
        await next_event(bob, "message")
        gate.set()
        await terminal.next_line("connected")
        assert re.fullmatch(f"{SAID} {BOB}: while ada was away", await terminal.screen.get())
        assert (await next_event(bob, "message"))["text"] == "typed offline"
        await terminal.chat.delivered()
        await send(bob, {"type": "message", "text": "after"})
        await terminal.next_line(f"{BOB}: after")
        cy = await websocket_connect(socket_url + "?nick=cy&since=0")
        history = (await next_event(cy, "welcome"))["history"]
        said = ["bob: before", "bob: while ada was away", "ada: typed offline", "bob: after"]
        assert [f"{m['nick']}: {m['text']}" for m in history] == said
        shown = [re.sub(f"^{SAID} ", "", line) for line in terminal.printed
                 if not line.startswith("*")]
        assert shown == [line.replace("bob", BOB) for line in said]
        bob.close()
        cy.close()


@pytest.mark.gen_test(timeout=60)
async def test_lines_refused_while_redis_is_away_are_sent_again_in_order(tmp_path):
    """`unavailable` keeps a line in the outbox and sends it again, after pauses that double,
    until stored: once each, in order, and a line typed after Redis is back waits its turn."""
    pauses: asyncio.Queue[float] = asyncio.Queue()  # how long each pause the client asked for
    end_pause: asyncio.Queue[None] = asyncio.Queue()  # the test ends each one while Redis is away
    redis_back = asyncio.Event()  # from then on, pauses end at once

    async def pause_as_the_test_says(seconds: float) -> None:
        pauses.put_nowait(seconds)
        if not redis_back.is_set():
            await end_pause.get()

    redis = RedisServer(tmp_path / "persistent", persist=True)  # a restart keeps what it stored
    node = ChatServer(free_port(), tmp_path / "node.log", "--redis", redis.url)
    await in_thread(redis.start)
    bob = cy = None
    try:
        await in_thread(node.start)
        socket_url = f"ws://127.0.0.1:{node.port}/ws"
        bob = await websocket_connect(socket_url + "?nick=bob")
        terminal = Terminal(socket_url, "ada", wait=pause_as_the_test_says)
        async with running(terminal):
            await terminal.next_line("connected")
            terminal.type("before")
            assert (await next_event(bob, "message"))["text"] == "before"
            await terminal.chat.delivered()

            await in_thread(redis.stop)
            terminal.type("during 1")
            assert await terminal.next_line("^!") == (
                "! The server could not store your message yet; it will be sent again."
                " (unavailable)"
            )
            assert 0.5 <= await pauses.get() <= 1.0  # about a second (with jitter)
            terminal.type("during 2")  # held behind "during 1"
            end_pause.put_nowait(None)  # "during 1" goes again, and is refused again
            assert 1.0 <= await pauses.get() <= 2.0  # twice as long
            await in_thread(redis.start)  # same port, same append-only file
            terminal.type("after")  # typed before the client tries again: it must come last
            redis_back.set()
            end_pause.put_nowait(None)
            said = ["during 1", "during 2", "after"]
            assert [(await next_event(bob, "message"))["text"] for _ in said] == said
            await terminal.chat.delivered()
            cy = await websocket_connect(socket_url + "?nick=cy&since=0")
            history = (await next_event(cy, "welcome"))["history"]
            assert [message["text"] for message in history] == ["before", *said]  # once each
            assert [line for line in terminal.printed if line.startswith("!")] == [
                "! The server could not store your message yet; it will be sent again."
                " (unavailable)"
            ]  # said once, not once per try
    finally:
        for ws in (bob, cy):
            if ws is not None:
                ws.close()
        await in_thread(node.stop)
        await in_thread(redis.stop)


@pytest.mark.gen_test(timeout=20)
async def test_the_command_echoes_a_piped_line_and_exits_0_at_eof(http_server, http_port):
    """`python -m chat.client` prints a line piped to its stdin as `HH:MM ada: ...`; EOF exits 0."""
    environment = dict(os.environ)
    environment.pop("PYTHONUNBUFFERED", None)  # so the line arrives only if the client flushes
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chat.client", f"ws://127.0.0.1:{http_port}/ws", "--nick", "ada",
        cwd=ROOT, env=environment, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        welcome = (await process.stdout.readline()).decode()
        assert welcome.startswith("* connected to #general as ada")
        process.stdin.write("hello from the pipe ✓\n".encode())
        await process.stdin.drain()
        line = (await process.stdout.readline()).decode()
        assert re.fullmatch(f"{SAID} ada: hello from the pipe ✓\n", line)
        process.stdin.close()
        assert await process.wait() == 0
        assert await process.stderr.read() == b""
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def start_client(http_port: int, stdout: int, stdin: int = asyncio.subprocess.PIPE,
                       **environment: str):
    """Start `python -m chat.client` as ada with this stdout and stdin (by default a pipe);
    its stderr is a pipe."""
    environment = {**os.environ, **environment}
    for name in ("PYTHONUNBUFFERED", "COLUMNS", "LINES"):  # flushing and the width: its own
        environment.pop(name, None)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chat.client", f"ws://127.0.0.1:{http_port}/ws", "--nick", "ada",
        cwd=ROOT, env=environment, stdin=stdin, stdout=stdout, stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.gen_test(timeout=20)
async def test_through_a_pipe_messages_are_not_cut_and_newlines_are_marked(connect, http_port):
    """Piped, a long message stays one line, and a line inside it starts with the marker."""
    process = await start_client(http_port, asyncio.subprocess.PIPE)
    try:
        assert (await process.stdout.readline()).startswith(b"* connected")
        bob, _ = await connect("bob")
        assert (await process.stdout.readline()).decode() == f"* {BOB} joined\n"
        long = "x" * 99  # wider than the 80 columns a terminal would be assumed to have
        await send(bob, {"type": "message", "text": long})
        await send(bob, {"type": "message", "text": f"hi\n{FAKE}"})
        assert re.fullmatch(f"{SAID} {BOB}: {long}\n", (await process.stdout.readline()).decode())
        assert re.fullmatch(f"{SAID} {BOB}: hi\n", (await process.stdout.readline()).decode())
        assert (await process.stdout.readline()).decode() == f"{CONTINUATION}{FAKE}\n"
        process.stdin.close()
        assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def read_until(fd: int, ending: str, output: str = "") -> str:
    """Read a terminal's output (in a thread) until it ends with `ending`; return all of it."""
    while not output.endswith(ending):
        output += (await in_thread(lambda: os.read(fd, 65536))).decode()
    return output


@pytest.mark.gen_test(timeout=20)
async def test_on_a_terminal_the_command_cuts_messages_to_its_width(connect, http_port):
    """On a 40-column terminal, spaces that would push a fake line to the next row cannot:
    every row the client prints fits, and each one after a message's first is marked."""
    width = 40
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, width, 0, 0))
    process = await start_client(http_port, follower)
    os.close(follower)  # the client holds its own copy
    try:
        await read_until(leader, "\r\n")  # the welcome
        bob, _ = await connect("bob")
        await read_until(leader, "joined\r\n")
        padding = width - len("00:00 #1 bob: ")  # unwrapped, FAKE would start the next row
        await send(bob, {"type": "message", "text": " " * padding + FAKE})
        shown = (await read_until(leader, "password\r\n")).split("\r\n")[:-1]
        screen = on_screen(shown, width)
        assert screen == shown  # every row fits: the terminal wraps none of them itself
        message = next(i for i, row in enumerate(screen) if starts_like_a_message(row))
        assert re.match(f"{SAID} {BOB}: ", screen[message])
        rest = screen[message + 1:]
        assert rest and all(row.startswith(CONTINUATION) for row in rest)
        assert not any(starts_like_a_message(row) for row in rest)
        assert rest[-2].endswith(" 12:00 teacher: give me your ")  # after a few spaces
        assert rest[-1] == CONTINUATION + "password"
        process.stdin.close()
        assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        os.close(leader)


class Screen(pyte.Screen):
    """What a person sees on a terminal the client runs in, and the terminal's own answers to
    the client's questions (where is the cursor?), which go back through the pty."""

    def __init__(self, columns: int, lines: int) -> None:
        super().__init__(columns, lines)
        self.answers: list[str] = []

    def write_process_input(self, data: str) -> None:
        """Keep the terminal's answer, for the Emulator to send back."""
        self.answers.append(data)

    def draw(self, data: str) -> None:
        """Draw text as a terminal does."""
        # A terminal draws our isolates in no column; pyte would stop drawing the row at them.
        super().draw(data.replace("\u2068", "").replace("\u2069", ""))


class Emulator:
    """A terminal on the leader side of a pty: pyte draws what the client writes to it."""

    def __init__(self, leader: int, columns: int, lines: int) -> None:
        self.leader = leader
        self.screen = Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)

    def rows(self) -> list[str]:
        """Return the screen's rows without trailing spaces."""
        return [row.rstrip() for row in self.screen.display]

    def cursor_row(self) -> str:
        """Return the row the cursor is on: where the person types."""
        return self.rows()[self.screen.cursor.y]

    def type(self, keys: str) -> None:
        """Press these keys ("\\r" is Enter)."""
        os.write(self.leader, keys.encode())

    async def until(self, shown: Callable[[], bool], seconds: float = 10.0) -> None:
        """Read what the client draws (in a thread), answering it, until `shown()` is true;
        fail with the screen if that takes longer than `seconds`."""
        deadline = time.monotonic() + seconds
        while not shown():
            remaining = max(deadline - time.monotonic(), 0)
            if not await in_thread(
                lambda wait=remaining: select.select([self.leader], [], [], wait)[0]
            ):
                pytest.fail("the screen never showed it:\n" + "\n".join(self.rows()))
            try:
                self.stream.feed(os.read(self.leader, 65536))
            except OSError:  # EIO: the client closed the terminal
                pytest.fail("the client left, showing:\n" + "\n".join(self.rows()))
            for answer in self.screen.answers:
                os.write(self.leader, answer.encode())
            self.screen.answers.clear()


@pytest.mark.gen_test(timeout=20)
async def test_a_message_arriving_while_you_type_prints_above_your_half_typed_line(
        connect, http_port):
    """At a terminal, a message that arrives while you type prints above the prompt, which is
    drawn again below it with what you had typed: the line you send is the one you typed."""
    columns, lines = 60, 12
    bob, _ = await connect("bob")
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    process = await start_client(http_port, follower, stdin=follower, TERM="xterm")
    os.close(follower)  # the client holds its own copies
    terminal = Emulator(leader, columns, lines)
    try:
        await terminal.until(lambda: terminal.rows()[0].startswith("* connected")
                             and terminal.cursor_row() == "ada>")
        assert terminal.rows()[0] == "* connected to #general as ada; online: bob, ada"
        terminal.type("hello wor")
        await terminal.until(lambda: terminal.cursor_row() == "ada> hello wor")
        await send(bob, {"type": "message", "text": "interrupt"})
        await terminal.until(lambda: any(row.endswith("bob: interrupt") for row in terminal.rows())
                             and terminal.cursor_row() == "ada> hello wor")
        rows = terminal.rows()
        interrupt = next(i for i, row in enumerate(rows) if row.endswith("bob: interrupt"))
        assert re.fullmatch(f"{SAID} bob: interrupt", rows[interrupt])
        assert terminal.screen.cursor.y == interrupt + 1  # the prompt, right below the message
        assert [row for row in rows if "hello" in row] == ["ada> hello wor"]  # not left behind
        terminal.type("ld\r")
        assert (await next_event(bob, "message"))["text"] == "interrupt"  # bob's own, echoed
        mine = await next_event(bob, "message")
        assert (mine["nick"], mine["text"]) == ("ada", "hello world")
        await terminal.until(lambda: terminal.cursor_row() == "ada>"
                             and terminal.rows()[interrupt + 2].endswith("ada: hello world"))
        assert terminal.rows()[interrupt + 1] == "ada> hello world"  # as typed, then as sent
        terminal.type("hi b\t\r")  # Tab completes the nickname of someone online
        assert (await next_event(bob, "message"))["text"] == "hi bob"
        # Between two prompts the terminal is not raw, and its line discipline would take
        # Ctrl+D for itself: press it once the next prompt is drawn, as a person would.
        await terminal.until(lambda: terminal.cursor_row() == "ada>"
                             and terminal.rows()[interrupt + 4].endswith("ada: hi bob"))
        terminal.type("\x04")  # Ctrl+D: leave once everything typed is delivered
        assert await process.wait() == 0
        assert await process.stderr.read() == b""
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        os.close(leader)


def test_help_explains_the_options(capsys):
    """--help names the URL, --nick and --room, and exits 0."""
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    usage = capsys.readouterr().out
    assert "--nick" in usage and "--room" in usage and "url" in usage


def offline_chat(printed: list[str]) -> TerminalChat:
    """A client that is never run, to hand frames to directly; it prints into `printed`."""
    return TerminalChat("ws://127.0.0.1:1/ws", "ada", Terminal.nothing(), printed.append,
                        printed.append)


def welcome(history: list[dict], **flags: bool) -> str:
    """Return a welcome frame for ada with this history."""
    return json.dumps({"type": "welcome", "nick": "ada", "online": ["ada"], "history": history,
                       **flags})


def test_unknown_events_and_garbage_print_nothing():
    """Typing, rooms, unknown types and non-JSON frames are ignored without a crash."""
    printed: list[str] = []
    chat = offline_chat(printed)
    for frame in ['{"type": "typing", "nick": "bob"}', '{"type": "rooms", "rooms": []}',
                  '{"type": "party"}', '{"type": 7}', "[1]", "not json", b"\x00"]:
        chat.receive(frame)
    assert printed == []


def test_a_message_already_shown_is_not_shown_again_until_a_reset():
    """A message whose id is not above the last shown is skipped; a `reset` welcome starts again."""
    printed: list[str] = []
    chat = offline_chat(printed)
    first, second = ({"type": "message", "id": n, "nick": "bob", "text": f"m{n}", "ts": 0}
                     for n in (1, 2))
    chat.receive(welcome([first, second]))
    chat.receive(json.dumps(second))
    assert [line.split(" ", 1)[1] for line in printed[1:]] == [f"#1 {BOB}: m1", f"#2 {BOB}: m2"]
    printed.clear()
    chat.receive(welcome([first], reset=True))
    assert printed[1] == "* the server lost its history: message numbers start again"
    assert printed[2].endswith(f"{BOB}: m1")


def test_other_peoples_nicknames_are_isolated_from_the_words_around_them():
    """Others' nicknames print between FSI and PDI, so a right-to-left name cannot reorder the
    line; our own prints as it is."""
    printed: list[str] = []
    chat = offline_chat(printed)
    chat.receive(json.dumps({"type": "welcome", "nick": "ada", "online": ["ada", "עדה"],
                             "history": []}))
    for event in ({"type": "join", "nick": "עדה"},
                  {"type": "message", "id": 1, "nick": "עדה", "text": "12 apples", "ts": 0},
                  {"type": "message", "id": 2, "nick": "ada", "text": "13 pears", "ts": 0},
                  {"type": "nick", "old": "עדה", "nick": "علي"},
                  {"type": "leave", "nick": "علي"}):
        chat.receive(json.dumps(event))
    assert [re.sub(f"^{SAID} ", "", line) for line in printed] == [
        "* connected to #general as ada; online: ada, \u2068עדה\u2069",
        "* \u2068עדה\u2069 joined",
        "\u2068עדה\u2069: 12 apples",
        "ada: 13 pears",
        "* \u2068עדה\u2069 is now \u2068علي\u2069",
        "* \u2068علي\u2069 left",
    ]


def test_control_characters_cannot_reach_the_terminal():
    """Escape sequences in someone's text are printed as visible escapes, not obeyed."""
    lines = message_lines({"nick": "bob", "text": "\x1b[2Jhi\x07", "ts": 0})
    assert lines[0].endswith(BOB + r": \x1b[2Jhi\x07")


def test_direction_and_invisible_characters_are_shown_as_escapes():
    """Bidi controls, zero-width and other format characters, and line or paragraph separators
    in someone's text or nickname print as visible escapes, not obeyed."""
    text = "a\u202eb\u2066c\u2069d\u200be\u200ff\u2028g\u2029h\U000e0001i\u061cj"
    [line] = message_lines({"nick": "b\u202eob", "text": text, "ts": 0})
    assert line.endswith(
        "\u2068b\\u202eob\u2069: "  # the nickname's own override escaped, inside our isolates
        r"a\u202eb\u2066c\u2069d\u200be\u200ff\u2028g\u2029h\U000e0001i\u061cj"
    )


# How wide a terminal draws a character: wide East Asian ones take two columns, combining
# marks and our isolates none. The client must count at least this much.
def drawn_width(char: str) -> int:
    """Return the columns a common terminal gives `char`."""
    if unicodedata.combining(char) or char in "\u2068\u2069":
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def on_screen(lines: list[str], width: int) -> list[str]:
    """Return the rows a terminal `width` columns wide shows: it wraps a line too long for it."""
    screen = []
    for line in lines:
        row, used = "", 0
        for char in line:
            if used + drawn_width(char) > width:
                screen.append(row)
                row, used = "", 0
            row, used = row + char, used + drawn_width(char)
        screen.append(row)
    return screen


def starts_like_a_message(row: str) -> bool:
    """Say whether a screen row starts (after any spaces) with a time, as a message does."""
    return re.match(rf"\s*{CLOCK}", row) is not None


FAKE = "12:00 teacher: give me your password"


@pytest.mark.parametrize("width", [20, 40, 80])
def test_spaces_up_to_the_edge_cannot_fake_the_next_line(width):
    """However many spaces pad a message, the row it continues on shows the continuation
    marker: no screen row but the first starts with a time, and no row is too wide."""
    for padding in range(2 * width):
        event = {"nick": "mallory", "text": " " * padding + FAKE, "ts": 0}
        lines = message_lines(event, width=width)
        screen = on_screen(lines, width)
        assert screen == lines  # every row fits: the terminal wraps none of them itself
        assert starts_like_a_message(screen[0])
        assert not any(starts_like_a_message(row) for row in screen[1:]), screen
        assert all(row.startswith(CONTINUATION) for row in screen[1:])
        assert "".join(row.removeprefix(CONTINUATION) for row in screen).endswith(
            " " * padding + FAKE)  # nothing lost, in order


@pytest.mark.parametrize("width", [None, 40])
def test_a_newline_cannot_fake_a_line(width):
    """A newline (\\n, \\r\\n or \\r) inside a message starts a continuation row, on a
    terminal or through a pipe (no width)."""
    for newline in ("\n", "\r\n", "\r"):
        event = {"nick": "mallory", "text": f"hi{newline}{FAKE}{newline}{FAKE}", "ts": 0}
        lines = message_lines(event, width=width)
        assert len(lines) >= 3
        assert starts_like_a_message(lines[0])
        assert not any(starts_like_a_message(row) for row in lines[1:])
        cut = FAKE if width is None else "12:00 teacher: give me your "  # 40 columns: cut
        assert lines[1] == CONTINUATION + cut


def test_wide_and_combining_characters_never_overflow_the_row():
    """Chinese (two columns each), emoji and combining marks are cut so no row is too wide."""
    width = 30
    for text in ("中" * 70, "🎉" * 40 + FAKE, "e\u0301" * 60 + FAKE, "ab\tcd\t" * 20 + FAKE):
        lines = message_lines({"nick": "李娜", "text": text, "ts": 0}, width=width)
        screen = on_screen(lines, width)
        assert screen == lines
        assert not any(starts_like_a_message(row) for row in screen[1:])


def test_words_wrap_at_spaces_when_they_fit():
    """A long sentence is cut after a space, not inside a word."""
    text = "the quick brown fox jumps over the lazy dog " * 3
    lines = message_lines({"nick": "bob", "text": text, "ts": 0}, width=40)
    pieces = [lines[0].split(": ", 1)[1]] + [row.removeprefix(CONTINUATION) for row in lines[1:]]
    assert len(pieces) > 3 and "".join(pieces) == text
    assert all(piece.endswith(" ") for piece in pieces)  # the text ends with one too


def test_outbox_sends_held_messages_again_oldest_first_one_at_a_time():
    """Messages held by the rate limit come back oldest first, one in flight at a time."""
    outbox = Outbox("p")
    first, second, third = (outbox.add(text) for text in ("1", "2", "3"))
    outbox.hold(third)
    outbox.hold(second)
    assert outbox.must_wait()
    assert outbox.release() == second
    assert outbox.release() is None  # the second is still on its way
    assert outbox.settle(second)
    assert outbox.release() == third
    assert json.loads(outbox.frame(third)) == {"type": "message", "text": "3", "ref": "p-3"}
    assert outbox.restart() == [first, third]
    assert not outbox.must_wait()


def test_a_message_the_server_cannot_store_waits_1_s_doubling_to_30_s():
    """The pauses before sending an `unavailable` message again: 1, 2, 4... seconds, at most 30."""
    pauses = [back_off(failures, STORE_FIRST_DELAY, STORE_LONGEST_DELAY) for failures in range(8)]
    assert pauses == [1, 2, 4, 8, 16, 30, 30, 30]
    assert back_off(10_000, STORE_FIRST_DELAY, STORE_LONGEST_DELAY) == 30  # no overflow
