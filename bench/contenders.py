"""The servers the benchmark measures, and how to start, place and stop each one.

Ours (run.py from a checkout, alone or as a cluster node through a private
redis-server), the design card done plainly in Tornado, Node's ws, and the
websockets library. Each starts on a free 127.0.0.1 port with the open-file
hard limit, on the cores the run gives it, and is stopped by its PID (its
workers by theirs too).
"""

import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.procfs import process_tree
from harness.redis_server import RedisServer

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
NODE_DIR = BENCH / "servers" / "node_ws"
SERVER_CORE, GENERATOR_CORE = 0, 1
START_TIMEOUT = 20.0  # seconds for a server to accept connections
STOP_TIMEOUT = 2.0  # seconds for a server to exit after SIGTERM, before SIGKILL


@dataclass(frozen=True)
class Server:
    """A server under test: how to start it on a port, and the WebSocket path it serves.

    `processes` > 0 makes it our server as a cluster node through a redis-server
    of its own (`--redis`), with that many worker processes (`--processes`).
    """

    name: str
    label: str
    path: str
    processes: int = 0
    default: bool = True  # in the run when --servers is not given

    @property
    def ours(self) -> bool:
        """Whether this is our chat server (run from --chat-at), alone or as a cluster."""
        return self.name == "chat" or self.processes > 0

    def command(self, port: int, folder: Path, redis_url: str | None = None) -> list[str]:
        """Return the command line that serves on 127.0.0.1:`port`."""
        if self.ours:
            command = [sys.executable, "run.py", "--host", "127.0.0.1", "--port", str(port),
                       "--rate", "0", "--max-per-ip", "0", "--db", str(folder / "chat.db")]
            if self.processes:
                command += ["--redis", redis_url, "--processes", str(self.processes)]
            return command
        if self.name == "node":
            return ["node", str(NODE_DIR / "server.js"), str(port)]
        script = {"naive": "naive_tornado.py", "websockets": "websockets_broadcast.py"}[self.name]
        return [sys.executable, str(BENCH / "servers" / script), str(port)]


SERVERS = [
    Server("chat", "our chat server", "/ws"),
    # Opt-in (--servers): the default run's four servers already fill most of its budget.
    Server("chat-redis", "ours, 1 process + Redis", "/ws", processes=1, default=False),
    Server("chat-redis-2", "ours, 2 processes + Redis", "/ws", processes=2, default=False),
    Server("naive", "naive Tornado", "/"),
    Server("node", "Node ws", "/"),
    Server("websockets", "websockets", "/"),
]


def cores(pin: bool, server: Server) -> tuple[set[int] | None, set[int] | None]:
    """Return the cores for the server and the generator, or None each (one core, or not `pin`).

    A server of several processes gets every core, the generator's included:
    pinned to one core its workers would only take turns. Its redis-server
    runs on the server's cores too (see runs.start_contender).
    """
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2 or not pin:
        return None, None
    generator = {available[GENERATOR_CORE]}
    if server.processes > 1:
        return set(available), generator
    return {available[SERVER_CORE]}, generator


def pinned(core: set[int] | None):
    """Return a preexec_fn that pins the child to `core` and raises its open-file limit."""

    def prepare() -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        if core is not None:
            os.sched_setaffinity(0, core)

    return prepare


def start_redis(folder: Path, core: set[int] | None) -> RedisServer:
    """Start a fresh redis-server on a free 127.0.0.1 port, on `core`; return it once it answers.

    Raises a RuntimeError (harness's MissingProgram or StartFailed) if it cannot.
    """
    redis = RedisServer(folder)  # no persistence: --save "" --appendonly no
    redis.start(cores=core)
    return redis


def wait_for_nodes(url: str, count: int, process: subprocess.Popen, deadline: float) -> None:
    """Wait until `count` nodes have subscribed to the cluster's channel, i.e. every worker.

    The port answers as soon as the parent has bound it, before any worker is
    serving; a worker that starts late would get no connections at all.
    """
    import redis  # noqa: PLC0415 (a dependency of our server; only the cluster variants need it)

    with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
        while True:
            (_, subscribed), = client.pubsub_numsub("chat:events")
            if subscribed >= count:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"only {subscribed} of {count} workers joined Redis")
            time.sleep(0.05)
    # From subscribing to accepting is one heartbeat script and synchronous set-up.
    time.sleep(0.5)


def start_server(server: Server, port: int, folder: Path, core: set[int] | None,
                 chat_root: Path = ROOT, redis_url: str | None = None) -> subprocess.Popen:
    """Start a server and return once it accepts TCP connections (and every worker serves)."""
    log = open(folder / f"{server.name}.log", "ab")
    process = subprocess.Popen(server.command(port, folder, redis_url),
                               cwd=chat_root if server.ours else ROOT,
                               stdout=log, stderr=log,
                               stdin=subprocess.DEVNULL, preexec_fn=pinned(core))
    log.close()  # the child has its own copy
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            if redis_url is not None:
                wait_for_nodes(redis_url, server.processes, process, deadline)
            return process
        except (OSError, RuntimeError):
            if process.poll() is not None or time.monotonic() > deadline:
                stop_server(process)
                log_text = (folder / f"{server.name}.log").read_text(errors="replace")
                raise RuntimeError(
                    f"{server.label} did not start on port {port}:\n{log_text}"
                ) from None
            time.sleep(0.05)  # polling a port that is about to open


def stop_server(process: subprocess.Popen) -> None:
    """Stop a server by its PID: SIGTERM, then SIGKILL if it lingers, its workers by theirs too."""
    if process.poll() is None:
        workers = process_tree(process.pid)[1:]  # before they are orphaned
        process.terminate()  # run.py's parent passes it on to its workers
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)  # only if it outlived its parent: it is ours
            except ProcessLookupError:
                pass


def ensure_node_server() -> None:
    """Install the Node server's `ws` package if it is missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("The Node reference server needs node and npm on the PATH.")
    if not (NODE_DIR / "node_modules" / "ws").is_dir():
        print("npm install in bench/servers/node_ws ...", flush=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)
