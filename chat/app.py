"""make_app: build the Tornado application from Settings.

Routes: a WebSocket upgrade on `/` or `/ws` is the chat socket (the lesson's
`new WebSocket("ws://HOST:3000/")` connects to `/`); a plain GET on `/`
renders the page; `/invite.svg` draws the QR codes of the Invite panel;
`/export` sends a host the room's transcript; `/upload` takes a file and
`/uploads/ID/NAME` serves it (chat/uploads/);
`/static/` serves the page's assets (`StaticFiles`: see there for caching).
"""

import logging
from functools import partial
from typing import Any

import tornado.httputil
import tornado.web
from tornado.log import access_log
from tornado.routing import PathMatches, Rule

from chat import hostkey
from chat.announcer import RoomsAnnouncer
from chat.config import ROOT, Settings
from chat.effects import SERVER
from chat.handlers import ChatSocket
from chat.hub import Hub
from chat.local import LocalHub
from chat.occasional import OccasionalWarning
from chat.output import Pacer
from chat.pages import ExportHandler, InviteHandler, PageHandler, StaticFiles
from chat.pinger import Pinger
from chat.qrcodes import QRCodes
from chat.ratelimit import AddressBuckets
from chat.room import Room, Rooms
from chat.store import SQLiteStore
from chat.uploads.handlers import FileHandler, UploadHandler
from chat.uploads.place import make_files, why_off

JOIN_RATE = 1.0  # new connections a second from one address, past twice --max-per-ip at once


class WebSocketUpgrade(PathMatches):
    """Match a path only when the request asks to upgrade to a WebSocket."""

    def match(self, request: tornado.httputil.HTTPServerRequest) -> dict[str, Any] | None:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return None
        return super().match(request)


def make_app(settings: Settings) -> tornado.web.Application:
    """Build the chat application: the rooms, the page, the socket, the invitations, the assets."""
    announcer = RoomsAnnouncer(ChatSocket.broadcast_everywhere)  # the busy rooms, once a second
    hub = make_hub(settings, announcer)
    # An address may open all its connections at once, then one more a second.
    joins = AddressBuckets(JOIN_RATE if settings.max_per_ip else 0, 2 * settings.max_per_ip)
    timeout = settings.ping_interval if settings.ping_timeout is None else settings.ping_timeout
    pinger = Pinger(ChatSocket.everyone, settings.ping_interval, timeout)
    pinger.start()
    files = make_files(settings)
    socket_options = {
        "hub": hub, "limits": settings, "joins": joins, "pinger": pinger,
        "refusals": OccasionalWarning(logging.getLogger("chat.handlers")),
        "frames": AddressBuckets(settings.rate, settings.burst), "files": files,
        "pacer": Pacer(),  # one for every socket: when broadcasts are written
    }
    upload_options = {
        "files": files, "off": why_off(settings, files), "hub": hub, "limits": settings,
        "uploads": AddressBuckets(settings.uploads_per_minute / 60, settings.uploads_per_minute),
    }
    page_options = {"invite_urls": settings.invite_urls}
    invite_options = {**page_options, "qr_codes": QRCodes(), "joins": joins}
    return tornado.web.Application(
        [
            Rule(WebSocketUpgrade(r"/"), ChatSocket, socket_options),
            (r"/ws", ChatSocket, socket_options),
            (r"/", PageHandler, page_options),
            (r"/invite\.svg", InviteHandler, invite_options),
            (r"/export", ExportHandler, {"hub": hub, "joins": joins}),
            (r"/upload", UploadHandler, upload_options),
            (r"/uploads/([^/]+)/([^/]+)", FileHandler, {"files": files}),
        ],
        template_path=str(ROOT / "templates"),
        static_path=str(ROOT / "static"),
        static_handler_class=StaticFiles,
        websocket_max_message_size=settings.max_message_size,
        trusted_origins=list(settings.allow_origins),
        hub=hub,
        announcer=announcer,
        pinger=pinger,
        files=files,
        log_function=log_request,
        debug=settings.debug,
    )


def log_request(handler: tornado.web.RequestHandler) -> None:
    """Log one request by its path alone: the query holds the page's session, a secret.

    The teacher projects this terminal; a logged `?session=` would let anyone
    who reads it take over that person's nickname.
    """
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    if status == 101:  # a chat socket's upgrade: its "joined" line is the one INFO line for it
        level = logging.DEBUG
    request = handler.request
    access_log.log(level, "%d %s %s (%s) %.2fms", status, request.method, request.path,
                   request.remote_ip, 1000 * request.request_time())


def make_hub(settings: Settings, announcer: RoomsAnnouncer) -> Hub:
    """Return the hub the settings ask for: Redis for a cluster, else this process and SQLite."""
    # Below the slow-reader limit, so a welcome alone never closes the one it greets.
    welcome_bytes = min(settings.welcome_bytes, settings.max_unsent // 2)
    if settings.redis:
        from chat.cluster import RedisHub  # only a cluster needs redis-py loaded

        return RedisHub(
            settings.redis, ChatSocket, announcer, history=settings.history,
            resume_limit=settings.resume_limit, history_cap=settings.history_cap,
            presence_timeout=settings.presence_timeout, welcome_bytes=welcome_bytes,
            host_key=settings.host_key, new_host_key=settings.new_host_key,
        )
    store = SQLiteStore(settings.db, cap=settings.history_cap)
    rooms = Rooms(partial(
        Room, store=store, history=settings.history, resume_limit=settings.resume_limit,
        welcome_bytes=welcome_bytes,
    ))
    kept = store.fields(SERVER).get("host_key")
    host_key = hostkey.settle(kept, settings.host_key, settings.new_host_key)
    if host_key != kept:  # kept in the database: a restart keeps the teacher's bookmark working
        store.set_fields(SERVER, {"host_key": host_key})
    return LocalHub(rooms, store, audience=ChatSocket, announcer=announcer, host_key=host_key)


async def shutdown(app: tornado.web.Application) -> None:
    """Say goodbye: stop pinging, close every chat socket with 1001 "going away", then the hub
    (and a temporary upload directory)."""
    app.settings["pinger"].stop()
    app.settings["announcer"].stop()
    await ChatSocket.close_all(1001, "The server is going away; reconnect soon.", grace=2.0)
    await app.settings["hub"].close()
    if app.settings["files"] is not None:
        app.settings["files"].close()  # a temporary directory (--db :memory:) goes
