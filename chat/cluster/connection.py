"""Redis URLs: a node's clients, the check at start, and passwords kept out of every message.

A URL may carry a password (`redis://:secret@host:6379/0`, or `?password=`)
and TLS (`rediss://host:6380/0?ssl_ca_certs=/path/ca.pem`); redis-py reads
both. Whatever this package logs or raises names the URL through `redact`.
"""

import re
from urllib.parse import unquote, urlsplit, urlunsplit

import redis
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from chat.hub import Unavailable

FAILURES = (redis.RedisError, OSError)  # what losing Redis looks like to redis-py
POOL_SIZE = 16  # Redis connections per node for commands: a batch of posts, joins...
POOL_WAIT = 5.0  # seconds a call waits for a free connection before it is `unavailable`
SECRET_IN_QUERY = re.compile(r"(^|&)([^=&]*password)=[^&]*", re.IGNORECASE)


def redact(url: str) -> str:
    """Return `url` with its password, in the address or the query, shown as ***."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:***@{host}"
    query = SECRET_IN_QUERY.sub(r"\1\2=***", parts.query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def secrets_of(url: str) -> list[str]:
    """Return the passwords a URL carries, to scrub them from any text that might echo them."""
    parts = urlsplit(url)
    found = [parts.password] if parts.password else []
    found += [match.group(0).split("=", 1)[1] for match in SECRET_IN_QUERY.finditer(parts.query)]
    return [form for secret in found if secret for form in {secret, unquote(secret)}]


def describe(error: Exception, url: str) -> str:
    """Return an error's text with any password of `url` in it shown as ***."""
    text = str(error)
    for secret in secrets_of(url):
        text = text.replace(secret, "***")
    return text


def unreachable(url: str, error: Exception) -> Unavailable:
    """Return the one-line error an operator gets when Redis cannot be used at start."""
    where, why = redact(url), describe(error, url)
    if isinstance(error, redis.AuthenticationError):
        return Unavailable(f"Redis at {where} refused to let us in ({why}); "
                           "check the user name and password in the Redis URL.")
    if "SSL" in why:
        return Unavailable(f"Cannot reach Redis at {where} over TLS ({why}); does the URL "
                           "trust its certificate (?ssl_ca_certs=PATH)?")
    return Unavailable(f"Cannot reach Redis at {where} ({why}); is redis-server running?")


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
    Never a retry after a timeout: the scripts sent may still run once a
    stalled Redis wakes, and sending them again would post a message twice.
    """
    retry = Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,))
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url, max_connections=POOL_SIZE, timeout=POOL_WAIT, decode_responses=True,
        socket_connect_timeout=2, socket_timeout=5, retry=retry,
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
