"""What /proc says about a process tree: CPU time, waiting, resident memory, sockets (Linux).

The readers return None (or skip) for a process that has exited, since a
server's workers may come and go between a listing and a read. ServerWatch
sums them over a server and all its descendants, as the load generator
reports them; the runner uses process_tree to stop a server's workers too.
"""

import asyncio
import os

RSS_INTERVAL = 0.1  # seconds between samples of the server's memory


def cpu_seconds(pid: int | str) -> float | None:
    """Return the CPU seconds of every thread of `pid` (schedstat), or None without schedstat."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9 if total else None


def main_thread_wait(pid: int | str) -> float | None:
    """Return the seconds the main thread of `pid` was runnable but waiting for a CPU."""
    try:
        with open(f"/proc/{pid}/schedstat") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def tick_seconds(pid: int) -> float | None:
    """Return the CPU seconds of `pid` from /proc/PID/stat (10 ms ticks), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_bytes(pid: int) -> int | None:
    """Return the VmRSS of `pid` in bytes, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


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


class ServerWatch:
    """The server seen from /proc: CPU seconds used and resident memory, over its process tree.

    A server that forks workers (run.py --processes N) is its PID and every
    descendant, looked up again at each reading so that late workers count;
    a one-process server's tree is just its PID. Summed RSS counts the pages
    workers still share with their parent once per process: an upper bound.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0  # highest RSS seen since the last reset, bytes

    def cpu_seconds(self) -> float:
        """Return the CPU time of every thread of every process of the server so far."""
        total = 0.0
        for pid in process_tree(self.pid):
            # schedstat counts nanoseconds; /proc/PID/stat only 10 ms ticks
            seconds = cpu_seconds(pid)
            total += (seconds if seconds is not None else tick_seconds(pid)) or 0.0
        return total

    def wait_seconds(self) -> float | None:
        """Return how long the processes' main threads (event loops) were runnable, waiting."""
        known = [wait for wait in map(main_thread_wait, process_tree(self.pid))
                 if wait is not None]
        return sum(known) if known else None

    def rss(self) -> int:
        """Return the resident memory summed over the processes, and remember the peak."""
        # A worker may exit between the listing and the read.
        total = sum(resident_bytes(pid) or 0 for pid in process_tree(self.pid))
        if not total:
            raise RuntimeError(f"no VmRSS for process {self.pid} or its descendants")
        self.peak = max(self.peak, total)
        return total

    def sockets(self, port: int) -> dict[str, dict[str, int]] | None:
        """Return, per process of a server of several, its client sockets on `port` and others.

        How the kernel spread the connections over the workers; None for one process.
        """
        tree = process_tree(self.pid)
        if len(tree) < 2:
            return None
        clients = served_inodes(port)
        return {str(pid): sockets_of(pid, clients) for pid in tree}

    async def sample(self) -> None:
        """Sample the memory every RSS_INTERVAL seconds, forever, to catch the peak."""
        while True:
            self.rss()
            await asyncio.sleep(RSS_INTERVAL)

