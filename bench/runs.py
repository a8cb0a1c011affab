"""One run: a fresh server (and redis-server) in a temporary folder, the load generator against it.

The generator runs as its own process (bench/loadgen.py), pinned to its own
core, and prints one JSON report; an Outcome keeps that report, or why there
is none. A shape that is the first step of a climb reuses that step's run
instead of running again (first_step).
"""

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.contenders import (
    BENCH,
    ROOT,
    Server,
    cores,
    pinned,
    start_redis,
    start_server,
    stop_server,
)
from bench.shapes import Shape
from harness.ports import free_port
from harness.redis_server import RedisServer


@dataclass
class Outcome:
    """One run: which server, shape and repetition, and the generator's report (or why none)."""

    server: str
    shape: str
    repetition: int
    seconds: float
    report: dict = field(default_factory=dict)
    error: str | None = None


def run_once(server: Server, shape: Shape, repetition: int, pin: bool = True,
             chat_root: Path = ROOT) -> Outcome:
    """Run one shape against a fresh server (and a fresh redis-server) and return the report."""
    server_core, generator_core = cores(pin, server)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        port = free_port()
        try:
            process, redis = start_contender(server, port, Path(folder), server_core, chat_root)
        except RuntimeError as error:
            return Outcome(server.name, shape.name, repetition, 0.0, error=str(error))
        try:
            done = subprocess.run(generator_command(server, shape, port, process, redis),
                                  capture_output=True, text=True,
                                  timeout=shape.worst_case() + 60,
                                  preexec_fn=pinned(generator_core))
        except subprocess.TimeoutExpired:
            return Outcome(server.name, shape.name, repetition, time.monotonic() - started,
                           error="the load generator did not finish in time")
        finally:
            stop_server(process)
            if redis is not None:
                redis.stop()
        seconds = time.monotonic() - started
        if done.returncode != 0:
            return Outcome(server.name, shape.name, repetition, seconds,
                           error=f"load generator exited {done.returncode}: {done.stderr[-2000:]}")
        report = json.loads(done.stdout)
        return Outcome(server.name, shape.name, repetition, seconds, report=report,
                       error=report.get("error"))


def start_contender(server: Server, port: int, folder: Path, core: set[int] | None,
                    chat_root: Path) -> tuple[subprocess.Popen, RedisServer | None]:
    """Start the server, after its redis-server if it is a cluster; raise RuntimeError if not."""
    redis = None
    try:
        if server.processes:
            # On the server's cores: with one process, server and Redis share
            # one core, as our SQLite server shares it with its writer thread.
            redis = start_redis(folder, core)
        process = start_server(server, port, folder, core, chat_root,
                               redis.url if redis is not None else None)
    except RuntimeError:
        if redis is not None:
            redis.stop()
        raise
    return process, redis


def generator_command(server: Server, shape: Shape, port: int, process: subprocess.Popen,
                      redis: RedisServer | None) -> list[str]:
    """Return the load generator's command line for this shape against this server."""
    command = [sys.executable, str(BENCH / "loadgen.py"),
               f"ws://127.0.0.1:{port}{server.path}", *shape.arguments(),
               "--server-pid", str(process.pid)]
    if server.ours:  # it welcomes every client; the reference servers send nothing
        command.append("--await-welcome")
    if redis is not None and redis.process is not None:
        command += ["--redis-pid", str(redis.process.pid)]
    return command


def first_step(shape: Shape, shapes: list[Shape], server: Server, repetition: int,
               outcomes: list[Outcome]) -> Outcome | None:
    """Return this shape's run taken from the first step of the climb it shares, if that ran."""
    climb = next((other for other in shapes if other.name == shape.first_step_of), None)
    if climb is None:
        return None
    assert (climb.clients, climb.senders, climb.rates[0], climb.duration) == (
        shape.clients, shape.senders, shape.rates[0], shape.duration), shape.name
    for outcome in outcomes:
        if (outcome.server, outcome.shape, outcome.repetition) == (server.name, climb.name,
                                                                   repetition):
            report = {key: value for key, value in outcome.report.items()
                      if key not in ("open", "sustained_rate")}
            report["open"] = outcome.report.get("open", [])[:1]
            report["first_step_of"] = climb.name
            return Outcome(server.name, shape.name, repetition, 0.0, report=report,
                           error=outcome.error)
    return None
