"""The terminal client's modules one at a time, with no server: formatting, the outbox, who is
online, the conversation's frames, the room's log as lines, the prompt and the command line."""

import argparse
import asyncio
import io
import json
import os
import queue
import re
import signal
import sys
import threading
from urllib.parse import parse_qsl, urlsplit

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from chat.client.__main__ import socket_address
from chat.client.connection import chat_url
from chat.client.conversation import Conversation
from chat.client.delivery import MAX_FRAME
from chat.client.entries import entry_lines, standing_lines
from chat.client.format import (
    CONTINUATION,
    HOST_BADGE,
    NARROWEST,
    NOT_STORED,
    clock,
    columns,
    error_line,
    message_lines,
    moment,
    name,
    rows,
    visible,
    welcome_lines,
)
from chat.client.outbox import Outbox
from chat.client.roster import Roster
from chat.client.terminal import (
    NicknameCompleter,
    make_prompt,
    on_a_terminal,
    prompt_lines,
    read_lines,
)

# format.py


def test_every_hidden_character_prints_as_an_escape_and_a_tab_as_itself():
    """C0 and C1 controls, DEL, format characters beyond the BMP and separators are escaped;
    a tab and ordinary letters are not."""
    assert visible("\x00\x1b\x7f\x85") == r"\x00\x1b\x7f\x85"
    assert visible("\U000e0041\u2028") == r"\U000e0041\u2028"
    assert visible("a\té中") == "a\té中"


def test_wide_and_ambiguous_characters_count_two_columns():
    """Chinese, fullwidth and ambiguous-width characters count two, so rows never overflow."""
    assert columns("中Ａ±") == 6
    assert columns("abc") == 3


def test_through_a_pipe_rows_are_the_lines_with_the_marker():
    """With no width (a pipe) nothing is cut: each line after the first just gets the marker."""
    lines = [list("one " * 30), list("two")]
    assert rows(lines, None) == ["one " * 30, CONTINUATION + "two"]


def test_a_very_narrow_terminal_is_wrapped_as_if_it_were_20_columns():
    """Under NARROWEST columns, rows are cut at NARROWEST: the marker must still fit."""
    printed = rows([list("x" * 50)], 5)
    assert all(columns(row) <= NARROWEST for row in printed)
    assert all(row.startswith(CONTINUATION) for row in printed[1:])


def test_a_timestamp_no_calendar_holds_prints_dashes():
    """A time far beyond any calendar prints --:--; one that is not a number prints now."""
    assert clock(10**20) == "--:--"
    assert len(clock("soon")) == len(clock(True)) == 5


def test_errors_and_nicknames_are_escaped_and_only_others_isolated():
    """An error's message and code are escaped; our nickname prints bare, others' isolated."""
    assert error_line({"message": "\x1b[31mred", "code": "x\u202e"}) == r"! \x1b[31mred (x\u202e)"
    assert name("ada", own="ada") == "ada"
    assert name("bob", own="ada") == "\u2068bob\u2069"


def test_a_message_row_names_its_id_and_a_hosts_before_it():
    """A message's first row shows its id (#3) after the time; a host's shows HOST_BADGE
    before the id, where no nickname can put it, and hosts are badged in the online list."""
    [row] = message_lines({"id": 3, "nick": "bob", "text": "hi", "ts": 0, "host": True})
    assert row.endswith(f" {HOST_BADGE} #3 \u2068bob\u2069: hi")
    [plain] = message_lines({"id": 4, "nick": "[host] #4 bob", "text": "hi", "ts": 0})
    assert HOST_BADGE not in plain.split("#4", 1)[0]  # the nickname comes after the id
    welcome = {"nick": "ada", "online": ["teacher", "ada"], "hosts": ["teacher"]}
    assert welcome_lines(welcome, None)[0].endswith(
        f"online: {HOST_BADGE} \u2068teacher\u2069, ada")


def test_the_welcome_names_the_room_and_says_what_is_missing():
    """The welcome's lines name the room and everyone, and add one line for each flag."""
    event = {"room": "maths", "nick": "ada", "online": ["ada", "bob"], "reset": True,
             "truncated": True}
    first, reset, truncated = welcome_lines(event, None)
    assert first == "* connected to #maths as ada; online: ada, \u2068bob\u2069"
    assert "numbers start again" in reset and "missing" in truncated


# outbox.py


def test_refs_carry_the_outbox_prefix_and_a_count_and_frames_keep_the_text():
    """Each message gets prefix-N; its frame keeps non-ASCII text as it was typed."""
    outbox = Outbox("f00d")
    assert [outbox.add(text) for text in ("é", "b")] == ["f00d-1", "f00d-2"]
    assert '"é"' in outbox.frame("f00d-1")
    assert "f00d-1" in outbox and len(outbox) == 2


def test_a_held_message_refused_again_goes_first_again():
    """A re-sent message refused again is held again, and is the next one released."""
    outbox = Outbox("p")
    first, second = outbox.add("1"), outbox.add("2")
    outbox.hold(first)
    outbox.hold(second)
    assert outbox.release() == first
    outbox.hold(first)  # refused again while on its way
    assert outbox.release() == first


def test_settling_a_ref_that_is_not_waiting_changes_nothing():
    """An answer for a ref the outbox does not hold returns False and keeps the rest."""
    outbox = Outbox("p")
    ref = outbox.add("1")
    assert not outbox.settle("p-99")
    assert outbox.settle(ref) and not outbox.settle(ref)
    assert len(outbox) == 0 and not outbox.must_wait()


# roster.py


def test_the_roster_follows_welcome_join_leave_and_nick():
    """Who is online changes with each event; others() leaves us out and ignores case."""
    roster = Roster()
    roster.update({"type": "welcome", "online": ["ada", "Cy"]})
    roster.update({"type": "join", "nick": "bob"})
    roster.update({"type": "nick", "old": "Cy", "nick": "cyril"})
    roster.update({"type": "join", "nick": "Dee"})
    roster.update({"type": "leave", "nick": "bob"})
    assert roster.others("ada") == ["cyril", "Dee"]
    roster.update({"type": "welcome", "online": "not a list"})
    assert roster.others("ada") == []


# conversation.py


class Desk:
    """A Conversation with nothing behind it: frames it sends and rows it prints are kept, and
    each pause it asks for lasts until the test ends it."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.printed: list[str] = []
        self.pauses: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()
        self.answered = 0
        self.given_back: list[str] = []
        self.conversation = Conversation(
            "ada", None, send=lambda frame: self.sent.append(json.loads(frame)),
            write=self.printed.append, width=lambda: None, pause=self.pause,
            all_answered=self.all_answered, export=self.export,
            give_back=self.given_back.append,
        )

    @staticmethod
    async def export(path: str, key: str, room: str) -> str:
        """Export nothing; say what was asked."""
        return f"* would save #{room} to {path}"

    async def pause(self, seconds: float) -> None:
        """Wait until the test ends this pause."""
        ended = asyncio.get_running_loop().create_future()
        self.pauses.put_nowait(ended)
        await ended

    def all_answered(self) -> None:
        """Count the times the outbox emptied."""
        self.answered += 1

    def receive(self, **event: object) -> None:
        """Hand the conversation one frame from the server."""
        self.conversation.receive(json.dumps(event))

    def texts(self) -> list[str]:
        """Return the text of each message frame sent, in order."""
        return [frame["text"] for frame in self.sent if frame["type"] == "message"]


@pytest.mark.gen_test(timeout=5)
async def test_a_rate_limited_message_goes_again_before_the_ones_typed_after_it():
    """Refused for now, a message is held; what is typed next waits behind it; once the pause
    ends it goes again, and each ack lets the next one go."""
    desk = Desk()
    desk.receive(type="welcome", nick="ada", online=["ada"], history=[])
    desk.conversation.typed("one")
    [first] = desk.sent
    desk.receive(type="error", code="rate_limited", ref=first["ref"], retry_after=0.5)
    desk.conversation.typed("two")
    assert desk.texts() == ["one"]  # "two" waits its turn
    pause, retry = await desk.pauses.get(), desk.conversation.delivery.retry
    assert retry is not None
    pause.set_result(None)
    await retry  # the re-send, once the pause is over
    assert desk.texts() == ["one", "one"]
    desk.receive(type="ack", ref=first["ref"], id=1)
    assert desk.texts() == ["one", "one", "two"]
    desk.receive(type="ack", ref=desk.sent[-1]["ref"], id=2)
    assert desk.answered == 1 and desk.conversation.delivery.all_delivered.is_set()
    assert desk.printed == ["* connected to #general as ada; online: ada"]  # no error shown


@pytest.mark.gen_test(timeout=5)
async def test_a_message_the_server_cannot_store_goes_again_and_is_said_once():
    """`unavailable` holds a message and says so once; after each pause it goes again, until
    the ack; what was typed meanwhile waits behind it."""
    desk = Desk()
    desk.receive(type="welcome", nick="ada", online=["ada"], history=[])
    desk.conversation.typed("one")
    ref = desk.sent[0]["ref"]
    desk.receive(type="error", code="unavailable", ref=ref)
    desk.conversation.typed("two")
    for _ in range(2):  # refused again after the first re-send
        pause, retry = await desk.pauses.get(), desk.conversation.delivery.retry
        pause.set_result(None)
        await retry
        desk.receive(type="error", code="unavailable", ref=ref)
    assert desk.texts() == ["one", "one", "one"]
    assert desk.conversation.delivery.unstored == 3  # each pause longer than the last
    desk.receive(type="ack", ref=ref, id=1)
    pause, retry = await desk.pauses.get(), desk.conversation.delivery.retry
    pause.set_result(None)  # the pause the last refusal began: then the next one goes
    await retry
    assert desk.texts() == ["one", "one", "one", "two"]
    assert [line for line in desk.printed if line.startswith("!")] == [NOT_STORED]


def test_offline_lines_wait_for_the_welcome_and_go_in_order():
    """Typed while disconnected, lines are kept; the next welcome sends them all, oldest first."""
    desk = Desk()
    desk.conversation.typed("one")
    desk.conversation.typed("/nick ada2")
    desk.conversation.typed("two")
    assert desk.sent == []
    assert desk.conversation.nick == "ada2"  # asked for on the next connection
    desk.receive(type="welcome", nick="ada2", online=["ada2"], history=[])
    assert desk.texts() == ["one", "two"]
    desk.conversation.disconnected()
    desk.conversation.typed("three")
    assert desk.texts() == ["one", "two"]


def test_a_line_too_big_for_one_frame_is_refused_here():
    """A line whose frame the server would hang up on prints an error and is not kept."""
    desk = Desk()
    desk.receive(type="welcome", nick="ada", online=["ada"], history=[])
    desk.conversation.typed("x" * MAX_FRAME)
    assert desk.sent == [] and len(desk.conversation.delivery.outbox) == 0
    assert desk.printed[-1].endswith("(too_long)")


def test_quit_and_blank_lines_send_nothing():
    """/quit asks to leave; a blank line is ignored, not sent as an empty message."""
    desk = Desk()
    assert desk.conversation.typed("   \r\n")
    assert not desk.conversation.typed("/quit")
    assert len(desk.conversation.delivery.outbox) == 0


def test_the_conversation_offers_everyone_else_to_complete():
    """others() follows the room's events and leaves out our nickname, even after /nick."""
    desk = Desk()
    desk.receive(type="welcome", nick="ada", online=["ada", "bob"], history=[])
    desk.receive(type="join", nick="cy")
    desk.receive(type="nick", old="ada", nick="ada2")
    assert desk.conversation.others() == ["bob", "cy"]


# entries.py


ENTRY = {"room": "general", "id": 9, "by": "teacher", "ts": 0}
TEACHER, BOB = "\u2068teacher\u2069", "\u2068bob\u2069"  # as others print them: isolated


@pytest.mark.parametrize(("kind", "fields", "line"), [
    ("delete", {"target": 42}, f"* message #42 was deleted by {TEACHER}"),
    ("mute", {"nick": "bob", "until": 0}, f"* {BOB} was muted by {TEACHER}"),
    ("unmute", {"nick": "bob"}, f"* {BOB} was unmuted by {TEACHER}"),
    ("ban", {"nick": "bob", "until": 0}, f"* {BOB} was banned by {TEACHER}"),
    ("unban", {"nick": "bob"}, f"* {BOB} was unbanned by {TEACHER}"),
    ("op", {"nick": "bob"}, f"* {BOB} was made a host by {TEACHER}"),
    ("deop", {"nick": "bob"}, f"* {BOB}'s host powers were taken back by {TEACHER}"),
    ("lock", {}, f"* the room was locked by {TEACHER}: only hosts may post"),
    ("unlock", {}, f"* the room was unlocked by {TEACHER}: everyone may post"),
    ("clear", {}, f"* the room was cleared by {TEACHER}: what came before is gone for newcomers"),
    ("unpin", {}, f"* the pinned message was taken down by {TEACHER}"),
    ("slow", {"seconds": 0}, f"* slow mode was turned off by {TEACHER}"),
    ("topic", {"topic": ""}, f"* the topic was cleared by {TEACHER}"),
    ("topic", {"topic": "\x1b[2Jhi"}, f"* the topic was set by {TEACHER}: \\x1b[2Jhi"),
])
def test_every_kind_of_entry_prints_a_readable_line(kind, fields, line):
    """Each entry kind of the room's log is one line naming what happened and who did it;
    what people typed (a topic) is escaped."""
    assert entry_lines({"type": kind, **ENTRY, **fields}, "ada", None) == [line]


def test_a_kick_and_a_timed_ban_say_until_when():
    """A kick, a mute and a ban with an end name it: HH:MM today, with the day otherwise."""
    soon = 1764100300000
    [kick] = entry_lines({"type": "kick", **ENTRY, "nick": "ada", "until": soon}, "ada", None)
    assert kick == f"* ada was put out of the room by {TEACHER} until {moment(soon)}"
    assert re.fullmatch(r"\w{3} \d\d \w{3} \d\d:\d\d", moment(soon))  # 2025: not today
    assert moment("later") == "?"


def test_a_pin_shows_the_message_and_a_newer_kind_shows_nothing():
    """A pin prints the pinned message after a marker, its later lines as continuations; an
    entry kind this client does not know prints nothing."""
    message = {"type": "message", "id": 3, "nick": "bob", "text": "one\ntwo", "host": True}
    pin = entry_lines({"type": "pin", **ENTRY, "message": message}, "ada", None)
    assert pin == [f"* pinned by {TEACHER}: {HOST_BADGE} #3 {BOB}: one", "      │ two"]
    assert entry_lines({"type": "reaction", **ENTRY}, "ada", None) == []


def test_an_unknown_entry_still_moves_since_on():
    """An entry of a kind the client does not know prints nothing but counts for `since`."""
    desk = Desk()
    desk.receive(type="welcome", nick="ada", online=["ada"], history=[])
    desk.receive(type="reaction", room="general", id=12, emoji="👍", ts=0)
    assert desk.conversation.last_id == 12 and desk.printed[-1].startswith("* connected")


def test_the_hosts_event_says_who_hosts_the_room_now():
    """A `hosts` event prints the hosts online, or that there is none."""
    desk = Desk()
    desk.receive(type="hosts", hosts=["teacher", "ada"])
    desk.receive(type="hosts", hosts=[])
    assert desk.printed == [f"* hosts online: {TEACHER}, ada", "* no host is online"]


def test_the_welcome_tells_the_rooms_standing():
    """Topic, pin, lock, slow mode and who is muted print after the welcome line."""
    pin = {"type": "message", "id": 3, "nick": "teacher", "text": "read this", "ts": 0}
    lines = standing_lines({"nick": "ada", "topic": "Week 2", "pin": pin, "locked": True,
                            "slow": 10, "muted": {"bob": 0}}, None)
    assert lines == ["* topic: Week 2", f"* pinned: #3 {TEACHER}: read this",
                     "* the room is locked: only hosts may post",
                     "* slow mode: one message every 10 s each", f"* muted: {BOB}"]
    assert standing_lines({"nick": "ada", "topic": "", "pin": None, "locked": False,
                           "slow": 0, "muted": {}}, None) == []


# terminal.py


def completions(nicknames: list[str], typed: str) -> list[str]:
    """Return what Tab offers after `typed`."""
    completer = NicknameCompleter(lambda: nicknames)
    return [completion.text for completion in
            completer.get_completions(Document(typed), CompleteEvent(completion_requested=True))]


def test_tab_completes_the_word_being_typed_to_a_nickname_whatever_its_case():
    """The word before the cursor (hyphens included) completes to each nickname it starts."""
    nicknames = ["bob", "Bea", "ada-2", "cy"]
    assert completions(nicknames, "hi b") == ["bob", "Bea"]
    assert completions(nicknames, "ada-") == ["ada-2"]
    assert completions(nicknames, "hi ") == []


@pytest.mark.gen_test(timeout=5)
async def test_the_prompt_completes_recalls_and_ends_at_ctrl_d():
    """Through the real prompt: Tab completes a nickname, Up recalls an earlier line, Ctrl+D
    ends the lines."""
    with create_pipe_input() as keys:
        prompt = make_prompt(own=lambda: "ada", others=lambda: ["bob", "carl"], input=keys,
                             output=DummyOutput())
        after = iter(["yo B\t!\r", "\x1b[A\x1b[A\r", "\x04"])  # each typed once a line is in
        keys.send_text("hi ca\t\r")
        lines = []
        async for line in prompt_lines(prompt):
            lines.append(line)
            keys.send_text(next(after))
    assert lines == ["hi carl", "yo bob!", "hi carl"]


@pytest.mark.gen_test(timeout=5)
async def test_ctrl_c_at_the_prompt_is_the_interrupt_signal():
    """The prompt reads Ctrl+C as a key; it reaches the program as SIGINT, as it would have."""
    loop = asyncio.get_running_loop()
    interrupted = asyncio.Event()
    loop.add_signal_handler(signal.SIGINT, interrupted.set)
    try:
        with create_pipe_input() as keys:
            prompt = make_prompt(own=lambda: "ada", others=list, input=keys, output=DummyOutput())
            lines = prompt_lines(prompt)
            keys.send_text("half typed\x03")
            reading = asyncio.ensure_future(anext(lines))
            await interrupted.wait()
            keys.send_text("next\r")  # the prompt goes on until the program leaves
            assert await reading == "next"
            await lines.aclose()
    finally:
        loop.remove_signal_handler(signal.SIGINT)


class Stream(io.StringIO):
    """A standard stream that is, or is not, a terminal."""

    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        """Say whether this stream is a terminal."""
        return self.terminal


@pytest.mark.parametrize(("stdin", "stdout", "term", "prompt"), [
    (True, True, "xterm-256color", True),
    (True, True, "dumb", False),  # Emacs's shell: it cannot draw the prompt again
    (False, True, "xterm", False),  # piped in
    (True, False, "xterm", False),  # piped out
])
def test_the_prompt_is_used_only_at_a_terminal_that_can_draw_it(monkeypatch, stdin, stdout, term,
                                                                 prompt):
    """The prompt needs stdin and stdout both a terminal, and not a dumb one; else plain lines."""
    monkeypatch.setattr(sys, "stdin", Stream(stdin))
    monkeypatch.setattr(sys, "stdout", Stream(stdout))
    monkeypatch.setenv("TERM", term)
    assert on_a_terminal() is prompt


def test_lines_from_a_pipe_are_split_and_decoded_whatever_the_chunks():
    """Lines come whole even when a read ends inside one, and inside a UTF-8 character; the end
    of the input delivers what is left, then None."""
    reading, writing = os.pipe()
    got: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=read_lines, args=(reading, "utf-8", got.put))
    reader.start()
    try:
        os.write(writing, b"one\ntwo \xc3")  # ends inside "two" and inside the é
        assert got.get(timeout=5) == "one"  # so that read ended there
        os.write(writing, b"\xa9\r\nthree")
    finally:
        os.close(writing)
        reader.join(timeout=5)
        os.close(reading)
    assert [got.get_nowait() for _ in range(3)] == ["two é\r", "three", None]


# connection.py and __main__.py


def test_the_socket_url_carries_nick_session_room_and_since():
    """chat_url keeps the address's own query and adds what this connection needs."""
    url = chat_url("ws://h:3000/ws?x=1", "ada", "secret", "maths", 41)
    query = dict(parse_qsl(urlsplit(url).query))
    assert query == {"x": "1", "nick": "ada", "session": "secret", "room": "maths", "since": "41"}
    assert "since" not in chat_url("ws://h/ws", None, "s", None, None)


def test_the_address_the_server_printed_becomes_its_socket():
    """http(s):// becomes ws(s):// with /ws; anything that is not a chat address is refused."""
    assert socket_address("http://192.168.1.23:3000") == "ws://192.168.1.23:3000/ws"
    assert socket_address("https://chat.example/") == "wss://chat.example/ws"
    assert socket_address("ws://h:1/other") == "ws://h:1/other"
    for wrong in ("ftp://h", "192.168.1.23:3000", "http://"):
        with pytest.raises(argparse.ArgumentTypeError):
            socket_address(wrong)
