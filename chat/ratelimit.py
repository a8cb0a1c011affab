"""A token bucket: how many frames one connection may send, and how soon it may send again."""

import time
from collections.abc import Callable


class TokenBucket:
    """Allow `rate` actions a second on average, and bursts of up to `burst` at once."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def take(self) -> float:
        """Spend one token and return 0, or return the seconds until one is available."""
        if self.rate <= 0:  # rate 0 turns the limit off
            return 0.0
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate
