"""The command line: `python -m chat.client ws://HOST:3000/ws --nick ada --room maths`.

It turns the arguments and the environment (CHAT_HOST_KEY: the host key, out
of sight of `ps`) into a socket address, a nickname, a room and the host key,
and wires the terminal (chat/client/terminal.py) to a TerminalChat: the prompt
at a terminal, with every row printed above it, plain lines through pipes.
Ctrl+C leaves at once (a second one quits even while the connection closes).
"""

import argparse
import asyncio
import contextlib
import io
import os
import signal
import sys
from urllib.parse import urlsplit, urlunsplit

from chat.client.connection import TerminalChat
from chat.client.terminal import (
    above_the_prompt,
    give_back,
    make_prompt,
    on_a_terminal,
    print_line,
    print_report,
    prompt_lines,
    stdin_lines,
    terminal_width,
)


def socket_address(text: str) -> str:
    """Return the chat socket's ws:// or wss:// URL for a URL typed on the command line."""
    parts = urlsplit(text)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a chat address: use ws://HOST:3000/ws "
            "(or the http:// address the server printed)"
        )
    path = parts.path if parts.path not in ("", "/") else "/ws"
    return urlunsplit(parts._replace(scheme=scheme, path=path))


async def chat_in_terminal(url: str, nick: str | None, room: str | None,
                           host_key: str | None) -> int:
    """Chat on stdin and stdout until EOF, /quit or Ctrl+C; return the exit code."""
    if not on_a_terminal():  # pipes, or a file: lines exactly as they come
        chat = TerminalChat(url, nick, stdin_lines(), print_line, print_report, room=room,
                            width=terminal_width, host_key=host_key)
        return await until_interrupted(chat)
    # The prompt asks for our nickname and who else is online each time it needs them,
    # by which time `chat` exists.
    prompt = make_prompt(own=lambda: chat.nick, others=lambda: chat.conversation.others())
    chat = TerminalChat(url, nick, prompt_lines(prompt), print_line, print_report, room=room,
                        width=terminal_width, host_key=host_key,
                        give_back=lambda text: give_back(prompt, text))
    with above_the_prompt():
        return await until_interrupted(chat)


async def until_interrupted(chat: TerminalChat) -> int:
    """Run the chat with Ctrl+C making it leave at once; return its exit code."""
    loop = asyncio.get_running_loop()

    def interrupted() -> None:
        loop.remove_signal_handler(signal.SIGINT)  # a second Ctrl+C quits at once
        chat.stop()

    with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C raises KeyboardInterrupt
        loop.add_signal_handler(signal.SIGINT, interrupted)
    return await chat.run()


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Turn the command line into the URL, nickname, room and host key."""
    parser = argparse.ArgumentParser(
        prog="python -m chat.client",
        description="Chat from a terminal: each line you type is a message; "
                    "the room's messages are printed as they arrive.",
        epilog="Commands: /nick NAME changes your nickname; /quit (or Ctrl+D) leaves once "
               "everything you typed is delivered; Ctrl+C leaves at once; /help lists the "
               "rest (/reply, /edit, /react 42 +1; a host's: /mute, /delete, /lock, /export...). "
               "Code blocks print indented under their language. At a terminal, Tab "
               "completes the nickname of someone online and Up recalls what you typed.",
    )
    parser.add_argument("url", type=socket_address,
                        help="the chat's address, e.g. ws://192.168.1.23:3000/ws "
                             "(the http:// address the server printed works too)")
    parser.add_argument("--nick", help="the nickname you would like (default: the server "
                                       "picks a guest-XXXX name)")
    parser.add_argument("--room", help="the room to join (default: general)")
    parser.add_argument("--host-key", metavar="KEY",
                        help="be the room's host: the key in the host link the server printed "
                             "(#host=KEY). Better in the CHAT_HOST_KEY environment variable, "
                             "which other users cannot see with ps")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Run the terminal client with the options in `argv`; return the exit code."""
    args = parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace")  # an emoji must not crash a plain terminal
    host_key = args.host_key or os.environ.get("CHAT_HOST_KEY") or None
    try:
        return asyncio.run(chat_in_terminal(args.url, args.nick, args.room, host_key))
    except KeyboardInterrupt:  # the second Ctrl+C, or the first one on Windows
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
