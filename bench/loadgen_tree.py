"""Run bench/loadgen.py against our server as a cluster: several processes, and Redis.

    python bench/loadgen_tree.py ws://127.0.0.1:PORT/ws --clients 1000 --senders 10 \\
        --messages 300 --server-pid PID --redis-pid REDIS_PID

The same generator and the same report as loadgen.py, with three differences:

- The server's CPU time, "waited" time and memory are summed over `--server-pid`
  and all its descendants (run.py --processes N forks N workers; the parent
  only waits for them). The descendants are looked up again at every reading,
  so workers that appear late are counted. RSS summed over forked workers
  counts the pages they still share with their parent once per process: the
  idle RSS of a multi-process server is an upper bound; the growth per
  connection is not affected (what a connection allocates is private).
- With `--redis-pid`, each phase also reports `redis_cpu_s` and
  `redis_cpu_pct`: redis-server's CPU time during the phase (every thread), and
  `server_sockets` at the start of each phase: per server process, how many
  of its sockets are clients' connections (how the kernel spread them over
  the workers) and how many are other sockets (its Redis connections, the
  listening socket).
- Connecting also waits until every client has received its first frame (our
  server's first frame is the welcome), before the barrier message is sent. A
  cluster node welcomes a client only after a round trip to Redis, so without
  this wait the barrier message and its end marker can arrive inside a late
  welcome's history, in one frame, and a parsing client counts the message but
  not the end marker, and waits forever. "connect s" thus includes the welcomes.
"""

import argparse
import asyncio
import os
import sys

import loadgen

GREETING_CAP = 120.0  # seconds for the server to send every client its first frame


def process_tree(pid: int) -> list[int]:
    """Return `pid` and every live descendant of it (from /proc/PID/task/*/children)."""
    found, waiting = [], [pid]
    while waiting:
        current = waiting.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:  # exited since its parent listed it
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as children:
                    waiting += [int(child) for child in children.read().split()]
            except OSError:
                continue
    return found


def served_inodes(port: int) -> set[str]:
    """Return the inodes of the established TCP connections whose local port is `port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as connections:
                next(connections)  # the header
                for line in connections:
                    fields = line.split()
                    # local address "0100007F:1F90", state 01 = established, inode 10th
                    if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                        inodes.add(fields[9])
        except OSError:
            continue
    return inodes


def sockets_of(pid: int, clients: set[str]) -> dict[str, int]:
    """Return how many of process `pid`'s sockets are `clients` (inodes), and how many others."""
    count = {"clients": 0, "other": 0}
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return count
    for descriptor in descriptors:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{descriptor}")
        except OSError:
            continue
        if target.startswith("socket:["):
            count["clients" if target[8:-1] in clients else "other"] += 1
    return count


class TreeWatch(loadgen.ServerWatch):
    """The server and its descendants seen from /proc: summed CPU, waits and resident memory."""

    def cpu_seconds(self) -> float:
        """Return the CPU time of every thread of every process of the server so far."""
        total = 0.0
        for pid in process_tree(self.pid):
            seconds = loadgen.cpu_seconds(pid)
            if seconds is None:  # no schedstat: fall back to the 10 ms ticks of /proc/PID/stat
                try:
                    with open(f"/proc/{pid}/stat") as stat:
                        fields = stat.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            total += seconds
        return total

    def wait_seconds(self) -> float | None:
        """Return how long the processes' main threads were runnable but waiting, summed."""
        waits = [loadgen.main_thread_wait(pid) for pid in process_tree(self.pid)]
        known = [wait for wait in waits if wait is not None]
        return sum(known) if known else None

    def rss(self) -> int:
        """Return the resident memory summed over the processes, and remember the peak."""
        total = 0
        for pid in process_tree(self.pid):
            try:
                with open(f"/proc/{pid}/status") as status:
                    for line in status:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) * 1024
                            break
            except OSError:  # a worker that exited between the listing and the read
                continue
        if not total:
            raise RuntimeError(f"no VmRSS for process {self.pid} or its children")
        self.peak = max(self.peak, total)
        return total


class GreetedClient(loadgen.Client):
    """A generator client that also notes when the server's first frame (the welcome) came."""

    def __init__(self, *arguments, **options) -> None:
        super().__init__(*arguments, **options)
        self.greeted: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        # loadgen.Client passes bytes after the handshake's answer back to this method,
        # so "handshake done" here means: bytes the server sent after it.
        if self.handshaken.done() and not self.greeted.done():
            self.greeted.set_result(None)
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if not self.greeted.done():  # closed unwelcomed: the phases count it as lost
            self.greeted.set_result(None)


class TreeSwarm(loadgen.Swarm):
    """The generator's clients; each phase also reports redis-server's CPU and the socket spread."""

    redis_pid: int | None = None

    async def connect(self) -> None:
        """Open every connection, then wait until the server has greeted every client."""
        await super().connect()
        try:
            await asyncio.wait_for(
                asyncio.gather(*(client.greeted for client in self.clients)), GREETING_CAP)
        except asyncio.TimeoutError:  # TimeoutError itself only from Python 3.11
            waiting = sum(not client.greeted.done() for client in self.clients)
            raise RuntimeError(f"{waiting} clients were not greeted within {GREETING_CAP} s")

    def measure_start(self) -> dict:
        """Count each server process's sockets, then read the clocks, redis-server's included."""
        spread = None
        if self.watch is not None:  # before the phase's clocks start: it reads ~1000 links
            clients = served_inodes(self.port)
            spread = {str(pid): sockets_of(pid, clients) for pid in process_tree(self.watch.pid)}
        measure = super().measure_start()
        measure["server_sockets"] = spread
        if self.redis_pid is not None:
            measure["redis_cpu"] = loadgen.cpu_seconds(self.redis_pid)
        return measure

    def report(self, phase: loadgen.Phase, measure: dict, timed_out: bool) -> dict:
        """Return loadgen's phase report, plus redis-server's CPU and the socket spread."""
        report = super().report(phase, measure, timed_out)
        if measure.get("server_sockets") is not None:
            report["server_sockets"] = measure["server_sockets"]
        if measure.get("redis_cpu") is not None:
            now = loadgen.cpu_seconds(self.redis_pid)
            if now is not None:
                used = now - measure["redis_cpu"]
                report["redis_cpu_s"] = round(used, 3)
                report["redis_cpu_pct"] = round(100 * used / report["wall_s"], 1)
        return report


def main() -> None:
    """Take --redis-pid off the command line, swap in the tree watch, and run loadgen.main()."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--redis-pid", type=int)
    known, rest = parser.parse_known_args()
    TreeSwarm.redis_pid = known.redis_pid
    # loadgen.run() builds its watch, swarm and clients by these names.
    loadgen.ServerWatch = TreeWatch
    loadgen.Swarm = TreeSwarm
    loadgen.Client = GreetedClient
    sys.argv = [sys.argv[0], *rest]
    loadgen.main()


if __name__ == "__main__":
    main()
