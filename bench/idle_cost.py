"""Find what one idle chat connection costs in Python objects: a tracemalloc diff by traceback.

    python bench/idle_cost.py [--clients 1000] [--frames 8] [--top 25]

Starts our server in this process (make_app and make_server, as run.py does,
with `--rate 0 --max-per-ip 0` and `:memory:` history), takes a snapshot,
lets a child process open N real WebSocket clients (bench/swarm.py) and wait
for every welcome, waits until the server has written everything out, takes
a second snapshot, and prints the allocations still alive, grouped by
traceback, in bytes per connection. The child keeps its clients open until
the second snapshot is taken.

tracemalloc counts the bytes Python asked for, not RSS: it leaves out the
kernel's socket buffers, malloc's own overhead and fragmentation, and the
pages of the heap that the connect storm grew and that stay resident.
"""

import argparse
import asyncio
import gc
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tornado.netutil  # noqa: E402

from chat.app import make_app, shutdown  # noqa: E402
from chat.config import Settings  # noqa: E402
from chat.gate import make_server, raise_file_limit  # noqa: E402
from chat.handlers import ChatSocket  # noqa: E402
from chat.nicknames import key  # noqa: E402

# The child: connect the clients, say so, hold them until stdin closes.
CLIENTS = """
import asyncio, sys
sys.path.insert(0, {root!r})
from bench.swarm import Swarm

async def main():
    swarm = Swarm({url!r}, {clients}, 1, 0, None)
    await swarm.connect()
    missing = await swarm.welcomed(120)
    print("ready", missing, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    swarm.close()

asyncio.run(main())
"""


async def settled() -> None:
    """Wait until no chat socket has anything queued or unsent (the join events are out)."""
    while any(socket.outgoing.frames or socket.outgoing.unsent
              for socket in ChatSocket.everyone()):
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # the last reads and callbacks


async def measure(clients: int, frames: int) -> tuple[tracemalloc.Snapshot, tracemalloc.Snapshot]:
    """Serve, connect `clients` from a child process, and return the snapshots before and after."""
    settings = Settings(db=Path(":memory:"), rate=0, max_per_ip=0)
    app = make_app(settings)
    server = make_server(app, settings)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    key("warm")  # the confusables table loads at the first nickname: a cost per process
    gc.collect()
    tracemalloc.start(frames)
    before = tracemalloc.take_snapshot()
    script = CLIENTS.format(root=str(Path(__file__).resolve().parent.parent),
                            url=f"ws://127.0.0.1:{port}/ws", clients=clients)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert child.stdout is not None and child.stdin is not None
    line = await child.stdout.readline()
    if not line.startswith(b"ready 0"):
        raise SystemExit(f"the clients did not all connect: {line!r}")
    await settled()
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    child.stdin.close()
    await child.wait()
    server.stop()
    await shutdown(app)
    return before, after


def main() -> None:
    """Print the allocations that N idle connections keep alive, per connection."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=8, help="traceback depth to group by")
    parser.add_argument("--top", type=int, default=25, help="how many groups to print")
    parser.add_argument("--by", choices=("traceback", "lineno", "filename"), default="traceback",
                        help="group by the whole traceback, or by the line or file that allocated")
    args = parser.parse_args()
    raise_file_limit()
    before, after = asyncio.run(measure(args.clients, args.frames))
    ignored = [tracemalloc.Filter(False, tracemalloc.__file__)]
    before, after = before.filter_traces(ignored), after.filter_traces(ignored)
    differences = after.compare_to(before, args.by)
    total = sum(difference.size_diff for difference in differences)
    print(f"{args.clients} idle connections: {total / args.clients / 1024:.2f} KB each "
          "(Python allocations still alive)")
    for difference in differences[: args.top]:
        print(f"\n{difference.size_diff / args.clients:8.0f} B/connection, "
              f"{difference.count_diff / args.clients:5.2f} blocks/connection")
        for line in difference.traceback.format(limit=args.frames, most_recent_first=True):
            print("   ", line)


if __name__ == "__main__":
    main()
