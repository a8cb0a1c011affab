"""Token buckets: how many frames an address may send, and how soon it may send again."""

import time
from collections.abc import Callable

SWEEP_EVERY = 1024  # buckets held before the refilled ones are swept out


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

    def full(self) -> bool:
        """Tell whether the bucket has refilled to its burst: as good as a new one."""
        return self._tokens + (self.clock() - self._updated) * self.rate >= self.burst


class AddressBuckets:
    """One token bucket per client address, shared by all of that address's connections.

    A flood does not start full again on a new connection: "connect, send 10,
    close" from one address draws on one bucket. Buckets that have refilled
    are forgotten (a new one would be the same), so memory follows the
    addresses active within the last `burst / rate` seconds.
    """

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._sweep_at = SWEEP_EVERY

    def take(self, address: str) -> float:
        """Spend one of `address`'s tokens and return 0, or return the seconds until one is due."""
        if self.rate <= 0:
            return 0.0
        bucket = self._buckets.get(address)
        if bucket is None:
            if len(self._buckets) >= self._sweep_at:
                self._forget_full()
            bucket = self._buckets[address] = TokenBucket(self.rate, self.burst, self.clock)
        return bucket.take()

    def __len__(self) -> int:
        return len(self._buckets)

    def _forget_full(self) -> None:
        """Drop the buckets that have refilled; sweep again when the table has doubled."""
        for address in [address for address, bucket in self._buckets.items() if bucket.full()]:
            del self._buckets[address]
        self._sweep_at = max(SWEEP_EVERY, 2 * len(self._buckets))
