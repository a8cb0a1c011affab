"""The terminal itself: the lines a person types, and where the chat's rows go.

At a terminal (stdin and stdout both one, and not a dumb one), prompt_toolkit
reads what you type on the bottom line, with line editing, the history of this
session (Up, Down) and Tab to complete the nickname of someone online; a row
that arrives meanwhile is printed above it (above_the_prompt) and the
half-typed line is drawn again below; a message the server refused comes back
on it (give_back). Otherwise (pipes, a script, a test, a
dumb terminal) lines are read from stdin by a thread, so the loop never waits
on the keyboard, exactly as typed.
Rows go to stdout, cut to its width when it is a terminal; trouble with the
connection goes to stderr.
"""

import asyncio
import codecs
import contextlib
import os
import shutil
import signal
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, TextIO, cast

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.patch_stdout import StdoutProxy
from prompt_toolkit.shortcuts import CompleteStyle
from prompt_toolkit.utils import is_dumb_terminal

from chat.client.format import visible


def on_a_terminal() -> bool:
    """Say whether someone types at a terminal that also shows the chat: then use the prompt.

    Not on a dumb one (TERM=dumb, e.g. Emacs's shell): it cannot draw the prompt again, and
    it edits lines itself.
    """
    return sys.stdin.isatty() and sys.stdout.isatty() and not is_dumb_terminal()


class NicknameCompleter(Completer):
    """Complete the word before the cursor to the nickname of someone online."""

    def __init__(self, nicknames: Callable[[], Iterable[str]]) -> None:
        self.nicknames = nicknames  # asked at each Tab: people come and go

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        """Yield each nickname that starts with the word being typed, whatever its case."""
        word = document.get_word_before_cursor(WORD=True)  # WORD: "ada-2" is one word
        if not word:
            return
        for nick in self.nicknames():
            if nick.casefold().startswith(word.casefold()):
                yield Completion(nick, start_position=-len(word), display=visible(nick))


def make_prompt(
    own: Callable[[], str | None], others: Callable[[], Iterable[str]], **streams: Any
) -> PromptSession[str]:
    """Return the prompt `ada> `: line editing, this session's history, Tab for nicknames.

    `streams` (input=, output=) are for tests; by default it is the terminal.
    """
    return PromptSession(
        message=lambda: f"{visible(own() or '')}> ",  # asked at each redraw: /nick changes it
        completer=NicknameCompleter(others),
        complete_while_typing=False,  # on Tab only
        complete_style=CompleteStyle.READLINE_LIKE,  # completes in place: no menu to make room for
        **streams,
    )


def give_back(prompt: PromptSession[str], text: str) -> None:
    """Put a message the server refused back on the prompt, to edit and send again; never over
    what is being typed."""
    if not prompt.default_buffer.text:
        prompt.default_buffer.set_document(Document(text))  # the cursor at its end
        if prompt.app.is_running:
            prompt.app.invalidate()


async def prompt_lines(prompt: PromptSession[str]) -> AsyncIterator[str]:
    """Yield each line entered at the prompt, until Ctrl+D on an empty line."""
    while True:
        try:
            # handle_sigint=False: prompt_toolkit would take over the SIGINT handler that
            # __main__.py set, and remove it on returning.
            line = await prompt.prompt_async(handle_sigint=False)
        except EOFError:
            return
        except KeyboardInterrupt:
            # The prompt reads Ctrl+C as a key (the terminal is in raw mode): pass it on as the
            # signal it would have been, so it means what it means everywhere else.
            signal.raise_signal(signal.SIGINT)
            continue
        yield line


@contextlib.contextmanager
def above_the_prompt() -> Iterator[None]:
    """Print what goes to stdout above the prompt, which is then drawn again; stderr too,
    unless it goes somewhere else than the terminal (`2>trouble.log` still works)."""
    with StdoutProxy() as proxy, contextlib.redirect_stdout(cast(TextIO, proxy)):
        if not sys.stderr.isatty():
            yield
            return
        with contextlib.redirect_stderr(cast(TextIO, proxy)):
            yield


def read_lines(fd: int, encoding: str, deliver: Callable[[str | None], None]) -> None:
    """Read lines from a file descriptor, passing each to `deliver`, then None at the end.

    `os.read` rather than `sys.stdin`: a thread blocked inside sys.stdin holds
    its lock, and the interpreter cannot then shut down cleanly.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    pending = ""
    with contextlib.suppress(OSError):  # the terminal went away: the end of the input too
        while chunk := os.read(fd, 65536):
            *lines, pending = (pending + decoder.decode(chunk)).split("\n")
            for line in lines:
                deliver(line)
    pending += decoder.decode(b"", final=True)
    if pending:
        deliver(pending)
    deliver(None)


async def stdin_lines() -> AsyncIterator[str]:
    """Yield the lines typed on stdin, read by a thread so the loop never waits on the keyboard."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def deliver(line: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: we are exiting anyway
            loop.call_soon_threadsafe(lines.put_nowait, line)

    reader = threading.Thread(
        target=read_lines, args=(sys.stdin.fileno(), sys.stdin.encoding or "utf-8", deliver),
        name="stdin", daemon=True,  # a daemon: the program may exit while it waits for a key
    )
    reader.start()
    while (line := await lines.get()) is not None:
        yield line


def terminal_width() -> int | None:
    """Return stdout's width in columns if it is a terminal; None for a pipe or a file."""
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def print_line(line: str) -> None:
    """Print one chat line to stdout at once, even when stdout is a pipe."""
    print(line, flush=True)


def print_report(line: str) -> None:
    """Print one line about the connection to stderr."""
    print(line, file=sys.stderr, flush=True)

