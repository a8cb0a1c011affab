"""The terminal client as a host and beside one: the host key, the slash commands, the room's
log printed line by line, /export; through a real server and real sockets, then the pieces
(commands, the key's refusal, /clear, the prompt) with no server."""

import asyncio
import contextlib
import json
import os
import re
import sys
from collections.abc import AsyncIterator

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from servers import ROOT
from test_client import CLOCK, SAID, Terminal, running

from chat.client.__main__ import main
from chat.client.commands import CommandError, duration, parse
from chat.client.conversation import Conversation
from chat.client.format import HOST_BADGE
from chat.client.terminal import give_back, make_prompt, prompt_lines
from chat.config import Settings

KEY = "k" * 32
TEACHER, BOB = "\u2068teacher\u2069", "\u2068bob\u2069"  # as others print them: isolated


@pytest.fixture
def settings(tmp_path) -> Settings:
    """The shared test settings, with a known host key."""
    return Settings(db=tmp_path / "chat.db", history=5, max_text=100, rate=100, burst=1000,
                    host_key=KEY)


@pytest.fixture
def socket_url(http_server, http_port) -> str:
    """The test server's chat socket."""
    return f"ws://127.0.0.1:{http_port}/ws"


@contextlib.asynccontextmanager
async def host_first(teacher: Terminal, *others: Terminal) -> AsyncIterator[list]:
    """Run the host until the server names it one, then the others until each is welcomed;
    yield the others' runs."""
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(running(teacher))
        await teacher.next_line("hosts online: teacher")
        runs = [await stack.enter_async_context(running(other)) for other in others]
        for other in others:
            await other.next_line("connected")
        yield runs


def number(row: str) -> int:
    """Return the id a message's row shows (`#42`)."""
    found = re.search(r" #(\d+) ", row)
    assert found, row
    return int(found[1])


def never_shown(key: str, *terminals: Terminal) -> bool:
    """Say whether the key is in nothing these clients printed, to stdout or stderr."""
    return not any(key in line for terminal in terminals
                   for line in terminal.printed + terminal.reported)


@pytest.mark.gen_test(timeout=10)
async def test_a_host_deletes_pins_locks_and_sets_the_topic_and_another_client_sees_each(
        socket_url):
    """With --host-key the client is a host; each of its commands prints a line for the others,
    a host's messages carry the badge, and a newcomer is told the room's standing."""
    teacher = Terminal(socket_url, "teacher", host_key=KEY)
    bob = Terminal(socket_url, "bob")
    carol = Terminal(socket_url, "carol")
    async with running(teacher):
        assert await teacher.next_line("hosts") == "* hosts online: teacher"
        async with running(bob):
            assert f"{HOST_BADGE} {TEACHER}" in await bob.next_line("connected")
            bob.type("oops")
            oops = number(await teacher.next_line(f"{BOB}: oops"))
            teacher.type(f"/delete {oops}")
            assert await bob.next_line("deleted") == f"* message #{oops} was deleted by {TEACHER}"
            teacher.type("Homework: chapter 3")
            homework = await bob.next_line("Homework")
            assert re.fullmatch(rf"{CLOCK} \[host\] #\d+ {TEACHER}: Homework: chapter 3",
                                homework)
            pinned = f"{HOST_BADGE} #{number(homework)} {TEACHER}: Homework: chapter 3"
            teacher.type(f"/pin #{number(homework)}")
            assert await bob.next_line("pinned") == f"* pinned by {TEACHER}: {pinned}"
            teacher.type("/lock")
            assert await bob.next_line("locked") == (
                f"* the room was locked by {TEACHER}: only hosts may post")
            bob.type("can I?")
            assert await bob.next_line("^!") == (
                "! The room is locked: only hosts may post now. (locked)")
            teacher.type("/topic Week 2")
            assert await bob.next_line("topic") == f"* the topic was set by {TEACHER}: Week 2"
            teacher.type("/slow 1m")
            assert await bob.next_line("slow") == (
                f"* slow mode was set by {TEACHER}: one message every 60 s each")
        async with running(carol):
            await carol.next_line("connected")
            standing = [await carol.screen.get() for _ in range(4)]
    assert standing == [
        "* topic: Week 2",
        f"* pinned: {pinned}",
        "* the room is locked: only hosts may post",
        "* slow mode: one message every 60 s each",
    ]
    assert never_shown(KEY, teacher, bob, carol)


@pytest.mark.gen_test(timeout=10)
async def test_a_muted_clients_post_is_refused_readably_and_given_back(socket_url):
    """A muted person's message prints when the mute ends and comes back to be typed again;
    it is not left in the outbox. After /unmute it goes."""
    given_back: asyncio.Queue[str] = asyncio.Queue()
    teacher = Terminal(socket_url, "teacher", host_key=KEY)
    bob = Terminal(socket_url, "bob", give_back=given_back.put_nowait)
    async with host_first(teacher, bob):
        teacher.type("/mute bob 5m")
        mute = await bob.next_line("muted")
        assert re.fullmatch(rf"\* bob was muted by {TEACHER} until \d\d:\d\d", mute)
        bob.type("let me talk")
        refusal = await bob.next_line("^!")
        assert refusal == f"! A host muted you until {mute[-5:]}. (muted)"
        assert await given_back.get() == "let me talk"
        assert len(bob.chat.outbox) == 0
        teacher.type("/unmute bob")
        assert await bob.next_line("unmuted") == f"* bob was unmuted by {TEACHER}"
        bob.type("thanks")
        await teacher.next_line(f"{BOB}: thanks")


@pytest.mark.gen_test(timeout=10)
async def test_slow_mode_holds_a_message_and_sends_it_again_after_retry_after(socket_url):
    """A post too soon in slow mode says when it goes, is held for the retry_after the server
    gave, and then goes once, not given back."""
    pauses: asyncio.Queue[float] = asyncio.Queue()
    gate = asyncio.Event()  # the pause ends when the test says: slow mode is off by then

    async def wait_for_gate(seconds: float) -> None:
        pauses.put_nowait(seconds)
        await gate.wait()

    teacher = Terminal(socket_url, "teacher", host_key=KEY)
    bob = Terminal(socket_url, "bob", wait=wait_for_gate)
    async with host_first(teacher, bob):
        teacher.type("/slow 60")
        await bob.next_line("slow mode was set")
        bob.type("first")
        await teacher.next_line(f"{BOB}: first")
        await bob.chat.delivered()  # acknowledged too: the outbox holds only what comes next
        bob.type("second")
        assert re.fullmatch(r"! Slow mode: one message every 60 s per person\. "
                            r"Yours goes again in 60 s\. \(slow_mode\)", await bob.next_line("^!"))
        assert 59 < await pauses.get() <= 60
        assert len(bob.chat.outbox) == 1  # held, not given back
        teacher.type("/slow off")
        await bob.next_line("slow mode was turned off")
        gate.set()
        await teacher.next_line(f"{BOB}: second")
        await bob.chat.delivered()
        assert sum("second" in line for line in teacher.printed) == 1


@pytest.mark.gen_test(timeout=10)
async def test_export_writes_the_messages_and_a_wrong_key_is_refused_403(socket_url, tmp_path):
    """/export FILE.md saves the room's messages in Markdown (the key in a header); with a
    wrong key the server says 403, once refusing the key itself; without one it is not tried."""
    teacher = Terminal(socket_url, "teacher", host_key=KEY)
    impostor = Terminal(socket_url, "mallory", host_key="not" + KEY)
    nobody = Terminal(socket_url, "nobody")
    async with running(teacher), running(impostor), running(nobody):
        await teacher.next_line("hosts online: teacher")
        assert await impostor.next_line("^!") == "! That is not the host key. (forbidden)"
        await nobody.next_line("connected")
        teacher.type("hello from the host")
        await teacher.next_line("hello from the host")
        saved = tmp_path / "week 2.md"
        teacher.type(f"/export {saved}")
        assert await teacher.next_line("saved") == f"* saved the messages of #general to {saved}"
        transcript = saved.read_text()
        assert transcript.startswith("# #general: 1 messages")
        assert "`teacher`" in transcript and "    hello from the host" in transcript
        impostor.type(f"/export {tmp_path / 'stolen.txt'}")
        assert await impostor.next_line("export") == (
            "! The server refused the export: Only the host may export: send the host key in "
            "the X-Host-Key header (HTTP 403)")
        assert not (tmp_path / "stolen.txt").exists()
        nobody.type("/export notes.txt")
        assert (await nobody.next_line("^!")).startswith("! /export needs the host key")
    assert never_shown(KEY, teacher, impostor, nobody)
    assert never_shown("not" + KEY, impostor)


@pytest.mark.gen_test(timeout=10)
async def test_a_kicked_client_says_why_and_does_not_knock_again(socket_url):
    """Kicked (close code 4000), the client prints the host's reason and exits 1 instead of
    reconnecting into a refusal; the others read that it was put out."""
    teacher = Terminal(socket_url, "teacher", host_key=KEY)
    bob = Terminal(socket_url, "bob")
    async with host_first(teacher, bob) as [bob_runs]:
        teacher.type("/kick bob")
        assert re.fullmatch(rf"\* {BOB} was put out of the room by teacher until \d\d:\d\d",
                            await teacher.next_line("put out"))
        assert await bob_runs == 1
        assert await bob.next_report("^!") == (
            "! A host removed you from #general; you may come back in 5 minutes.")
        assert not any("reconnecting" in line for line in bob.reported)


@pytest.mark.gen_test(timeout=10)
async def test_bad_command_lines_are_refused_here_and_send_nothing(socket_url):
    """An unknown command, a missing argument or a bad duration prints why, and the server
    hears nothing: the next thing it answers is the line typed after them."""
    ada = Terminal(socket_url, "ada")
    async with running(ada):
        await ada.next_line("connected")
        for line in ("/shout hi", "/mute bob", "/mute bob 5 minutes", "/pin", "/lock now"):
            ada.type(line)
            assert (await ada.next_line("^!")).endswith("(usage)"), line
        ada.type("/mute nobody 5m")  # parses: the server says why not
        assert (await ada.next_line("^!")).endswith("(forbidden)")
        ada.type("//shrug")
        assert re.fullmatch(f"{SAID} ada: /shrug", await ada.next_line("shrug"))


async def read_until(stream: asyncio.StreamReader, text: str) -> bytes:
    """Read lines from a subprocess until one holds `text`; return all read."""
    read = b""
    while text.encode() not in (line := await stream.readline()):
        assert line, f"ended before {text!r}: {read.decode()}"
        read += line
    return read + line


@pytest.mark.gen_test(timeout=20)
async def test_the_command_takes_the_key_from_chat_host_key_and_never_prints_it(
        socket_url, tmp_path):
    """`CHAT_HOST_KEY=... python -m chat.client`: the key stays out of the command line, works
    (a /lock, an /export), and is in nothing the client prints."""
    environment = {**os.environ, "CHAT_HOST_KEY": KEY}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chat.client", socket_url, "--nick", "teacher", cwd=ROOT,
        env=environment, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        shown = await read_until(process.stdout, "hosts online: teacher")
        process.stdin.write(f"/lock\n/export {tmp_path / 'all.html'}\n".encode())
        shown += await read_until(process.stdout, "room was locked by teacher")
        shown += await read_until(process.stdout, "saved the messages")
        process.stdin.close()
        assert await process.wait() == 0
        shown += await process.stdout.read() + await process.stderr.read()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert (tmp_path / "all.html").read_text().startswith("<!doctype html>")
    assert KEY.encode() not in shown


def test_help_names_the_host_key_option(capsys):
    """--help names --host-key and the environment variable that keeps it out of `ps`."""
    with pytest.raises(SystemExit):
        main(["--help"])
    usage = capsys.readouterr().out
    assert "--host-key" in usage and "CHAT_HOST_KEY" in usage


# commands.py


@pytest.mark.parametrize(("typed", "seconds"), [
    ("30s", 30), ("5m", 300), ("1h", 3600), ("2d", 172_800), ("90", 90), ("5M", 300), ("0", 0),
])
def test_durations_are_seconds_minutes_hours_or_days(typed, seconds):
    """30s, 5m, 1h, 2d and a bare number of seconds each give their seconds."""
    assert duration(typed) == seconds


@pytest.mark.parametrize("typed", ["5x", "", "-5", "1.5h", "m", "5 m", "1h30m"])
def test_anything_else_is_not_a_duration(typed):
    """A unit that is not s, m, h or d, a sign, a fraction or a missing number is refused."""
    with pytest.raises(CommandError, match="not a duration"):
        duration(typed)


@pytest.mark.parametrize(("line", "frame"), [
    ("/delete 42", {"type": "delete", "target": 42}),
    ("/pin #7", {"type": "pin", "target": 7}),
    ("/mute bob 5m", {"type": "mute", "nick": "bob", "seconds": 300}),
    ("/mute big bob 30", {"type": "mute", "nick": "big bob", "seconds": 30}),  # spaces in names
    ("/unmute bob", {"type": "unmute", "nick": "bob"}),
    ("/kick bob", {"type": "kick", "nick": "bob"}),
    ("/ban bob", {"type": "ban", "nick": "bob"}),
    ("/ban bob 2d", {"type": "ban", "nick": "bob", "seconds": 172_800}),
    ("/unban bob", {"type": "unban", "nick": "bob"}),
    ("/lock", {"type": "lock"}),
    ("/unlock", {"type": "unlock"}),
    ("/slow 10", {"type": "slow", "seconds": 10}),
    ("/slow off", {"type": "slow", "seconds": 0}),
    ("/topic Week 2: sockets", {"type": "topic", "topic": "Week 2: sockets"}),
    ("/topic", {"type": "topic", "topic": ""}),
    ("/unpin", {"type": "unpin"}),
    ("/clear", {"type": "clear"}),
    ("/op bob", {"type": "op", "nick": "bob"}),
    ("/DEOP bob", {"type": "deop", "nick": "bob"}),
])
def test_each_command_line_becomes_its_frame(line, frame):
    """Each host command (and /delete) parses into the frame docs/protocol.md names."""
    parsed = parse(line)
    assert parsed is not None and parsed.frame == frame


@pytest.mark.parametrize(("line", "why"), [
    ("/shout hi", "There is no command /shout"),
    ("/delete", "Type a message's number after /delete"),
    ("/delete abc", "'abc' is not a message number"),
    ("/pin 0", "'0' is not a message number"),
    ("/mute", "Type a nickname and how long after /mute"),
    ("/mute bob", "Type how long after the nickname"),
    ("/mute 5m", "Type a nickname before how long"),
    ("/mute bob soon", "'soon' is not a duration"),
    ("/kick", "Type a nickname after /kick"),
    ("/slow", "Type the seconds between two posts after /slow"),
    ("/slow fast", "'fast' is not a duration"),
    ("/lock now", "/lock takes nothing after it"),
    ("/nick", "Type a nickname after /nick"),
    ("/export", "Type a file name after /export"),
    ("/export notes.pdf", "end the file name with .md, .txt or .html"),
])
def test_a_bad_command_line_says_what_is_wrong(line, why):
    """A missing argument, a bad number or duration, an unknown command: a sentence says which."""
    with pytest.raises(CommandError) as refused:
        parse(line)
    assert why in str(refused.value)


def test_lines_that_are_not_commands_are_messages():
    """A plain line, and one starting with //, are messages (// sends one starting with /)."""
    assert parse("hello") is None and parse(" /lock") is None and parse("//lock") is None
    local = parse("/export week.HTML")
    assert local is not None and local.frame is None and local.argument == "week.HTML"


# conversation.py and host.py, with nothing behind them


class Desk:
    """A Conversation as the host, connected to nothing: frames sent and rows printed are kept."""

    def __init__(self, host_key: str | None = KEY) -> None:
        self.sent: list[dict] = []
        self.printed: list[str] = []
        self.conversation = Conversation(
            "teacher", None, send=lambda frame: self.sent.append(json.loads(frame)),
            write=self.printed.append, width=lambda: None, pause=self.pause,
            all_answered=lambda: None, export=self.export, give_back=self.printed.append,
            host_key=host_key,
        )

    @staticmethod
    async def pause(seconds: float) -> None:
        """Never end: no test here waits for a re-send."""
        await asyncio.Event().wait()

    @staticmethod
    async def export(path: str, key: str, room: str) -> str:
        """Export nothing; say what was asked."""
        return f"* would save #{room} to {path}"

    def receive(self, **event: object) -> None:
        """Hand the conversation one frame from the server."""
        self.conversation.receive(json.dumps(event))

    def welcome(self, **standing: object) -> None:
        """Hand the conversation a welcome."""
        self.receive(type="welcome", room="general", nick="teacher", online=["teacher"],
                     history=[], **standing)


def test_the_key_goes_first_after_every_welcome_and_its_refusal_is_said_once():
    """After each welcome the host frame precedes the outbox; `forbidden` for it prints once,
    while a later command's `forbidden` still prints."""
    desk = Desk()
    desk.conversation.typed("typed while offline")
    desk.welcome()
    assert [frame["type"] for frame in desk.sent] == ["host", "message"]
    assert desk.sent[0] == {"type": "host", "key": KEY}
    desk.receive(type="error", code="forbidden", message="That is not the host key.")
    desk.conversation.disconnected()
    desk.welcome()
    assert desk.sent[2] == {"type": "host", "key": KEY}  # presented again
    desk.receive(type="error", code="forbidden", message="That is not the host key.")
    desk.conversation.typed("/lock")
    desk.receive(type="error", code="forbidden", message="Only a host may do that.")
    refusals = [line for line in desk.printed if line.startswith("!")]
    assert refusals == ["! That is not the host key. (forbidden)",
                        "! Only a host may do that. (forbidden)"]
    assert not any(KEY in line for line in desk.printed)


def test_without_a_key_nothing_is_presented_and_export_is_refused_here():
    """No key: no host frame, and /export says it needs one without trying."""
    desk = Desk(host_key=None)
    desk.welcome()
    desk.conversation.typed("/export notes.md")
    assert desk.sent == []
    assert desk.printed[-1].startswith("! /export needs the host key: start the client with")


def test_commands_typed_offline_are_not_kept_for_later():
    """A host command typed while disconnected prints that it was not sent, and never goes."""
    desk = Desk()
    desk.conversation.typed("/lock")
    desk.welcome()
    assert [frame["type"] for frame in desk.sent] == ["host"]
    assert desk.printed[0] == ("! Not connected: /lock was not sent; type it again once "
                               "reconnected. (offline)")


def test_clear_goes_only_when_typed_twice_in_a_row():
    """/clear asks first; /clear again at once sends it; anything between asks again."""
    desk = Desk()
    desk.welcome()
    desk.sent.clear()
    desk.conversation.typed("/clear")
    assert desk.sent == [] and "type /clear again to confirm" in desk.printed[-1]
    desk.conversation.typed("never mind")
    desk.conversation.typed("/clear")
    assert [frame["type"] for frame in desk.sent] == ["message"]
    desk.conversation.typed("/clear")
    assert desk.sent[-1] == {"type": "clear"}
    desk.conversation.typed("/clear")
    assert desk.sent[-1] == {"type": "clear"} and len(desk.sent) == 2  # a third asks again


def test_help_lists_every_command():
    """/help prints each command with how it is typed."""
    desk = Desk()
    desk.conversation.typed("/help")
    listed = "\n".join(desk.printed)
    for usage in ("/delete ID", "/mute NICK DURATION", "/ban NICK [DURATION]", "/slow SECONDS",
                  "/topic [TEXT]", "/pin ID", "/export FILE", "/op NICK", "/quit", "//TEXT"):
        assert usage in listed


# terminal.py


@pytest.mark.gen_test(timeout=5)
async def test_a_refused_message_comes_back_on_the_empty_prompt():
    """give_back puts the text on the prompt while it waits for a line, to edit and send; it
    never replaces what is being typed."""
    with create_pipe_input() as keys:
        prompt = make_prompt(own=lambda: "bob", others=list, input=keys, output=DummyOutput())
        lines: AsyncIterator[str] = prompt_lines(prompt)
        waiting = asyncio.Event()
        prompt.app.pre_run_callables.append(waiting.set)  # runs once the prompt is up
        reading = asyncio.ensure_future(anext(lines))
        await waiting.wait()
        give_back(prompt, "let me talk")
        keys.send_text(" please\r")
        assert await reading == "let me talk please"
        prompt.default_buffer.text = "half typed"
        give_back(prompt, "let me talk")
        assert prompt.default_buffer.text == "half typed"
        await lines.aclose()
