"""/export: the room's transcript fetched over HTTP and saved to a file.

The host key goes in the X-Host-Key header, never in the URL, which servers
log and proxies keep (docs/protocol.md, "Export"). The file's extension says
the format (chat/client/commands.py). What happened comes back as one line to
print; nothing here raises for a refusal, a lost server or a disk that says no.
"""

from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from chat.client.commands import export_format
from chat.client.format import visible

TIMEOUT = 30.0  # seconds: a long room's transcript is a few megabytes at most


def origin(socket_url: str) -> str:
    """Return the http(s)://HOST:PORT of the chat socket's server, where its files are."""
    parts = urlsplit(socket_url)
    return urlunsplit(("https" if parts.scheme == "wss" else "http", parts.netloc, "", "", ""))


def export_url(socket_url: str, room: str, kind: str) -> str:
    """Return the export's http(s):// URL beside the chat socket's (`/ws` -> `/export`)."""
    path = urlsplit(socket_url).path.rsplit("/", 1)[0] + "/export"
    return origin(socket_url) + urlunsplit(("", "", path, urlencode({"room": room, "format": kind}),
                                            ""))


async def save(socket_url: str, path: str, key: str, room: str) -> str:
    """Fetch the room's transcript with the host key and write it to `path`; say how it went."""
    kind = export_format(path)
    try:
        response = await AsyncHTTPClient().fetch(
            export_url(socket_url, room, kind), headers={"X-Host-Key": key},
            connect_timeout=TIMEOUT, request_timeout=TIMEOUT,
        )
    except HTTPClientError as error:
        if error.code == 599:  # Tornado's code for no answer at all (a timeout)
            return f"! The export got no answer from the server: {visible(str(error))}"
        why = visible(error.message or "")
        return f"! The server refused the export: {why} (HTTP {error.code})"
    except OSError as error:
        return f"! Cannot reach the server to export: {visible(error.strerror or str(error))}"
    shown = visible(path)
    try:
        Path(path).expanduser().write_bytes(response.body)
    except OSError as error:
        return f"! Cannot write {shown}: {visible(error.strerror or str(error))}"
    return f"* saved the messages of #{visible(room)} to {shown}"
