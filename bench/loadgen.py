"""Load generator for the broadcast benchmark: N WebSocket clients, S senders, one JSON report.

    python bench/loadgen.py ws://127.0.0.1:PORT/ --clients 1000 --senders 10 --messages 300
    python bench/loadgen.py ws://127.0.0.1:PORT/ --clients 1000 --senders 10 --rate 50 --duration 10
    python bench/loadgen.py ws://127.0.0.1:PORT/ --clients 1000 --senders 10 --rate 50,100,200
    python bench/loadgen.py ws://127.0.0.1:PORT/ --clients 2000          # connect, settle, memory
    python bench/loadgen.py ws://127.0.0.1:PORT/ws --clients 2000 --storm 100 --await-welcome \
        --server-pid PID                            # the join storm: batches of 100, CPU per join
    python bench/loadgen.py ws://127.0.0.1:PORT/ws --clients 1000 --senders 10 --messages 300 \\
        --await-welcome --server-pid PID --redis-pid REDIS_PID        # our server as a cluster

It connects the clients (raw sockets and a minimal handshake of its own), waits
until the server has finished greeting them, then runs one closed-loop phase
(each sender keeps `--window` messages in flight and sends the next when its
own comes back) or open-loop phases at fixed total rates (spread round-robin
over the senders; with several rates it climbs until one fails), and prints
one JSON report. With `--storm BATCH` it only connects, BATCH clients at a
time, timing the whole storm and the server's CPU per join (bench/storm.py).

Give `--server-pid` to get the server's CPU and memory, summed over that
process and all its descendants (a server that forks workers), and
`--redis-pid` to get redis-server's CPU too. `--await-welcome` is for a server
that greets every client with a first frame (our chat server's welcome): it
waits for every client's first frame before the barrier, so "connect s"
includes the welcomes. The reference servers send nothing on connect, and
would make it wait forever.

This module is the command line and the order of the phases; swarm.py runs
them, client.py is one connection, and phase.py describes how the clients
count what they receive without parsing it.
"""

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import bench.* from this checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.phase import PAYLOAD_SIZE  # noqa: E402
from bench.procfs import ServerWatch  # noqa: E402
from bench.storm import join_storm  # noqa: E402
from bench.swarm import Swarm  # noqa: E402

try:
    import uvloop
except ImportError:  # the standard loop works; uvloop only makes the generator cheaper
    uvloop = None

SETTLE_CAP = 120.0  # seconds for the server to finish greeting everyone
WELCOME_CAP = 120.0  # --await-welcome: seconds for every client's first frame
QUIET_SPAN = 0.5  # --room-size: seconds of server CPU below QUIET_SHARE that count as idle
QUIET_SHARE = 0.05


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to its hard limit; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def run(url: str, clients: int, senders: int = 1, sample: int = 20,
              messages: int = 0, window: int = 4, cap: float = 60.0,
              rates: tuple[float, ...] = (), duration: float = 10.0, drain: float = 5.0,
              server_pid: int | None = None, redis_pid: int | None = None,
              await_welcome: bool = False, room_size: int = 0, storm: int = 0) -> dict:
    """Connect, settle, run the phases asked for, and return the report."""
    if not 1 <= senders <= clients:
        raise SystemExit(f"--senders must be between 1 and --clients ({clients})")
    limit = raise_fd_limit()
    if clients + 50 > limit:
        raise SystemExit(f"{clients} clients need more open files than the limit ({limit})")
    watch = ServerWatch(server_pid) if server_pid else None
    sampler = asyncio.create_task(watch.sample()) if watch else None
    swarm = Swarm(url, clients, senders, sample, watch, redis_pid, room_size)
    report: dict = {
        "url": url, "clients": clients, "sample": len(swarm.sample_indexes),
        "loop": "uvloop" if uvloop is not None else "asyncio",
        "payload_bytes": PAYLOAD_SIZE,
    }
    if watch:
        report["server_rss_start_mb"] = round(watch.rss() / 2**20, 1)
        server_cpu = watch.cpu_seconds()
    try:
        if storm:
            report["storm"] = outcome = await join_storm(swarm, storm, await_welcome, watch,
                                                         WELCOME_CAP)
            if "error" in outcome:
                report["error"] = outcome["error"]
            else:
                report["connect_s"] = outcome["storm_s"]
            return report
        if not await settle(swarm, report, await_welcome):
            return report
        if watch:
            report["server_cpu_connect_s"] = round(watch.cpu_seconds() - server_cpu, 3)
            idle = watch.rss()
            report["server_rss_idle_mb"] = round(idle / 2**20, 1)
            report["rss_per_connection_kb"] = round(
                (idle - report["server_rss_start_mb"] * 2**20) / clients / 1024, 2)
        await load(swarm, report, messages, window, cap, rates, duration, drain)
        if watch:
            report["server_cpu_total_s"] = round(watch.cpu_seconds() - server_cpu, 3)
    finally:
        if sampler is not None:
            sampler.cancel()
        swarm.close()
    return report


async def settle(swarm: Swarm, report: dict, await_welcome: bool) -> bool:
    """Connect everyone and wait until the server is idle; return False (and why) if it never is."""
    start = time.monotonic()
    await swarm.connect()
    if await_welcome:
        # A cluster node welcomes only after a round trip to Redis. Posted before the
        # last welcome, the barrier would overtake greetings: it would land in late
        # welcomes' history while their join announcements were still on the way.
        unwelcomed = await swarm.welcomed(WELCOME_CAP)
        if unwelcomed:
            report["error"] = (f"{unwelcomed} of {swarm.size} clients had no first frame "
                               f"from the server within {WELCOME_CAP} s")
            return False
    report["connect_s"] = round(time.monotonic() - start, 3)
    if swarm.room_size:
        # One client's message reaches only its own room: no barrier for everyone.
        return await quiet(swarm, report, start)
    # The barrier: one message from client 0 reaches everyone only after
    # every greeting (welcome, join) queued before it, so the server is idle.
    barrier = await swarm.closed_loop([swarm.clients[0]], 1, 1, SETTLE_CAP)
    report["settle_s"] = round(time.monotonic() - start, 3)
    if barrier["timed_out"]:
        report["error"] = f"the server did not greet {swarm.size} clients within {SETTLE_CAP} s"
        return False
    return True


async def quiet(swarm: Swarm, report: dict, start: float) -> bool:
    """Wait until the server's CPU rests (it has sent every greeting); False if it never does."""
    if swarm.watch is None:
        raise SystemExit("--room-size needs --server-pid: the server's CPU says when it is idle")
    while time.monotonic() - start < SETTLE_CAP:
        used = swarm.watch.cpu_seconds()
        await asyncio.sleep(QUIET_SPAN)
        if swarm.watch.cpu_seconds() - used < QUIET_SHARE * QUIET_SPAN:
            report["settle_s"] = round(time.monotonic() - start, 3)
            return True
    report["error"] = f"the server was still busy {SETTLE_CAP} s after {swarm.size} clients came"
    return False


async def load(swarm: Swarm, report: dict, messages: int, window: int, cap: float,
               rates: tuple[float, ...], duration: float, drain: float) -> None:
    """Run the closed loop if `messages`, then climb the open-loop `rates` until one fails."""
    sending = [swarm.clients[index] for index in swarm.sender_indexes]
    if messages:
        report["closed"] = await swarm.closed_loop(sending, messages, window, cap)
    steps = []
    for rate in rates:
        step = await swarm.open_loop(sending, rate, duration, drain)
        steps.append(step)
        if not step["passed"]:
            break
    if rates:
        report["open"] = steps
        passed = [step["rate"] for step in steps if step["passed"]]
        report["sustained_rate"] = max(passed) if passed else 0


def arguments() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the server's WebSocket URL, e.g. ws://127.0.0.1:3000/ws")
    parser.add_argument("--clients", type=int, required=True, help="connections to open")
    parser.add_argument("--senders", type=int, default=1, help="how many of them send")
    parser.add_argument("--sample", type=int, default=20,
                        help="clients that parse frames to time latency (default: %(default)s)")
    parser.add_argument("--messages", type=int, default=0,
                        help="closed loop: messages each sender sends")
    parser.add_argument("--window", type=int, default=4,
                        help="closed loop: messages in flight per sender (default: %(default)s)")
    parser.add_argument("--cap", type=float, default=60.0,
                        help="closed loop: seconds before the run is stopped as failed")
    parser.add_argument("--rate", default="",
                        help="open loop: messages a second in all; a comma-separated list "
                             "climbs until a rate fails (p99 > 100 ms or a message lost)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="open loop: seconds of sending per rate (default: %(default)s)")
    parser.add_argument("--drain", type=float, default=5.0,
                        help="open loop: seconds to wait for deliveries after sending stops")
    parser.add_argument("--server-pid", type=int,
                        help="the server's PID, for CPU and memory (its descendants included)")
    parser.add_argument("--redis-pid", type=int, help="redis-server's PID, for its CPU")
    parser.add_argument("--await-welcome", action="store_true",
                        help="wait for every client's first frame (our server's welcome) "
                             "before the barrier; a server that sends none would hang it")
    parser.add_argument("--room-size", type=int, default=0,
                        help="spread the clients over rooms of this many (?room=idle-K; "
                             "the reference servers have one room whatever the query)")
    parser.add_argument("--storm", type=int, default=0, metavar="BATCH",
                        help="the join storm: only connect, BATCH clients at a time, each "
                             "batch once the last is done; report the server's CPU per join")
    parser.add_argument("--cpu", type=int, help="pin the generator to this core")
    return parser.parse_args()


def main() -> None:
    """Run the generator from the command line and print its JSON report."""
    args = arguments()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    rates = tuple(float(rate) for rate in args.rate.split(",") if rate)
    options = dict(clients=args.clients, senders=args.senders, sample=args.sample,
                   messages=args.messages, window=args.window, cap=args.cap, rates=rates,
                   duration=args.duration, drain=args.drain, server_pid=args.server_pid,
                   redis_pid=args.redis_pid, await_welcome=args.await_welcome,
                   room_size=args.room_size, storm=args.storm)
    runner = uvloop.run if uvloop is not None else asyncio.run
    report = runner(run(args.url, **options))
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
