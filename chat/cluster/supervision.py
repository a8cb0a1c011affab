"""Loops that never die quietly: supervised, logged, restarted with back-off.

A node's long-running work (hearing the channel, the heartbeat) runs under
`supervise`: whatever ends it is logged, a lost Redis as one line and
anything else with its traceback, and it starts again after a back-off. A
node that stopped hearing the channel while it still acknowledged posts
would be worse than one that crashed: nobody would know.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

FIRST_DELAY = 0.1  # seconds before the first restart
MAX_DELAY = 5.0  # the back-off doubles up to this


async def supervise(
    name: str,
    body: Callable[[], Awaitable[None]],
    expected: tuple[type[BaseException], ...],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run `body` until cancelled, starting it again after each failure, with back-off.

    `expected` failures (Redis gone) get one WARNING line; any other gets
    its traceback. A body that ran longer than MAX_DELAY before failing was
    healthy, so the next outage starts again from FIRST_DELAY.
    """
    delay = FIRST_DELAY
    while True:
        started = clock()
        try:
            await body()
            raise RuntimeError(f"the {name} returned")  # bodies run for ever: a bug
        except expected as error:
            delay = after(delay, clock() - started)
            log.warning("The %s stopped (%s: %s); trying again in %.1f s", name,
                        type(error).__name__, error, delay)
        except Exception:
            delay = after(delay, clock() - started)
            log.exception("The %s failed; restarting it in %.1f s", name, delay)
        await sleep(delay)
        delay = min(delay * 2, MAX_DELAY)


def after(delay: float, ran: float) -> float:
    """Return the back-off before the next start: the first one again after a healthy run."""
    return FIRST_DELAY if ran > MAX_DELAY else delay
