"""The HTTP side: the page, the invitation QR codes, the host's export and the static files.

Thin handlers: the page is a template, a QR code is drawn once by QRCodes, a
transcript is written by chat/transcript.py, and static/ is served with
caching that never runs an old module beside a new one.
"""

import math
from datetime import datetime

import tornado.web

from chat import protocol, transcript
from chat.hub import Hub
from chat.protocol import ProtocolError
from chat.qrcodes import QRCodes
from chat.ratelimit import AddressBuckets


def too_many(handler: tornado.web.RequestHandler, retry_after: int, reason: str) -> None:
    """Answer 429 with Retry-After and the reason (an HTTPError would drop the header)."""
    handler.set_status(429, reason=reason)
    handler.set_header("Retry-After", str(retry_after))
    handler.finish(reason)


class PageHandler(tornado.web.RequestHandler):
    """Render the chat page, with the addresses to invite people to."""

    def initialize(self, invite_urls: tuple[str, ...]) -> None:
        self.invite_urls = invite_urls

    def get(self) -> None:
        self.render("index.html", invite_urls=self.invite_urls)


class StaticFiles(tornado.web.StaticFileHandler):
    """Serve static/: a versioned URL (`?v=`) is cached for good, any other is checked each time.

    The page names its files by static_url(), with their hash; a module that
    another imports ("./socket.js") is fetched without `?v=`. Tornado sends such
    a file with an Etag and Last-Modified but no Cache-Control, which lets a
    browser guess a lifetime (a tenth of the file's age) and run an old module
    beside a new one. `no-cache` makes it ask first; an unchanged file costs a 304.
    (Tornado hashes each file once per process: an edit shows after a restart,
    or at once under --debug.)
    """

    def set_extra_headers(self, path: str) -> None:
        if "v" not in self.request.arguments:
            self.set_header("Cache-Control", "no-cache")


class InviteHandler(tornado.web.RequestHandler):
    """Serve a QR code (SVG) of one address the server listens on, optionally for one room."""

    def initialize(
        self, invite_urls: tuple[str, ...], qr_codes: QRCodes, joins: AddressBuckets
    ) -> None:
        self.invite_urls = invite_urls
        self.qr_codes = qr_codes
        self.joins = joins  # drawing a new code costs an address what a new connection does

    def get(self) -> None:
        address = self.get_query_argument("address", "0")
        # isdecimal() alone takes "²" and Arabic digits; int() then fails or means another.
        if not (address.isascii() and address.isdecimal() and len(address) <= 3) or int(
            address
        ) >= len(self.invite_urls):
            raise tornado.web.HTTPError(404, reason=f"No address number {address[:10]!r}")
        try:
            room = protocol.check_room(self.get_query_argument("room", ""))
        except ProtocolError as error:
            raise tornado.web.HTTPError(400, reason=error.message) from None
        url = self.invite_urls[int(address)]
        if room != protocol.DEFAULT_ROOM:
            url += f"/#{room}"
        svg = self.qr_codes.cached(url)
        if svg is None:
            retry_after = math.ceil(self.joins.take(self.request.remote_ip or ""))
            if retry_after:
                too_many(self, retry_after, f"Too many new QR codes; try again in {retry_after} s")
                return
            svg = self.qr_codes.draw(url)
        self.set_header("Content-Type", "image/svg+xml")
        self.write(svg)


class ExportHandler(tornado.web.RequestHandler):
    """Send a host the room's transcript as a download; the key comes in a header, not the URL."""

    def initialize(self, hub: Hub, joins: AddressBuckets) -> None:
        self.hub = hub
        self.joins = joins  # each request costs its address what a new connection does

    async def get(self) -> None:
        try:
            room = protocol.check_room(self.get_query_argument("room", ""))
        except ProtocolError as error:
            raise tornado.web.HTTPError(400, reason=error.message) from None
        kind = self.get_query_argument("format", "md")
        if kind not in transcript.FORMATS:
            raise tornado.web.HTTPError(400, reason="format is one of md, txt, html")
        retry_after = math.ceil(self.joins.take(self.request.remote_ip or ""))
        if retry_after:  # a loop guessing keys
            too_many(self, retry_after, f"Too many requests; try again in {retry_after} s")
            return
        if not await self.hub.is_host_key(self.request.headers.get("X-Host-Key")):
            raise tornado.web.HTTPError(403, reason="Only the host may export: send the host "
                                        "key in the X-Host-Key header")
        now = datetime.now().astimezone()
        media, extension = transcript.FORMATS[kind]
        self.set_header("Content-Type", media)
        self.set_header("Content-Disposition",
                        f'attachment; filename="{room}-{now:%Y-%m-%d}.{extension}"')
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.finish(transcript.render(room, await self.hub.transcript(room), kind, now))
