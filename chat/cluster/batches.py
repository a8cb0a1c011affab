"""Batches: everything a node changes in Redis, queued and sent in order, one pipeline at a time.

Entering, posts, renames, leaves and typing hints all wait in one queue; one
batch at a time goes to Redis as one pipeline of scripts. So a crowd joining
or a burst of posts costs a few round trips on one connection, and each
person's messages keep their order. Every queued call gets its reply, or
Unavailable, whatever goes wrong with the batch.
"""

import asyncio
import logging
from collections.abc import Callable

import redis.asyncio

from chat.cluster.connection import FAILURES
from chat.cluster.scripts import Scripts
from chat.hub import Unavailable

log = logging.getLogger(__name__)

Call = tuple[str, list, list]  # a script's name, its keys and its arguments


class Batches:
    """The node's queue of scripts for Redis, sent in batches, one batch at a time."""

    def __init__(self, client: redis.asyncio.Redis, scripts: Scripts) -> None:
        self.client = client
        self.scripts = scripts
        self.outbox: list[tuple[str, list, list, Callable, asyncio.Future]] = []
        self.sending: asyncio.Task | None = None
        self.closed = False  # the node left the cluster: nothing more is sent

    def call(
        self, script: str, keys: list[str], args: list, convert: Callable = lambda reply: reply
    ) -> asyncio.Future:
        """Queue a script for the next batch; the future is its converted reply, or Unavailable."""
        done = asyncio.get_running_loop().create_future()
        if self.closed:
            done.set_exception(Unavailable("This node has left the cluster."))
            return done
        self.outbox.append((script, keys, args, convert, done))
        if self.sending is None:
            self.sending = asyncio.create_task(self.send_all())
        return done

    async def send_all(self) -> None:
        """Send the queued scripts in batches, one batch at a time, until none is left."""
        try:
            while self.outbox:
                batch, self.outbox = self.outbox, []
                replies = await self.send([(script, keys, args)
                                           for script, keys, args, *_ in batch])
                for (*_, convert, done), reply in zip(batch, replies, strict=True):
                    settle(done, reply, convert)
        finally:
            self.sending = None

    async def send(self, calls: list[Call]) -> list:
        """Run one batch; every call gets a reply or an error, whatever goes wrong."""
        try:
            return await self.scripts.run_batch(self.client, calls)
        except FAILURES as error:
            log.warning("Redis refused a batch of %d calls: %s", len(calls), error)
            return [error] * len(calls)
        except Exception as error:  # a bug: its callers must still hear, or they wait for ever
            log.exception("A batch of %d calls to Redis failed", len(calls))
            return [error] * len(calls)


def settle(done: asyncio.Future, reply: object, convert: Callable) -> None:
    """Give a queued call its converted reply, or Unavailable if Redis refused it."""
    if done.done():  # its caller stopped waiting (a socket that closed meanwhile)
        return
    if isinstance(reply, Exception):
        done.set_exception(Unavailable(f"Redis refused ({type(reply).__name__}: {reply})"))
        return
    try:
        done.set_result(convert(reply))
    except Exception as error:  # a reply of the wrong shape: the caller must hear of it
        done.set_exception(error)
