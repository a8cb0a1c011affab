"""The join storm: clients join one room in batches; time to every welcome, server CPU per join.

Batch after batch of `batch` clients (100: the connect phase's concurrency)
connect at once; the next batch starts when every client of this one has its
welcome (with `await_welcome`; a server that sends nothing on connect, such
as Node's, when every handshake is done: "plain connections"). The server's
CPU time (/proc, bench/procfs.py) is read before and after each batch, so
the first batch's CPU per join (joins 1-100) can be set against the last's
(joins 1901-2000 of 2000): whether a join costs more in a fuller room.
"""

import asyncio
import time

from bench.procfs import ServerWatch
from bench.swarm import Swarm


async def join_storm(swarm: Swarm, batch: int, await_welcome: bool,
                     watch: ServerWatch | None, cap: float) -> dict:
    """Connect every client of `swarm`, `batch` at a time; return the storm's report."""
    start = time.monotonic()
    per_join_us: list[float] = []
    for first in range(0, swarm.size, batch):
        indexes = range(first, min(first + batch, swarm.size))
        before = watch.cpu_seconds() if watch else 0.0
        clients = await asyncio.gather(*(swarm.open_client(index) for index in indexes))
        swarm.clients += clients
        if await_welcome:
            waiting = [client.greeted for client in clients]
            try:
                await asyncio.wait_for(asyncio.gather(*waiting), cap)
            except asyncio.TimeoutError:  # TimeoutError itself only from Python 3.11
                missing = sum(not greeted.done() for greeted in waiting)
                return {"error": f"{missing} clients of the batch from {first} had no "
                                 f"welcome within {cap} s"}
        if watch:
            per_join_us.append((watch.cpu_seconds() - before) / len(indexes) * 1e6)
    report: dict = {"batch": batch, "storm_s": round(time.monotonic() - start, 3),
                    "welcomes": await_welcome}
    if per_join_us:
        report.update(cpu_per_join_us=[round(value, 1) for value in per_join_us],
                      cpu_per_join_first_us=round(per_join_us[0], 1),
                      cpu_per_join_last_us=round(per_join_us[-1], 1))
    return report
