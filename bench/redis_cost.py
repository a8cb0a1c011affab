"""What one post costs Redis, with 1 to 64 nodes subscribed: the figure that sizes a cluster.

    python bench/redis_cost.py [--posts 20000] [--batch 100]

Starts a private redis-server (Debian's, on a free port on 127.0.0.1, no
persistence), loads the cluster's own Lua scripts (chat/lua/), and sends posts
the way a node does: the `append` script, in pipelined batches. N raw-socket
subscribers stand in for N nodes; each reads the channel until an end marker.
Reports posts per second (often limited by this Python client) and, what
matters for sizing, the CPU time redis-server spent per post, read from
/proc before and after: Redis runs scripts and fans out on one thread, so
1,000,000 / (µs per post) is the most posts a second one Redis can take.
"""

import argparse
import asyncio
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis.asyncio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.procfs import tick_seconds  # noqa: E402
from chat import protocol  # noqa: E402
from chat.cluster import CHANNEL, Scripts  # noqa: E402
from chat.cluster.appending import append_call  # noqa: E402
from chat.effects import NONE  # noqa: E402
from harness.redis_server import MissingProgram, RedisServer, redis_binary  # noqa: E402

END = b"end-of-benchmark"


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time redis-server has used so far (it is running)."""
    seconds = tick_seconds(pid)
    assert seconds is not None, f"redis-server {pid} has exited"
    return seconds


def subscriber(port: int, ready: threading.Event, done: threading.Event) -> None:
    """Subscribe over a raw socket, like a node's pub/sub connection, and read until END."""
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(f"SUBSCRIBE {CHANNEL}\r\n".encode())
        connection.recv(4096)  # the subscription's confirmation
        ready.set()
        tail = b""
        while END not in tail:
            chunk = connection.recv(1 << 20)
            if not chunk:
                raise RuntimeError("redis-server closed the subscription")
            tail = tail[-len(END):] + chunk
    done.set()


async def post_all(port: int, posts: int, batch: int) -> None:
    """Send `posts` posts through the cluster's append script, `batch` per round trip."""
    client = redis.asyncio.Redis(port=port, decode_responses=True)
    scripts = Scripts()
    await scripts.load(client)
    call = append_call(protocol.message("general", "ada", "x" * 100), "ada", None, NONE,
                       "a" * 64, int(time.time() * 1000), 10_000)  # a page's author digest
    for start in range(0, posts, batch):
        replies = await scripts.run_batch(client, [call] * min(batch, posts - start))
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
    await client.publish(CHANNEL, END.decode())
    await client.aclose()


def measure(nodes: int, posts: int, batch: int) -> dict[str, float]:
    """Run one measurement on a fresh redis-server with `nodes` subscribers."""
    with tempfile.TemporaryDirectory() as folder:
        server = RedisServer(Path(folder))  # no persistence
        server.start()
        assert server.process is not None
        port, pid = server.port, server.process.pid
        try:
            threads = []
            for _ in range(nodes):
                ready, done = threading.Event(), threading.Event()
                thread = threading.Thread(target=subscriber, args=(port, ready, done), daemon=True)
                thread.start()
                ready.wait(10)
                threads.append((thread, done))
            cpu_before, started = cpu_seconds(pid), time.perf_counter()
            asyncio.run(post_all(port, posts, batch))
            for _, done in threads:
                if not done.wait(60):
                    raise RuntimeError("a subscriber never saw the end marker")
            elapsed = time.perf_counter() - started
            redis_cpu = cpu_seconds(pid) - cpu_before
        finally:
            server.stop()
    return {"nodes": nodes, "posts_per_s": posts / elapsed,
            "redis_us_per_post": redis_cpu / posts * 1e6,
            "redis_cpu_share": redis_cpu / elapsed}


def main() -> None:
    """Measure with 1, 4, 16 and 64 subscribed nodes and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    try:
        redis_binary()
    except MissingProgram as missing:
        sys.exit(str(missing))
    print(f"{args.posts} posts of 100 characters, {args.batch} per pipeline, one room\n")
    print("| nodes subscribed | posts/s (this client) | Redis CPU µs per post | Redis busy |")
    print("|---:|---:|---:|---:|")
    for nodes in (1, 4, 16, 64):
        row = measure(nodes, args.posts, args.batch)
        print(f"| {nodes} | {row['posts_per_s']:,.0f} | {row['redis_us_per_post']:.1f} "
              f"| {row['redis_cpu_share']:.0%} |", flush=True)


if __name__ == "__main__":
    main()
