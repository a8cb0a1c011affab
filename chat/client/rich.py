"""What a message carries besides its text, and the entries that change a message: the quote
of the message it answers, the file it posts, edits and reactions, as rows.

The server quotes a reply itself and describes a file it keeps
(docs/protocol.md, "Editing, replying, reacting" and "Files"); here they become
rows like any text someone sent: escaped, nicknames isolated, every further row
after CONTINUATION. A file's link is made absolute from the address this client
connected to (`origin`, e.g. http://192.168.1.23:3000). No I/O.
"""

from urllib.parse import quote

from chat.client.format import Event, message_lines, name, rows, said, visible

REPLY_MARK = "  ↪ "  # starts the quote row above a reply: no message starts with spaces
FILE_MARK = "📎 "
DELETED = "(deleted message)"  # a quote the server blanked when its message was deleted


def whole(value: object) -> int | None:
    """Return a whole number the server sent, or None for anything else (a bool included)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def quote_rows(reply: object, own: str | None, width: int | None) -> list[str]:
    """Return the row quoting the message a reply answers: `  ↪ #41 bob: the start of it`."""
    if not isinstance(reply, dict):
        return []
    number = whole(reply.get("id"))
    text = visible(" ".join(str(reply.get("text") or "").split()))  # one line, whatever came
    who = f"{name(reply['nick'], own)}: " if reply.get("nick") and text else ""
    return rows([list(f"{REPLY_MARK}#{number if number is not None else '?'} "
                      f"{who}{text or DELETED}")], width)


def size(count: object) -> str:
    """Return a file's size for people: `812 B`, `47.1 KB`, `3.2 MB`."""
    number = whole(count)
    if number is None or number < 0:
        return "size unknown"
    if number < 1024:
        return f"{number} B"
    if number < 1024 * 1024:
        return f"{number / 1024:.1f} KB"
    return f"{number / (1024 * 1024):.1f} MB"


def link(url: object, origin: str | None) -> str:
    """Return a file's absolute address on the server we are connected to; nothing for a URL
    that is not a path on it (`//elsewhere/...`, `javascript:...`)."""
    if not isinstance(url, str) or not url.startswith("/") or url.startswith("//") or not origin:
        return ""
    return origin + quote(url, safe="/%-._~")  # a space or a control in it stays escaped


def file_line(file: object, origin: str | None) -> str:
    """Return what a message's file row says: `📎 photo.png (47.1 KB) [image] http://...`."""
    if not isinstance(file, dict):
        return ""
    parts = [FILE_MARK + visible(str(file.get("name") or "file")), f"({size(file.get('size'))})"]
    if file.get("image") is True:
        parts.append("[image]")
    parts.append(link(file.get("url"), origin))
    return " ".join(part for part in parts if part)


def message_rows(event: Event, own: str | None, width: int | None,
                 origin: str | None = None) -> list[str]:
    """Return a message as rows: the quote it answers above it, then `HH:MM #42 nick: text`
    and its further rows, then the file it posts."""
    shown = quote_rows(event.get("reply"), own, width)
    attached = file_line(event.get("file"), origin)
    if attached and not str(event.get("text") or "").strip():  # no caption: the file says it
        heading = message_lines({**event, "text": ""}, own, None)[0]
        return shown + rows([list(heading + attached)], width)
    shown += message_lines(event, own, width)
    if attached:
        shown += rows([[], list(attached)], width)[1:]
    return shown


def edit_lines(event: Event, own: str | None, width: int | None) -> list[str]:
    """Return an edit as rows: `* ada edited #42: the new text` (the text as a message's)."""
    target = whole(event.get("target"))
    return said(f"* {name(event.get('nick'), own)} edited #{target}: ", event.get("text", ""),
                width)


def reaction_line(event: Event, own: str | None) -> str:
    """Say who reacted to a message with what, or took it back."""
    who, emoji = name(event.get("nick"), own), visible(str(event.get("emoji")))
    target = whole(event.get("target"))
    if event.get("on") is False:
        return f"* {who} took back {emoji} on #{target}"
    return f"* {who} reacted {emoji} to #{target}"
