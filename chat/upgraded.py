"""What a chat socket keeps once its WebSocket handshake is over, and no more.

FrameLoopOnItsOwn is Tornado's WebSocket protocol with its frame loop run
apart from the handshake; slim_request stands in for the upgrade request once
the socket is open. What each saves is in bench/README.md (issue 14).

A Tornado server socket reads its frames inside the handshake's coroutines:
`_execute` awaits `get()`, which awaits `accept_connection`, which awaits the
frame loop, so those coroutines and what they hold (the upgrade request's
headers, the Task running them) stay alive as long as the connection, idle
or not. Tornado's own client side starts its frame loop as a callback of its
own (`IOLoop.add_callback`); this starts it as a task of its own on the
server side, so the handshake's coroutines end once `open()` has. (A plain
task: add_callback would add a lambda, a partial and a future callback per
connection. The loop catches what a frame may raise; asyncio logs anything
else when the finished task is dropped.)
"""

import asyncio

from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from tornado.websocket import WebSocketHandler, WebSocketProtocol, WebSocketProtocol13


class FrameLoopOnItsOwn(WebSocketProtocol13):
    """WebSocketProtocol13 whose frame loop runs on its own, not inside the handshake."""

    async def _receive_frame_loop(self) -> None:
        # The same loop, from the next turn of the event loop: no caller awaits it, and
        # the stream's pending read holds the task, as it held the handshake's coroutines.
        asyncio.get_running_loop().create_task(super()._receive_frame_loop())


def own_frame_loop(
    handler: WebSocketHandler, standard: WebSocketProtocol | None
) -> WebSocketProtocol | None:
    """Return Tornado's protocol for this handshake as a FrameLoopOnItsOwn (None stays None)."""
    if not isinstance(standard, WebSocketProtocol13):
        return standard  # None: a version of the protocol Tornado does not speak
    return FrameLoopOnItsOwn(handler, False, standard.params)


def slim_request(request: HTTPServerRequest) -> HTTPServerRequest:
    """Return a stand-in for an upgrade request: its method, path and address, nothing more.

    The handler's request is the one thing that keeps the handshake's headers,
    query arguments, HTTP1Connection and connection context alive; once the
    socket is open only Tornado's error log reads it (method, path, address).
    The path leaves out the query, which holds the page's session, a secret.
    """
    start_line = RequestStartLine(request.method or "GET", request.path, request.version)
    slim = HTTPServerRequest(start_line=start_line, headers=HTTPHeaders(Host=request.host))
    slim.remote_ip = request.remote_ip
    return slim
