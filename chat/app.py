"""make_app: build the Tornado application from Settings.

Routes: a WebSocket upgrade on `/` or `/ws` is the chat socket (the lesson's
`new WebSocket("ws://HOST:3000/")` connects to `/`); a plain GET on `/`
renders the page; `/static/` serves the page's assets.
"""

from pathlib import Path
from typing import Any

import tornado.httputil
import tornado.web
from tornado.routing import PathMatches, Rule

from chat.config import Settings
from chat.handlers import ChatSocket, PageHandler
from chat.room import Room
from chat.store import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent


class WebSocketUpgrade(PathMatches):
    """Match a path only when the request asks to upgrade to a WebSocket."""

    def match(self, request: tornado.httputil.HTTPServerRequest) -> dict[str, Any] | None:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return None
        return super().match(request)


def make_app(settings: Settings) -> tornado.web.Application:
    """Build the chat application: one room, the page, the socket and the assets."""
    store = SQLiteStore(settings.db)
    room = Room("general", store, settings.history, settings.resume_limit)
    socket_options = {"room": room, "limits": settings}
    return tornado.web.Application(
        [
            Rule(WebSocketUpgrade(r"/"), ChatSocket, socket_options),
            (r"/ws", ChatSocket, socket_options),
            (r"/", PageHandler),
        ],
        template_path=str(ROOT / "templates"),
        static_path=str(ROOT / "static"),
        websocket_max_message_size=settings.max_message_size,
        websocket_ping_interval=settings.ping_interval,
        websocket_ping_timeout=settings.ping_timeout,
        trusted_origins=list(settings.allow_origins),
        store=store,
        debug=settings.debug,
    )


async def shutdown(app: tornado.web.Application) -> None:
    """Say goodbye: close every chat socket with 1001 "going away", then the store."""
    await ChatSocket.close_all(1001, "The server is going away; reconnect soon.", grace=2.0)
    app.settings["store"].close()
