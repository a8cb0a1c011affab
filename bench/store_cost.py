"""Measure what storing one chat message costs the event loop, per store kind.

    python bench/store_cost.py [--messages 20000]

Appends messages the way the socket handler does (about half with a ref to
de-duplicate) to a fresh file store and to `:memory:`, and prints the time each
`append` call takes on the caller's thread (the event loop's share: median,
99th percentile and worst, in microseconds), then how long the file store's
writer thread needed to commit them all.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chat.store import SQLiteStore  # noqa: E402


def append_times(store: SQLiteStore, count: int) -> list[float]:
    """Append `count` messages and return each append's duration in microseconds."""
    text = "a typical chat message of about sixty characters, give or take"
    durations = []
    for number in range(count):
        ref = f"c-{number}" if number % 2 else None
        start = time.perf_counter()
        store.append("general", "ada", text, 1_764_100_000_000 + number, ref)
        durations.append((time.perf_counter() - start) * 1e6)
    return durations


def main() -> None:
    """Print the cost per append for the file store and the in-memory store."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    count = parser.parse_args().messages
    with tempfile.TemporaryDirectory() as folder:
        for label, path in (("file (WAL)", Path(folder) / "chat.db"), (":memory:", ":memory:")):
            store = SQLiteStore(path)
            start = time.perf_counter()
            durations = append_times(store, count)
            store.close()
            elapsed = time.perf_counter() - start
            p99 = statistics.quantiles(durations, n=100)[98]
            print(f"{label:11} on the loop: median {statistics.median(durations):5.1f} us,"
                  f" p99 {p99:6.1f} us, worst {max(durations):8.1f} us;"
                  f" all {count} stored after {elapsed:.2f} s")


if __name__ == "__main__":
    main()
