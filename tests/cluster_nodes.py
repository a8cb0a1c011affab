"""Helpers for the cluster tests: real `run.py --redis` nodes, their sockets, their logs, Redis.

Every node is a subprocess on its own free port (the class-level waiter set
lives in one process), so a client on node A and one on node B only meet
through Redis. Import `start_node` into a test module to use it as a fixture.
"""

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import pytest
import redis
from conftest import next_event
from redis_server import RedisServer
from servers import ChatServer, free_port
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

DEADLINE = 20.0  # seconds a poll waits for what nothing lets us await
opened: list = []  # every client socket a test opened, closed when its nodes stop


@pytest.fixture
def start_node(tmp_path, redis_server, io_loop):
    """Return a function that starts one more node on the test's Redis; all stop at the end.

    Asks for `io_loop` so that its teardown, which closes the test's client sockets, runs
    while the loop is still open.
    """
    nodes = []

    def start(*options: str, redis: RedisServer = redis_server, url: str | None = None
              ) -> ChatServer:
        node = ChatServer(free_port(), tmp_path / f"node{len(nodes)}.log", "--redis",
                          url or redis.url, *options)
        node.start()
        nodes.append(node)
        return node

    yield start
    while opened:  # Tornado warns of a client object dropped unclosed, even a closed one
        opened.pop().close()
    for node in nodes:
        node.stop()


async def connect(node: ChatServer, source: str | None = None, **query: str):
    """Open a chat socket on `node` (closed at the end of the test); return it at once.

    `source` binds the client to another loopback address (127.0.0.2...): every
    test client otherwise comes from 127.0.0.1, and a kick or a ban bars an address.
    """
    url = f"ws://127.0.0.1:{node.port}/ws?{urlencode(query)}"
    ws = await websocket_connect(HTTPRequest(url, network_interface=source))
    opened.append(ws)
    return ws


async def join(node: ChatServer, source: str | None = None, **query: str):
    """Connect to `node`'s chat socket; return the socket and its welcome."""
    ws = await connect(node, source, **query)
    return ws, await next_event(ws, "welcome")


async def next_event_of(ws, kinds: tuple[str, ...]) -> dict:
    """Read until an event of one of these types arrives; fail if the server closed."""
    while True:
        raw = await ws.read_message()
        assert raw is not None, f"closed before one of {kinds}"
        event = json.loads(raw)
        if event["type"] in kinds:
            return event


async def messages(ws, count: int) -> list[tuple[int, str]]:
    """Read until `count` chat messages have arrived; return their (id, text)."""
    seen = []
    while len(seen) < count:
        event = await next_event(ws, "message")
        seen.append((event["id"], event["text"]))
    return seen


async def events_until_message(ws, text: str) -> list[dict]:
    """Read every event up to and including the message with this text; return them all."""
    seen: list[dict] = []
    while not seen or (seen[-1]["type"], seen[-1].get("text")) != ("message", text):
        raw = await ws.read_message()
        assert raw is not None, f"closed before the message {text!r}"
        seen.append(json.loads(raw))
    return seen


async def wait_until(what: str, check: Callable[[], object], deadline: float = DEADLINE):
    """Poll `check` until it returns something true, for what a test cannot await; return it."""
    give_up = time.monotonic() + deadline
    while not (found := check()):
        assert time.monotonic() < give_up, f"gave up waiting for {what}"
        await asyncio.sleep(0.05)  # sleep-ok: polling state no event announces, with a deadline
    return found


async def wait_for_log(node: ChatServer, pattern: str, count: int = 1) -> list[str]:
    """Wait until `node`'s log has `count` lines matching the regex `pattern`; return them."""
    def matching() -> list[str]:
        lines = [line for line in node.log_path.read_text().splitlines()
                 if re.search(pattern, line)]
        return lines if len(lines) >= count else []
    return await wait_until(f"{pattern!r} in {node.log_path.name}", matching)


def blocked_scripts(client: redis.Redis) -> int:
    """Count the clients whose script Redis holds back (CLIENT PAUSE WRITE postpones them)."""
    return sum(1 for entry in client.client_list()
               if "b" in entry["flags"] and entry["cmd"] == "evalsha")


@contextmanager
def writes_paused(client: redis.Redis) -> Iterator[None]:
    """Hold back every script and write in Redis until the block ends (reads still work)."""
    client.execute_command("CLIENT", "PAUSE", 30_000, "WRITE")
    try:
        yield
    finally:
        client.execute_command("CLIENT", "UNPAUSE")
