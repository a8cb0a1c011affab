"""The HTTP side of uploads: POST /upload receives a file, GET /uploads/ID/NAME serves one.

Thin handlers: what a file is comes from chat/uploads/sniff.py, its name from
names.py, where it is kept from files.py. The upload streams to a part file
in the upload directory as it arrives, so a 10 MB file never sits in memory;
everything that can refuse it is checked from the headers, before the body
is read. Another site's page cannot upload for a visitor: the X-Session
header makes a cross-site request need a CORS preflight, which nobody answers.
"""

import json
import logging
import math
import os
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import tornado.web
from tornado.http1connection import HTTP1Connection
from tornado.iostream import StreamClosedError

from chat import handshake, protocol
from chat.config import Settings
from chat.hub import Hub, Unavailable
from chat.protocol import ProtocolError
from chat.ratelimit import AddressBuckets
from chat.uploads import names, sniff
from chat.uploads.files import Files

log = logging.getLogger(__name__)

CHUNK = 64 * 1024  # bytes read from the disk and written to the client at a time
# The body may take --header-timeout, plus a second for each MIN_SPEED bytes: a 10 MB photo
# has 10 s + 3 min over a crowded classroom network, a client that stalls far less.
MIN_SPEED = 64 * 1024
SHIELDS = {  # a file is data to save or look at, never a page that runs in ours
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


class Refused(Exception):
    """An upload refused, with its status and the code and sentence of its JSON answer."""

    def __init__(self, status: int, code: str, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = (status, code, message,
                                                                  retry_after)


@tornado.web.stream_request_body
class UploadHandler(tornado.web.RequestHandler):
    """Receive one file for a room and answer its ID (201), or refuse it with a JSON reason."""

    def initialize(self, files: Files | None, off: str | None, hub: Hub, limits: Settings,
                   uploads: AddressBuckets) -> None:
        self.files = files
        self.off = off  # why this server takes no uploads (None: it takes them)
        self.hub = hub
        self.limits = limits
        self.uploads = uploads  # each address's uploads a minute
        self.part: BinaryIO | None = None  # the bytes so far, in the upload directory
        self.part_path: Path | None = None
        self.first_bytes = b""  # the first bytes, which say what the file is
        self.received = 0

    async def prepare(self) -> None:
        try:
            await self.admit()
        except Refused as refusal:
            self.refuse(refusal)

    async def admit(self) -> None:
        """Check everything the headers tell, in order of cost; then open the part file."""
        if self.off is not None or self.files is None:
            raise Refused(503, "no_uploads", self.off or "This server takes no uploads.")
        size = self.declared_size()
        try:
            self.room = protocol.check_room(self.get_query_argument("room", ""))
            self.name = names.clean(names.decode(self.request.headers.get("X-File-Name", "")))
        except (ProtocolError, names.BadName) as error:
            raise Refused(400, "bad_upload", str(error)) from None
        session = handshake.session_digest(self.request.headers.get("X-Session", ""))
        if session is None:
            raise Refused(400, "bad_upload", "Send the page's session in the X-Session header.")
        self.session = session  # a digest: the secret is neither kept nor logged
        address = self.request.remote_ip or ""
        retry_after = math.ceil(self.uploads.take(address))
        if retry_after:
            raise Refused(429, "upload_rate", "Too many uploads from your address; try again "
                          f"in {retry_after} s.", retry_after)
        try:
            barred = await self.hub.barred(self.room, address, session)
        except Unavailable as error:
            raise Refused(503, "unavailable", str(error)) from None
        if barred is not None:
            raise Refused(403, "barred", barred)
        if self.files.sweep() + size > self.limits.upload_quota:
            raise Refused(507, "over_quota", "The server keeps as many files as it may "
                          "(--upload-quota); a host can clear a room to make room.")
        if isinstance(self.request.connection, HTTP1Connection):
            self.request.connection.set_max_body_size(size)
            self.request.connection.set_body_timeout(
                self.limits.header_timeout + size / MIN_SPEED)
        self.part, self.part_path = self.files.receive(size)

    def declared_size(self) -> int:
        """Return the Content-Length if it is a size this server takes; else refuse."""
        length = self.request.headers.get("Content-Length")
        if length is None or "Transfer-Encoding" in self.request.headers:
            raise Refused(411, "length_required", "Send the file with its Content-Length.")
        # 18 digits are more bytes than any disk holds; int() of thousands of digits raises.
        if not (length.isascii() and length.isdigit() and len(length) <= 18):
            raise Refused(400, "bad_upload", "Content-Length must be a number of bytes.")
        size = int(length)
        if size > self.limits.max_upload:
            raise Refused(413, "too_large", f"The file is {size} bytes; the most this server "
                          f"takes is {self.limits.max_upload} (--max-upload).")
        if size == 0:
            raise Refused(400, "bad_upload", "The file is empty.")
        return size

    def data_received(self, chunk: bytes) -> None:
        if self.part is None:
            return
        if len(self.first_bytes) < sniff.HEAD:
            self.first_bytes += chunk[: sniff.HEAD - len(self.first_bytes)]
            if sniff.is_program(self.first_bytes):  # said at once: the rest is never read
                self.refuse(Refused(415, "refused_type", "Programs cannot be shared here."))
                return
        # A plain write: a chunk is 64 KiB at most, which the page cache takes at once.
        self.part.write(chunk)
        self.received += len(chunk)

    def post(self) -> None:
        if self.part is None or self.part_path is None or self.files is None:
            return  # refused while the body arrived
        self.part.close()
        try:
            media, image = sniff.judge(self.first_bytes)
        except sniff.RefusedType as error:
            self.refuse(Refused(415, "refused_type", str(error)))
            return
        stored = self.files.keep(self.part_path, self.name, self.received, media, image,
                                 self.room, self.session)
        self.part = self.part_path = None
        log.info("Kept an upload for #%s from %s: %d bytes, %s", self.room,
                 self.request.remote_ip, stored.size, stored.type)
        self.answer(201, {"file": stored.id, "name": stored.name, "size": stored.size,
                          "type": stored.type, "image": stored.image})

    def refuse(self, refusal: Refused) -> None:
        """Answer a refusal as JSON and let go of what was received (the rest is never read)."""
        self.discard()
        if refusal.retry_after:
            self.set_header("Retry-After", str(refusal.retry_after))
        self.answer(refusal.status, {"code": refusal.code, "message": refusal.message})

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer Tornado's own refusals (a wrong method, a failure) as JSON too."""
        code = "bad_upload" if status_code < 500 else "server_error"
        self.answer(status_code, {"code": code, "message": self._reason})

    def answer(self, status: int, fields: dict[str, Any]) -> None:
        """Finish with this status and these fields as JSON."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(fields, ensure_ascii=False))

    def discard(self) -> None:
        """Close and remove the part file, if the upload was not kept."""
        if self.part is not None:
            self.part.close()
        if self.part_path is not None:
            self.part_path.unlink(missing_ok=True)
        self.part = self.part_path = None

    def on_connection_close(self) -> None:
        super().on_connection_close()
        self.discard()  # the client left, or took too long, before the end

    def on_finish(self) -> None:
        self.discard()


class FileHandler(tornado.web.RequestHandler):
    """Serve one uploaded file: an image inline, anything else as a download, never as a page."""

    def initialize(self, files: Files | None) -> None:
        self.files = files

    async def get(self, file_id: str, name: str) -> None:
        stored = self.files.find(file_id) if self.files is not None else None  # shape first
        try:
            if stored is None or self.files is None:
                raise FileNotFoundError
            data = open(self.files.data(file_id), "rb")  # noqa: SIM115 (closed below)
        except FileNotFoundError:
            raise tornado.web.HTTPError(404, reason="No such file: it was deleted, or "
                                        "never posted") from None
        with data:
            image = stored.image and stored.type in sniff.IMAGE_TYPES
            for header, value in SHIELDS.items():
                self.set_header(header, value)
            self.set_header("Content-Type", stored.type if image else sniff.DOWNLOAD)
            self.set_header("Content-Disposition", "{}; filename*=UTF-8''{}".format(
                "inline" if image else "attachment", quote(stored.name, safe="")))
            self.set_header("Etag", f'"{file_id}"')  # an ID's bytes never change
            self.set_header("Cache-Control", "private, no-cache")  # but a deleted one goes
            if self.check_etag_header():
                self.set_status(304)
                return
            self.set_header("Content-Length", os.fstat(data.fileno()).st_size)
            while chunk := data.read(CHUNK):
                self.write(chunk)
                try:
                    await self.flush()  # waits for the client to take it: one chunk held at most
                except StreamClosedError:
                    return  # the client went away: nothing to tell it
