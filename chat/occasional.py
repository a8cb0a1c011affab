"""OccasionalWarning: a warning that a hostile client can repeat, logged at most every few seconds.

A refused connection is worth a line for the operator, but a loop of them
would bury everything else: the rest are counted and the next line says how many.
"""

import logging
import math
import time
from collections.abc import Callable

REPORT_EVERY = 5.0  # seconds between two warnings of the same kind


class OccasionalWarning:
    """Log a warning at most once every `interval` seconds, and how many were held back."""

    def __init__(
        self, log: logging.Logger, interval: float = REPORT_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = log
        self.interval = interval
        self.clock = clock
        self.last = -math.inf
        self.held_back = 0

    def warn(self, message: str, *args: object) -> None:
        """Log `message % args` now, or count it if the last warning was too recent."""
        now = self.clock()
        if now - self.last < self.interval:
            self.held_back += 1
            return
        if self.held_back:
            message += " (and %d more times since the last warning)"
            args += (self.held_back,)
        self.log.warning(message, *args)
        self.last, self.held_back = now, 0
