"""The terminal client's fenced code blocks: as rows (no server), then through a real server."""

import re

import pytest
from conftest import next_event, send
from test_client import BOB, SAID, Terminal, running

from chat.client import blocks
from chat.client.format import CONTINUATION, ELLIPSIS, NARROWEST, columns, message_lines

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
