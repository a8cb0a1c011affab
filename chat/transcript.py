"""The room's transcript, as a host exports it: Markdown, plain text or HTML. No I/O here.

Only messages, oldest first, each with its time (the server's time zone, named
once at the top), nickname and text; deleted messages are already gone from
the log. Another person's text is data: HTML escapes it, and Markdown keeps it
verbatim inside a block of its own so that it cannot become the page's headings.
"""

import html
from datetime import datetime

from chat.protocol import Event

FORMATS = {  # the `format` query argument -> (media type, file extension)
    "md": ("text/markdown; charset=utf-8", "md"),
    "txt": ("text/plain; charset=utf-8", "txt"),
    "html": ("text/html; charset=utf-8", "html"),
}


def local_time(ts: int) -> datetime:
    """Return a Unix-millisecond time in the server's time zone."""
    return datetime.fromtimestamp(ts / 1000).astimezone()


def render(room: str, entries: list[Event], kind: str, now: datetime) -> str:
    """Return the room's messages as a transcript of the given format (a key of FORMATS)."""
    messages = [entry for entry in entries if entry["type"] == "message"]
    title = f"#{room}: {len(messages)} messages, exported {now:%Y-%m-%d %H:%M} ({now:%Z, UTC%z})"
    if kind == "txt":
        return "\n".join([title, ""] + [plain(message) for message in messages]) + "\n"
    if kind == "md":
        return "\n\n".join([f"# {title}"] + [markdown(message) for message in messages]) + "\n"
    rows = "\n".join(html_row(message) for message in messages)
    return (f"<!doctype html>\n<meta charset=\"utf-8\">\n<title>{html.escape(title)}</title>\n"
            f"<h1>{html.escape(title)}</h1>\n<ul>\n{rows}\n</ul>\n")


def plain(message: Event) -> str:
    """Return one message as lines of text, the continuation lines indented."""
    stamp = f"{local_time(message['ts']):%Y-%m-%d %H:%M:%S}"
    return f"[{stamp}] {message['nick']}: " + message["text"].replace("\n", "\n    ")


def markdown(message: Event) -> str:
    """Return one message: its time and nickname, then its text as an indented code block."""
    stamp = f"{local_time(message['ts']):%Y-%m-%d %H:%M:%S}"
    body = "\n".join("    " + line for line in message["text"].split("\n"))
    return f"**{stamp}** `{message['nick'].replace('`', '')}`\n\n{body}"


def html_row(message: Event) -> str:
    """Return one message as an escaped list item."""
    stamp = f"{local_time(message['ts']):%Y-%m-%d %H:%M:%S}"
    return (f"<li><time>{stamp}</time> <b>{html.escape(message['nick'])}</b>: "
            f"<span style=\"white-space: pre-wrap\">{html.escape(message['text'])}</span></li>")
