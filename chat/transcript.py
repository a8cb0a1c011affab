"""The room's transcript, as a host exports it: Markdown, plain text or HTML. No I/O here.

Only messages, oldest first, each with its time (the server's time zone, named
once at the top), nickname and text; deleted messages are already gone from
the log. The log's later entries about a message are folded into it: an edit
shows the new text, marked "(edited)"; a reply shows what it answers, and only
"deleted message" when that was deleted (its tombstone names it), so the
export never repeats what a host took out. Another person's text is data: HTML
escapes it, and Markdown keeps it verbatim (in a block, or a code span, of its
own) so that it cannot become the page's headings.
"""

import html
import re
from datetime import datetime

from chat.protocol import Event

FORMATS = {  # the `format` query argument -> (media type, file extension)
    "md": ("text/markdown; charset=utf-8", "md"),
    "txt": ("text/plain; charset=utf-8", "txt"),
    "html": ("text/html; charset=utf-8", "html"),
}
DELETED = "deleted message"  # what a reply to a deleted message shows of it


def local_time(ts: int) -> datetime:
    """Return a Unix-millisecond time in the server's time zone."""
    return datetime.fromtimestamp(ts / 1000).astimezone()


def render(room: str, entries: list[Event], kind: str, now: datetime) -> str:
    """Return the room's messages as a transcript of the given format (a key of FORMATS)."""
    messages = fold(entries)
    title = f"#{room}: {len(messages)} messages, exported {now:%Y-%m-%d %H:%M} ({now:%Z, UTC%z})"
    if kind == "txt":
        return "\n".join([title, ""] + [plain(message) for message in messages]) + "\n"
    if kind == "md":
        return "\n\n".join([f"# {title}"] + [markdown(message) for message in messages]) + "\n"
    rows = "\n".join(html_row(message) for message in messages)
    return (f"<!doctype html>\n<meta charset=\"utf-8\">\n<title>{html.escape(title)}</title>\n"
            f"<h1>{html.escape(title)}</h1>\n<ul>\n{rows}\n</ul>\n")


def fold(entries: list[Event]) -> list[Event]:
    """Return the messages of the log as they stand now: the last edit's text, marked `edited`,
    and a reply's quote blanked (its text None) when the message it quotes was deleted."""
    messages = {entry["id"]: dict(entry) for entry in entries if entry["type"] == "message"}
    deleted = {entry["target"] for entry in entries if entry["type"] == "delete"}
    for entry in entries:  # oldest first: a later edit replaces an earlier one
        if entry["type"] == "edit" and entry["target"] in messages:
            messages[entry["target"]].update(text=entry["text"], edited=True)
    for message in messages.values():
        if "reply" in message and message["reply"]["id"] in deleted:
            message["reply"] = {**message["reply"], "text": None}
    return list(messages.values())


def heading(message: Event) -> tuple[str, str]:
    """Return a message's time, and " (edited)" if it was edited (else "")."""
    stamp = f"{local_time(message['ts']):%Y-%m-%d %H:%M:%S}"
    return stamp, " (edited)" if message.get("edited") else ""


def answered(reply: Event) -> tuple[str, str]:
    """Return who a reply answers and its quote of them: ("", DELETED) if that was deleted."""
    if reply["text"] is None:
        return "", DELETED
    return reply["nick"], reply["text"]


def plain(message: Event) -> str:
    """Return one message as lines of text, the continuation lines indented."""
    stamp, edited = heading(message)
    line = f"[{stamp}] {message['nick']}{edited}: " + message["text"].replace("\n", "\n    ")
    if "reply" in message:
        nick, quote = answered(message["reply"])
        line += f"\n    ↪ {nick + ': ' if nick else ''}{quote}"
    return line


def markdown(message: Event) -> str:
    """Return one message: its time and nickname, what it answers, then its text as an
    indented code block."""
    stamp, edited = heading(message)
    lines = [f"**{stamp}** `{message['nick'].replace('`', '')}`{edited}"]
    if "reply" in message:
        nick, quote = answered(message["reply"])
        who = f"`{nick.replace('`', '')}`: " if nick else ""
        lines.append(f"↪ {who}{code_span(quote) if nick else quote}")
    body = "\n".join("    " + line for line in message["text"].split("\n"))
    return "\n\n".join(lines + [body])


def code_span(text: str) -> str:
    """Return one line of someone's text as a Markdown code span, which shows it verbatim."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"  # the spaces let the text start or end with a backtick


def html_row(message: Event) -> str:
    """Return one message as an escaped list item."""
    stamp, edited = heading(message)
    reply = ""
    if "reply" in message:
        nick, quote = answered(message["reply"])
        who = f"<b>{html.escape(nick)}</b>: " if nick else ""
        reply = f"<blockquote>↪ {who}{html.escape(quote)}</blockquote>"
    return (f"<li><time>{stamp}</time> <b>{html.escape(message['nick'])}</b>{edited}: {reply}"
            f"<span style=\"white-space: pre-wrap\">{html.escape(message['text'])}</span></li>")
