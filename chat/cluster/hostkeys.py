"""The host key in Redis: settled once for the whole cluster, read again at every check.

It lives in the server's fields (`chat:state`, field `host_key`, a JSON
string), as one process keeps it in SQLite. Every node starting, and run.py
before it forks workers, settles it by chat/hostkey.py's rules: a key given
(--host-key) is stored; --new-host-key stores a new one; otherwise the first
to start stores a new one and the others take it. A node compares what a page
presents with the key read from Redis there and then, never with a copy, so
a node started with --new-host-key revokes the old link on every node at once.
"""

import json

import redis
import redis.asyncio

from chat import hostkey
from chat.cluster import templates
from chat.cluster.connection import FAILURES, unreachable
from chat.cluster.scripts import SERVER_STATE

HOST_KEY = "host_key"  # its field among the server's


def to_store(given: str | None, renew: bool) -> tuple[str, bool]:
    """Return the key to store, and whether to store it only if none is stored yet."""
    if given is not None:
        return given, False
    return hostkey.new_key(), not renew


def settle_host_key(url: str, given: str | None, renew: bool) -> str:
    """Settle the cluster's host key in the Redis at `url`; return it, or raise Unavailable."""
    key, only_if_none = to_store(given, renew)
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3,
                                  decode_responses=True) as client:
            if not only_if_none:
                client.hset(SERVER_STATE, HOST_KEY, templates.encoded(key))
                return key
            client.hsetnx(SERVER_STATE, HOST_KEY, templates.encoded(key))
            return decoded(client.hget(SERVER_STATE, HOST_KEY)) or key
    except FAILURES as error:
        raise unreachable(url, error) from None


async def settle(client: redis.asyncio.Redis, given: str | None, renew: bool) -> str:
    """Settle the cluster's host key through a node's client; return it."""
    key, only_if_none = to_store(given, renew)
    if not only_if_none:
        await client.hset(SERVER_STATE, HOST_KEY, templates.encoded(key))
        return key
    await client.hsetnx(SERVER_STATE, HOST_KEY, templates.encoded(key))
    return await current(client) or key


async def current(client: redis.asyncio.Redis) -> str | None:
    """Return the host key as Redis holds it now (None: none is stored)."""
    return decoded(await client.hget(SERVER_STATE, HOST_KEY))


def decoded(value: object) -> str | None:
    """Return the key from its stored JSON; None if none is stored, or it is no string."""
    key = json.loads(value) if isinstance(value, str) else None
    return key if isinstance(key, str) else None
