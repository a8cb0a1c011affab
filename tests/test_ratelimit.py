"""Unit tests of the token bucket, on a clock the test moves by hand."""

import pytest

from chat.ratelimit import AddressBuckets, TokenBucket


class Clock:
    """A clock that only moves when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_next_waits_for_a_token():
    """`burst` actions pass at once; the next is told how long until a token refills."""
    clock = Clock()
    bucket = TokenBucket(rate=5, burst=10, clock=clock)
    assert [bucket.take() for _ in range(10)] == [0.0] * 10
    assert bucket.take() == pytest.approx(0.2)


def test_tokens_refill_at_the_rate_up_to_the_burst():
    """Time refills tokens at `rate` a second, never beyond `burst`."""
    clock = Clock()
    bucket = TokenBucket(rate=5, burst=10, clock=clock)
    for _ in range(10):
        bucket.take()
    clock.now += 0.4  # two tokens
    assert [bucket.take() for _ in range(2)] == [0.0, 0.0]
    assert bucket.take() > 0
    clock.now += 3600
    assert [bucket.take() for _ in range(10)] == [0.0] * 10
    assert bucket.take() > 0


def test_refused_attempts_cost_nothing():
    """Asking while empty does not push the next token further away."""
    clock = Clock()
    bucket = TokenBucket(rate=2, burst=1, clock=clock)
    bucket.take()
    assert bucket.take() == pytest.approx(0.5)
    assert bucket.take() == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.take() == 0.0


def test_rate_zero_never_limits():
    """A rate of 0 turns the limit off."""
    bucket = TokenBucket(rate=0, burst=10, clock=Clock())
    assert all(bucket.take() == 0.0 for _ in range(1000))


def test_connections_from_one_address_share_one_bucket():
    """A new connection from the same address does not start with a full bucket."""
    clock = Clock()
    buckets = AddressBuckets(rate=5, burst=10, clock=clock)
    assert [buckets.take("10.0.0.1") for _ in range(10)] == [0.0] * 10
    assert buckets.take("10.0.0.1") == pytest.approx(0.2)  # "reconnecting" changes nothing
    assert buckets.take("10.0.0.2") == 0.0  # another address has its own


def test_refilled_buckets_are_forgotten_so_memory_stays_bounded():
    """Past the sweep size, buckets that refilled are dropped; one still spent is kept."""
    clock = Clock()
    buckets = AddressBuckets(rate=5, burst=10, clock=clock)
    for number in range(1023):
        buckets.take(f"10.0.{number // 256}.{number % 256}")
    for _ in range(10):
        buckets.take("10.9.9.9")
    clock.now += 1.0  # one token spent refills in 0.2 s; ten spent need 2 s
    buckets.take("10.9.9.8")
    assert len(buckets) == 2
    assert buckets.take("10.9.9.9") == 0.0 and buckets.take("10.9.9.9") == 0.0
