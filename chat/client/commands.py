"""The slash commands typed at the prompt: one table for parsing them and for /help.

A line that starts with `/` is a command: parse() checks it here, before
anything is sent, and returns the frame it sends (docs/protocol.md, "Hosts";
/reply, /edit and /react: "Editing, replying, reacting"), or no frame for what
the client does itself (/nick, /quit, /help, /export).
A line that does not parse raises CommandError with a sentence saying why,
and sends nothing; `//` starts a message that begins with `/`. Whether you may
do it is the server's to say; asking before a /clear is the conversation's
(chat/client/conversation.py). No I/O.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chat.client import reactions

Frame = dict[str, Any]

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION = re.compile(r"(\d{1,9})([smhd]?)")
MESSAGE_ID = re.compile(r"#?(\d{1,18})")
DELIVERED = ("message", "edit", "react")  # sent with a ref, kept in the outbox until answered
EXPORT_FORMATS = {".md": "md", ".markdown": "md", ".txt": "txt", ".html": "html", ".htm": "html"}


class CommandError(ValueError):
    """A command line that cannot be sent; its text says why, to the person who typed it."""


@dataclass(frozen=True)
class Command:
    """One slash command: how it is typed, what it does (for /help), and how its line parses."""

    name: str
    arguments: str  # as /help shows them, e.g. "NICK DURATION"
    description: str
    build: Callable[[str], Frame | None]  # the rest of the line -> the frame; None: done here


@dataclass(frozen=True)
class Parsed:
    """A command line that parsed: the command, the rest of the line, the frame to send."""

    command: Command
    argument: str
    frame: Frame | None


def parse(line: str) -> Parsed | None:
    """Return the command a line types, or None for a message; raise CommandError if it is bad."""
    if not line.startswith("/") or line.startswith("//"):
        return None
    word, _, argument = line[1:].partition(" ")
    command = COMMANDS.get(word.lower())
    if command is None:
        raise CommandError(f"There is no command /{word}: /help lists them "
                           "(start a message with // to send one that begins with /).")
    argument = argument.strip()
    return Parsed(command, argument, command.build(argument))


def message_text(line: str) -> str:
    """Return the message a line sends: `//x` sends `/x`."""
    return line[1:] if line.startswith("//") else line


def retyped(frame: Frame) -> str:
    """Return the line that would send a frame again: what a refusal gives back to type."""
    text = str(frame.get("text", ""))
    match frame.get("type"), frame.get("reply"):
        case "edit", _:
            return f"/edit {frame['target']} {text}"
        case "react", _:
            return f"/react {frame['target']} {frame['emoji']}"
        case _, int(answered):
            return f"/reply {answered} {text}"
    return "/" + text if text.startswith("/") else text  # typed as //...


def duration(text: str) -> int:
    """Return the seconds in `30s`, `5m`, `1h`, `2d` or a bare number of seconds."""
    found = DURATION.fullmatch(text.strip().lower())
    if found is None:
        raise CommandError(f"{text!r} is not a duration: use e.g. 30s, 5m, 1h or 2d "
                           "(a bare number is seconds).")
    return int(found[1]) * UNITS[found[2] or "s"]


def message_id(text: str, name: str) -> int:
    """Return the message number in `42` or `#42`."""
    found = MESSAGE_ID.fullmatch(text)
    if found is None or int(found[1]) == 0:
        raise CommandError(f"{text!r} is not a message number: type the number shown before "
                           f"the message, e.g. /{name} 42.")
    return int(found[1])


def export_format(path: str) -> str:
    """Return the transcript format (md, txt, html) a file name asks for by its extension."""
    extension = re.search(r"\.[^./\\]*$", path)
    kind = EXPORT_FORMATS.get(extension[0].lower()) if extension else None
    if kind is None:
        raise CommandError(f"Cannot tell the format of {path!r}: end the file name with .md, "
                           ".txt or .html.")
    return kind


def needs(argument: str, what: str, example: str) -> str:
    """Return the argument, or raise CommandError saying what is missing and how to type it."""
    if not argument:
        raise CommandError(f"Type {what} after {example.split()[0]}, e.g. {example}.")
    return argument


def bare(name: str, sends: bool = True) -> Callable[[str], Frame | None]:
    """Parse a command that takes nothing: its frame is its type (none if `sends` is False:
    the client carries it out)."""

    def build(argument: str) -> Frame | None:
        if argument:
            raise CommandError(f"/{name} takes nothing after it.")
        return {"type": name} if sends else None

    return build


def about(name: str) -> Callable[[str], Frame]:
    """Parse a command that names one person: the whole rest of the line (a nickname may have
    spaces)."""
    return lambda argument: {"type": name, "nick": needs(argument, "a nickname", f"/{name} bob")}


def target(name: str) -> Callable[[str], Frame]:
    """Parse a command that names one message by its number."""
    return lambda argument: {
        "type": name, "target": message_id(needs(argument, "a message's number", f"/{name} 42"),
                                           name)}


def numbered(argument: str, name: str, what: str, example: str) -> tuple[int, str]:
    """Return the message number that starts the argument, and the rest of it (`what`)."""
    number, _, rest = needs(argument, f"a message's number and {what}", example).partition(" ")
    if not rest.strip():
        raise CommandError(f"Type {what} after the message's number, e.g. {example}.")
    return message_id(number, name), rest.strip()


def reply(argument: str) -> Frame:
    """Parse /reply ID TEXT: a message that quotes message ID."""
    number, text = numbered(argument, "reply", "your answer", "/reply 42 yes, line 3")
    return {"type": "message", "text": text, "reply": number}


def edit(argument: str) -> Frame:
    """Parse /edit ID TEXT: your message ID's new text."""
    number, text = numbered(argument, "edit", "the new text", "/edit 42 fixed")
    return {"type": "edit", "target": number, "text": text}


def react(argument: str) -> Frame:
    """Parse /react ID EMOJI; whether it adds or takes back is the conversation's to say."""
    number, word = numbered(argument, "react", "a reaction", "/react 42 +1")
    if (emoji := reactions.emoji(word)) is None:
        raise CommandError(f"{word!r} is not a reaction: use one of {reactions.choices()}.")
    return {"type": "react", "target": number, "emoji": emoji}


def mute(argument: str) -> Frame:
    """Parse /mute NICK DURATION: the last word is how long, the words before it whom."""
    nick, _, how_long = needs(argument, "a nickname and how long", "/mute bob 5m").rpartition(" ")
    if not nick.strip():
        missing = ("a nickname before how long" if DURATION.fullmatch(how_long.lower())
                   else "how long after the nickname")
        raise CommandError(f"Type {missing}, e.g. /mute bob 5m.")
    return {"type": "mute", "nick": nick.strip(), "seconds": duration(how_long)}


def ban(argument: str) -> Frame:
    """Parse /ban NICK [DURATION]: for as long as the last word says, if it is a duration; else
    until unbanned."""
    nick, _, how_long = needs(argument, "a nickname", "/ban bob 2d").rpartition(" ")
    if nick.strip() and DURATION.fullmatch(how_long.lower()):
        return {"type": "ban", "nick": nick.strip(), "seconds": duration(how_long)}
    return {"type": "ban", "nick": argument}


def slow(argument: str) -> Frame:
    """Parse /slow SECONDS: the time between two posts of one person; 0 or `off` ends it."""
    every = needs(argument, "the seconds between two posts", "/slow 30")
    return {"type": "slow", "seconds": 0 if every.lower() == "off" else duration(every)}


def topic(argument: str) -> Frame:
    """Parse /topic TEXT; nothing after it clears the topic."""
    return {"type": "topic", "topic": argument}


def nick(argument: str) -> None:
    """Parse /nick NAME: the client asks for it now, or on the next connection."""
    needs(argument, "a nickname", "/nick ada")


def export(argument: str) -> None:
    """Parse /export FILE: the file's extension says the format."""
    export_format(needs(argument, "a file name", "/export week2.md"))


COMMANDS = {command.name: command for command in (
    Command("nick", "NAME", "change your nickname", nick),
    Command("quit", "", "leave once all you typed is delivered (Ctrl+D too)",
            bare("quit", sends=False)),
    Command("help", "", "list these commands", bare("help", sends=False)),
    Command("reply", "ID TEXT", "answer message ID, quoting it", reply),
    Command("edit", "ID TEXT", "change the text of your message ID (within 10 minutes)", edit),
    Command("react", "ID EMOJI", f"react to message ID (again: take it back): "
                                 f"{reactions.choices()}", react),
    Command("delete", "ID", "delete a message: yours, or anyone's for a host", target("delete")),
    Command("mute", "NICK DURATION", "stop someone posting for a while (30s, 5m, 1h, 2d)", mute),
    Command("unmute", "NICK", "let someone post again", about("unmute")),
    Command("kick", "NICK", "put someone out of the room for 5 minutes", about("kick")),
    Command("ban", "NICK [DURATION]", "shut someone out of every room, for a while or until "
                                      "unbanned", ban),
    Command("unban", "NICK", "let someone banned come back", about("unban")),
    Command("lock", "", "let only hosts post", bare("lock")),
    Command("unlock", "", "let everyone post again", bare("unlock")),
    Command("slow", "SECONDS", "let each person post once every SECONDS (0 or off: no limit)",
            slow),
    Command("topic", "[TEXT]", "set the room's topic (nothing after it: clear it)", topic),
    Command("pin", "ID", "pin a message at the top of the room", target("pin")),
    Command("unpin", "", "take the pinned message down", bare("unpin")),
    Command("clear", "", "empty the room for everyone (you confirm first)", bare("clear")),
    Command("op", "NICK", "make someone a host (the key holder only)", about("op")),
    Command("deop", "NICK", "take back someone's host powers (the key holder only)",
            about("deop")),
    Command("export", "FILE", "save the room's messages to FILE, .md, .txt or .html "
                              "(the key holder only)", export),
)}


def help_lines() -> list[str]:
    """Return /help: each command as it is typed, and what it does."""
    usage = {name: f"/{name} {command.arguments}".rstrip() for name, command in COMMANDS.items()}
    width = max(map(len, usage.values()))
    return ["* commands (from /mute on, for hosts only):",
            *(f"*   {usage[name]:<{width}}  {command.description}"
              for name, command in COMMANDS.items()),
            "*   //TEXT sends a message that starts with /"]
