"""Redis URLs: a node's clients, and the check at start."""

import redis
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from chat.hub import Unavailable

FAILURES = (redis.RedisError, OSError)  # what losing Redis looks like to redis-py
POOL_SIZE = 16  # Redis connections per node for commands: a batch of posts, joins...
POOL_WAIT = 5.0  # seconds a call waits for a free connection before it is `unavailable`


def unreachable(url: str, error: Exception) -> Unavailable:
    """Return the one-line error an operator gets when Redis cannot be reached at start."""
    return Unavailable(f"Cannot reach Redis at {url} ({error}); is redis-server running?")


def check_redis(url: str) -> None:
    """Ping Redis at `url` once, or raise Unavailable with a sentence an operator can act on."""
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3) as client:
            client.ping()
    except (FAILURES + (ValueError,)) as error:
        raise unreachable(url, error) from None


def command_client(url: str) -> redis.asyncio.Redis:
    """Return the client a node sends its scripts and reads through: a bounded pool, text replies.

    The pool makes a call wait for a free connection, so 1000 people joining
    at once share a few connections instead of being refused past 100. One
    retry, at once: a pooled connection that died with a restarted Redis is
    replaced; a Redis that is down fails the call now, so the client hears why.
    """
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url, max_connections=POOL_SIZE, timeout=POOL_WAIT, decode_responses=True,
        socket_connect_timeout=2, socket_timeout=5, retry=Retry(NoBackoff(), 1),
    )
    return redis.asyncio.Redis.from_pool(pool)  # closing the client closes the pool


def subscription_client(url: str) -> redis.asyncio.Redis:
    """Return the client a node subscribes with: its own connection, bytes, and no retry.

    Anyone who can reach Redis can publish on the channel; bytes that are not
    UTF-8 must reach our check as a bad payload, not break redis-py's reader.
    No retry: redis-py would quietly resubscribe after a cut, and the node
    would never fetch what was published meanwhile.
    """
    return redis.asyncio.Redis.from_url(
        url, socket_connect_timeout=2, socket_timeout=5, retry=Retry(NoBackoff(), 0)
    )
