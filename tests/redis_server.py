"""The cluster tests' redis-server: harness.redis_server's, with pytest's verdicts.

The server itself (its options, its URL, start and stop by PID) lives in
harness/, shared with the benchmark, which must not need pytest. Here a
missing redis-server skips the test, or fails it under CI=true, where .ci/run
must have installed it; a missing openssl skips a TLS test; a redis-server
that does not start fails the test with what it printed.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness import redis_server as shared


@contextmanager
def verdicts() -> Iterator[None]:
    """Turn the shared helper's exceptions into a skipped or failed test."""
    try:
        yield
    except shared.MissingProgram as missing:
        if os.environ.get("CI") == "true":  # redis-server, or openssl for the TLS tests
            pytest.fail(f"{missing}; .ci/run must install it")
        pytest.skip(str(missing))
    except shared.StartFailed as failure:
        pytest.fail(str(failure))


def redis_binary() -> str:
    """Return the path of redis-server, or skip the test (fail it under CI=true) without one."""
    with verdicts():
        return shared.redis_binary()


class RedisServer(shared.RedisServer):
    """The shared RedisServer, whose missing programs skip the test and failures fail it."""

    def __init__(
        self, folder: Path, persist: bool = False, password: str | None = None,
        tls: bool = False,
    ) -> None:
        with verdicts():  # tls=True makes its certificate with openssl
            super().__init__(folder, persist=persist, password=password, tls=tls)

    def start(self, *extra: str) -> None:
        """Start redis-server (with `extra` options) and return once it accepts connections."""
        with verdicts():
            super().start(*extra)
