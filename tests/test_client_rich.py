"""The terminal client's rich messages: fenced code blocks, replies, edits, reactions and
files, as rows (no server), and /reply, /edit and /react as frames; then code blocks through
a real server (the only one of these main's server already carries)."""

import re

import pytest
from conftest import next_event, send
from test_client import BOB, SAID, Terminal, running
from test_client_parts import Desk

from chat.client import blocks, commands
from chat.client.commands import CommandError
from chat.client.entries import entry_lines
from chat.client.export import origin
from chat.client.format import CONTINUATION, ELLIPSIS, NARROWEST, columns, message_lines
from chat.client.reactions import emoji
from chat.client.rich import file_line, message_rows

CODE, LABEL = CONTINUATION + "    ", CONTINUATION + "  "  # a code line's start, a heading's


def said(text: str, width: int | None = None) -> list[str]:
    """Return the rows of bob's message #3 with this text, without its time."""
    event = {"type": "message", "id": 3, "nick": "bob", "text": text, "ts": 0}
    first, *rest = message_lines(event, "ada", width)
    return [first.split(" ", 1)[1], *rest]


# code blocks


def test_a_fenced_block_is_indented_under_its_language_and_its_fences_dropped():
    """```python ... ``` prints `python:` once, then each line indented, verbatim (spaces,
    Markdown and inline `code` untouched); the text around it prints as before."""
    text = "look:\n```python\ndef f(x):\n    return `x` * 2  # **not bold**\n```\nand `this`"
    assert said(text) == [f"#3 {BOB}: look:", f"{LABEL}python:", f"{CODE}def f(x):",
                          f"{CODE}    return `x` * 2  # **not bold**",
                          f"{CONTINUATION}and `this`"]


def test_tilde_fences_and_blocks_with_no_language_say_code():
    """~~~ fences a block too; with no language in its info string the heading says `code:`."""
    assert said("~~~\nx = 1\n~~~") == [f"#3 {BOB}:", f"{LABEL}code:", f"{CODE}x = 1"]
    assert said("```  js  extra words\n1\n```")[1] == f"{LABEL}js:"


def test_an_escape_sequence_inside_a_code_block_is_neutralised():
    """ESC, bidi overrides and other controls in code print as escapes, like any text: code
    cannot clear the screen, move the cursor, colour the terminal or reorder the line."""
    printed = said("```\n\x1b[2J\x1b[31mred\x9b\u202eevil\x07\n```", width=80)
    assert printed[-1] == CODE + r"\x1b[2J\x1b[31mred\x9b\u202eevil\x07"
    assert not any(re.search("[\x00-\x1f\x7f-\x9f\u202e]", row) for row in printed)


def test_a_long_code_line_is_cut_to_the_terminal_not_wrapped_and_whole_through_a_pipe():
    """At a terminal a code line too wide ends in an ellipsis at its edge (wrapped, its rest
    would start at the left edge, like a message); a pipe gets it whole."""
    line = "x = " + "1" * 100
    [*_, cut] = said(f"```\n{line}\n```", width=40)
    assert cut.startswith(CODE) and cut.endswith(ELLIPSIS) and columns(cut) <= 40
    assert cut[len(CODE):-1] == line[:len(cut) - len(CODE) - 1]
    assert said(f"```\n{line}\n```")[-1] == CODE + line
    narrow = said(f"```\n{line}\n```", width=5)  # cut as if NARROWEST wide
    assert columns(narrow[-1]) <= NARROWEST and narrow[-1].startswith(CODE)


def test_tabs_in_code_line_up_from_the_codes_own_first_column():
    """At a terminal a tab in code becomes spaces to the next stop of 8, counted from where
    the code starts, so its columns line up."""
    assert said("```\na\tb\n\tc\n```", width=60)[-2:] == [CODE + "a       b", CODE + "        c"]


def test_what_is_not_a_fence_stays_text_and_an_open_block_runs_to_the_end():
    """A backtick fence with a backtick after it is inline code, a fence indented four spaces
    is not one; a shorter fence does not close a longer one, and an unclosed block runs on."""
    assert blocks.lines("```a`b```") == [("text", "```a`b```")]
    assert blocks.lines("    ```") == [("text", "    ```")]
    assert blocks.lines("````\n```\nx") == [("label", "code:"), ("code", "```"), ("code", "x")]
    assert blocks.lines("  ```\n    y\n z\n```") == [("label", "code:"), ("code", "  y"),
                                                    ("code", "z")]  # the fence's indent comes off


def test_every_row_but_the_first_starts_with_the_marker_whatever_the_block():
    """However code and text mix, and however narrow the terminal, no row after the first can
    pass for a message of its own."""
    text = "```py\n" + "09:00 #9 teacher: " * 9 + "\n```\n" + "word " * 40 + "\n~~~\n\n~~~"
    for width in (None, 20, 33, 80):
        assert all(row.startswith(CONTINUATION) for row in said(text, width)[1:])


# replies, files, edits, reactions: as rows

REPLY = {"type": "message", "room": "general", "id": 43, "nick": "ada", "text": "yes", "ts": 0}


def test_a_reply_prints_the_quote_above_it_on_one_escaped_line():
    """A reply's quote is a row of its own above it: `  ↪ #42 bob: ...`, its newlines folded
    and its controls escaped; a blanked quote (its message deleted) says so."""
    rows = message_rows({**REPLY, "reply": {"id": 42, "nick": "bob", "text": "line 3\n\x1b[H?"}},
                        "ada", None)
    assert rows[0] == f"  ↪ #42 {BOB}: line 3 \\x1b[H?"
    assert re.fullmatch(r"\d\d:\d\d #43 ada: yes", rows[1])
    gone = message_rows({**REPLY, "reply": {"id": 42, "nick": "", "text": ""}}, "ada", None)
    assert gone[0] == "  ↪ #42 (deleted message)"


FILE = {"url": "/uploads/abc/photo%20one.png", "name": "photo one.png", "size": 48213,
        "type": "image/png", "image": True}


def test_a_file_prints_its_name_size_and_absolute_link_after_the_caption():
    """A message's file is a row after its text: `📎 name (size) [image] http://HOST:PORT/...`,
    the link made absolute from the server we connected to."""
    rows = message_rows({**REPLY, "text": "the board", "file": FILE}, "ada", None,
                        "http://192.168.1.23:3000")
    assert rows[1] == (f"{CONTINUATION}📎 photo one.png (47.1 KB) [image] "
                       "http://192.168.1.23:3000/uploads/abc/photo%20one.png")
    [alone] = message_rows({**REPLY, "text": "", "file": {**FILE, "image": False}}, "ada",
                           None, "http://h:1")
    assert alone.endswith(" ada: 📎 photo one.png (47.1 KB) http://h:1/uploads/abc/photo%20one.png")


def test_a_files_name_and_address_cannot_drive_the_terminal_or_point_elsewhere():
    """The name is escaped like any text; a URL that is not a path on our server gets no link,
    and a space or a control in a path stays percent-encoded."""
    line = file_line({"url": "//evil.example/x", "name": "\x1b]0;pwned\x07.txt", "size": 3},
                     "http://h:1")
    assert line == "📎 \\x1b]0;pwned\\x07.txt (3 B)"
    assert file_line({"url": "/uploads/a/b c\x1b", "size": 5 << 20}, "http://h:1") == (
        "📎 file (5.0 MB) http://h:1/uploads/a/b%20c%1B")


def test_the_files_origin_is_the_servers_http_address():
    """ws:// becomes http://, wss:// https://, with the host and port kept and the path gone."""
    assert origin("ws://192.168.1.23:3000/ws?nick=ada") == "http://192.168.1.23:3000"
    assert origin("wss://chat.example/sub/ws") == "https://chat.example"


def test_an_edit_and_a_reaction_each_print_a_line_naming_the_message():
    """`* bob edited #42: text`; `* bob reacted 👍 to #42`; `* bob took back 👍 on #42`."""
    entry = {"room": "general", "id": 50, "nick": "bob", "target": 42, "ts": 0}
    assert entry_lines({"type": "edit", **entry, "text": "fixed\n\x1b[2J"}, "ada", None) == [
        f"* {BOB} edited #42: fixed", f"{CONTINUATION}\\x1b[2J"]
    react = {"type": "react", **entry, "emoji": "👍"}
    assert entry_lines({**react, "on": True}, "ada", None) == [f"* {BOB} reacted 👍 to #42"]
    assert entry_lines({**react, "on": False}, "ada", None) == [f"* {BOB} took back 👍 on #42"]


# /reply, /edit, /react through the conversation


def welcomed(desk: Desk, *history: dict) -> None:
    """Welcome ada to a room whose history holds these entries."""
    desk.receive(type="welcome", nick="ada", online=["ada", "bob"], history=list(history))


def entry(kind: str, entry_id: int, **fields: object) -> dict:
    """Return an entry of the room's log."""
    return {"type": kind, "room": "general", "id": entry_id, **fields, "ts": 0}


def test_reply_and_edit_go_with_a_ref_through_the_outbox_until_acknowledged():
    """/reply 42 TEXT sends a message with `reply`, /edit 42 TEXT an edit, each with a ref of
    the outbox; the ack answers for it."""
    desk = Desk()
    welcomed(desk)
    desk.conversation.typed("/reply #42 yes, line 3")
    desk.conversation.typed("/edit 43   fixed it ")
    reply, edit = desk.sent
    assert reply == {"type": "message", "text": "yes, line 3", "reply": 42, "ref": reply["ref"]}
    assert edit == {"type": "edit", "target": 43, "text": "fixed it", "ref": edit["ref"]}
    assert len(desk.conversation.delivery.outbox) == 2
    for number, frame in enumerate(desk.sent, 44):
        desk.receive(type="ack", ref=frame["ref"], id=number)
    assert len(desk.conversation.delivery.outbox) == 0


def test_react_sends_the_opposite_of_what_the_room_shows_for_us():
    """/react folds the room's reactions: ours not there, it adds (on); there, it takes back."""
    desk = Desk()
    welcomed(desk, entry("message", 42, nick="bob", text="hi"),
             entry("react", 43, target=42, nick="bob", emoji="👍", on=True))
    desk.conversation.typed("/react 42 +1")
    assert desk.sent[-1] | {"ref": None} == {"type": "react", "target": 42, "emoji": "👍",
                                             "on": True, "ref": None}
    desk.receive(**entry("react", 44, target=42, nick="ada", emoji="👍", on=True))
    desk.conversation.typed("/react 42 :thumbsup:")
    assert desk.sent[-1]["on"] is False
    desk.conversation.typed("/react 42 heart")  # another emoji: a set of its own
    assert (desk.sent[-1]["emoji"], desk.sent[-1]["on"]) == ("❤️", True)
    desk.receive(**entry("react", 45, target=42, nick="ada", emoji="👍", on=False))
    desk.conversation.typed("/react 42 👍")
    assert desk.sent[-1]["on"] is True
    assert desk.printed[-2:] == ["* ada reacted 👍 to #42", "* ada took back 👍 on #42"]


def test_entries_about_messages_not_held_or_changing_nothing_print_nothing():
    """An edit or reaction about a message we never had is skipped (its id still counts); a
    reaction that changes no set, too; a deleted message's reactions are forgotten."""
    desk = Desk()
    welcomed(desk, entry("message", 42, nick="bob", text="hi"))
    start = len(desk.printed)
    desk.receive(**entry("edit", 43, target=7, nick="bob", text="old one"))
    desk.receive(**entry("react", 44, target=7, nick="bob", emoji="👀", on=True))
    desk.receive(**entry("react", 45, target=42, nick="bob", emoji="👀", on=False))
    assert desk.printed[start:] == [] and desk.conversation.last_id == 45
    desk.receive(**entry("react", 46, target=42, nick="ada", emoji="👀", on=True))
    desk.receive(**entry("delete", 47, target=42, by="bob"))
    desk.conversation.typed("/react 42 eyes")
    assert desk.sent[-1]["on"] is True  # 42 is gone: nothing of ours stands on it


def test_a_refused_edit_is_given_back_as_the_command_that_sent_it():
    """An edit refused for good (too_late) prints the error and gives `/edit 42 text` back to
    type again; a refused //message comes back with its two slashes."""
    desk = Desk()
    welcomed(desk)
    desk.conversation.typed("/edit 42 fixed")
    desk.conversation.typed("//shrug")
    for frame in desk.sent:
        desk.receive(type="error", code="too_late", message="Too late.", ref=frame["ref"])
    assert desk.given_back == ["/edit 42 fixed", "//shrug"]
    assert desk.printed[-1] == "! Too late. (too_late)"


@pytest.mark.parametrize(("line", "why"), [
    ("/reply 42", "Type your answer after the message's number, e.g. /reply 42 yes, line 3."),
    ("/edit", "Type a message's number and the new text after /edit, e.g. /edit 42 fixed."),
    ("/edit x fixed", "'x' is not a message number"),
    ("/react 42 🍕", "'🍕' is not a reaction: use one of 👍 (+1), ❤️ (heart), 😂 (joy), 🎉 (tada), "
                    "🤔 (thinking), 👀 (eyes)."),
])
def test_bad_reply_edit_and_react_lines_say_why_and_send_nothing(line, why):
    """A /reply, /edit or /react that does not parse explains itself before anything goes."""
    with pytest.raises(CommandError, match=re.escape(why)):
        commands.parse(line)


def test_reactions_are_typed_as_themselves_or_by_name():
    """Each of the six answers to its emoji and its names (+1, heart, joy, tada, thinking,
    eyes); the bare heart gets its variation selector; anything else is none."""
    assert [emoji(word) for word in ("+1", "HEART", "❤", ":joy:", "tada", "thinking", "eyes")] == [
        "👍", "❤️", "❤️", "😂", "🎉", "🤔", "👀"]
    assert emoji("👎") is None and emoji("::") is None


def test_help_lists_reply_edit_and_react():
    """/help shows how to type the new commands, and the reactions there are."""
    shown = "\n".join(commands.help_lines())
    for usage in ("/reply ID TEXT", "/edit ID TEXT", "/react ID EMOJI", "👀 (eyes)"):
        assert usage in shown


# through a real server


@pytest.mark.gen_test(timeout=10)
async def test_a_code_block_sent_through_the_server_prints_indented(connect, http_port):
    """bob's message with a fenced block reaches the client as `python:` and indented lines,
    its escape sequence neutralised; the text after it prints as text."""
    bob, _ = await connect("bob")
    terminal = Terminal(f"ws://127.0.0.1:{http_port}/ws", "ada", width=lambda: 60)
    async with running(terminal):
        await terminal.next_line("connected")
        await send(bob, {"type": "message", "text": "see:\n```python\nif x:\n\tprint('\x1b[2J')"
                                                    "\n```\nok"})
        assert re.fullmatch(f"{SAID} {BOB}: see:", await terminal.next_line("see:"))
        assert [await terminal.screen.get() for _ in range(4)] == [
            f"{LABEL}python:", f"{CODE}if x:", f"{CODE}        print('\\x1b[2J')",
            f"{CONTINUATION}ok"]


@pytest.mark.gen_test(timeout=10)
async def test_the_code_block_in_history_prints_the_same_as_live(connect, http_port):
    """A message with a code block in the welcome's history, and the one ada sends herself,
    print as blocks too; long code lines are cut to the terminal."""
    bob, _ = await connect("bob")
    await send(bob, {"type": "message", "text": "~~~\n" + "y" * 80 + "\n~~~"})
    await next_event(bob, "message")
    terminal = Terminal(f"ws://127.0.0.1:{http_port}/ws", "ada", width=lambda: 40)
    async with running(terminal):
        assert re.fullmatch(f"{SAID} {BOB}:", await terminal.next_line(f"^{SAID} {BOB}"))
        assert await terminal.screen.get() == f"{LABEL}code:"
        cut = await terminal.screen.get()
        assert cut.startswith(CODE + "y") and cut.endswith(ELLIPSIS) and columns(cut) <= 40
        terminal.type("```sh")  # one typed line: an open block runs to the end of the message
        assert (await next_event(bob, "message"))["text"] == "```sh"
        assert re.fullmatch(f"{SAID} ada:", await terminal.next_line("ada:"))
        assert await terminal.screen.get() == f"{LABEL}sh:"
