"""What a chat socket keeps once its WebSocket handshake is over, and how it reads frames.

FrameLoopOnItsOwn is Tornado's WebSocket protocol with a frame loop of its
own, run apart from the handshake; slim_down lets go of the upgrade's request
and response headers once the socket is open. What each saves is in bench/README.md (issue 14).

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
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketHandler, WebSocketProtocol, WebSocketProtocol13

from chat.frames import BadFrame, FrameReader, TooBig

READ_SIZE = 64 * 1024  # at most this much per read: Tornado's own chunk
FAIR_SHARE = 256 * 1024  # then let the other connections run: Tornado's own threshold,
FRAME_COST = 1024  # with each frame counted as this many bytes, as Tornado counts it


class FrameLoopOnItsOwn(WebSocketProtocol13):
    """WebSocketProtocol13 whose frame loop runs on its own, not inside the handshake, and
    reads everything the socket holds at once."""

    async def _receive_frame_loop(self) -> None:
        # From the next turn of the event loop: no caller awaits it, and the stream's
        # pending read holds the task, as it held the handshake's coroutines.
        asyncio.get_running_loop().create_task(self._read_frames())

    async def _read_frames(self) -> None:
        """Hand each whole message to Tornado's dispatch, until the client has gone.

        Tornado's own loop reads each frame in three awaits (header, mask,
        payload), and between frames asks the event loop to stop, then start,
        watching the socket: most of a small message's cost. This reads what
        the socket has and handles every frame in it, in order; a message whose
        command awaits still holds the next one until it is done.
        """
        frames = FrameReader(self.params.max_message_size)
        work = 0  # bytes and frames handled since this loop last let the others run
        dropped = False
        try:
            while not self.client_terminated:
                assert self.stream is not None
                data = await self.stream.read_bytes(READ_SIZE, partial=True)
                self._wire_bytes_in += len(data)
                for opcode, payload in frames.feed(data):
                    handled = self._handle_message(opcode, payload)
                    if handled is not None:
                        await handled
                    if self.client_terminated:  # it closed, or broke a rule: drop the rest
                        break
                    work += FRAME_COST
                work += len(data)
                if work >= FAIR_SHARE:  # a client that never pauses must not hold the loop
                    work = 0
                    await asyncio.sleep(0)
        except TooBig:
            self.close(1009, "message too big")
            self._abort()
        except BadFrame:
            self._abort()
        except StreamClosedError:
            self._abort()
        except GeneratorExit:  # dropped unfinished, its event loop closed: nobody to tell
            dropped = True
            raise
        finally:
            if not dropped:
                self.handler.on_ws_connection_close(self.close_code, self.close_reason)


def own_frame_loop(
    handler: WebSocketHandler, standard: WebSocketProtocol | None
) -> WebSocketProtocol | None:
    """Return Tornado's protocol for this handshake as a FrameLoopOnItsOwn (None stays None)."""
    if not isinstance(standard, WebSocketProtocol13):
        return standard  # None: a version of the protocol Tornado does not speak
    return FrameLoopOnItsOwn(handler, False, standard.params)


def slim_down(handler: WebSocketHandler) -> None:
    """Let an open socket's handler go of its handshake: the request and the 101's headers.

    The handler's request is the one thing that keeps the handshake's headers,
    query arguments, HTTP1Connection and connection context alive; once the
    socket is open only Tornado's error log reads it (method, path, address),
    so a stand-in with those takes its place. The path leaves out the query,
    which holds the page's session, a secret. The response headers of the 101,
    sent already, are half a kilobyte per connection: Tornado keeps them in
    `_headers`, which nothing reads once the response is finished.
    """
    request = handler.request
    start_line = RequestStartLine(request.method or "GET", request.path, request.version)
    slim = HTTPServerRequest(start_line=start_line, headers=HTTPHeaders(Host=request.host))
    slim.remote_ip = request.remote_ip
    handler.request = slim
    handler._headers = HTTPHeaders()
