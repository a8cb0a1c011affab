"""The terminal itself: the lines a person types, and where the chat's rows go.

Through pipes (stdin not a terminal: a script, a test) lines are read from
stdin by a thread, so the loop never waits on the keyboard. Rows go to stdout,
cut to its width when it is a terminal; trouble with the connection goes to
stderr.
"""

import asyncio
import codecs
import contextlib
import os
import shutil
import sys
import threading
from collections.abc import AsyncIterator, Callable


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

