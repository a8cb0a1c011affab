"""Background: what a node sends to the cluster without waiting for it, logged if it fails.

Announcing a newcomer, a typing hint, a leave, fetching a gap in a room's
log: the socket that caused it does not wait. Each runs as a task, kept
until it ends (asyncio keeps only a weak reference to a task) and logged if
Redis refuses; a node that stops waits a moment for the ones under way.
"""

import asyncio
import logging
from collections.abc import Coroutine

from chat.cluster.connection import describe

log = logging.getLogger(__name__)


class Background:
    """The node's work under way that nobody waits for."""

    def __init__(self, url: str) -> None:
        self.url = url  # may hold a password: failures are told through describe()
        self.tasks: set[asyncio.Task] = set()  # announcements under way

    def run(self, work: Coroutine | asyncio.Future) -> None:
        """Run an announcement without waiting for it; log it if Redis refuses."""
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.finished)

    def finished(self, task: asyncio.Future) -> None:
        """Forget a finished announcement, logging the failure if it failed."""
        self.tasks.discard(task)
        failure = None if task.cancelled() else task.exception()
        if isinstance(failure, Exception):
            log.warning("Could not announce to the cluster: %s", describe(failure, self.url))

    async def wait(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the announcements under way."""
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=timeout)
