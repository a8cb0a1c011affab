"""Run the broadcast benchmark: every server through every shape, then medians, a table, a plot.

    python bench/run.py            # the full run; ends by itself within --budget (14 min)
    python bench/run.py --quick    # a tiny version (about a minute) to check the harness

Each run starts one server on a free 127.0.0.1 port, pinned to core 0 with a
raised open-file limit, runs bench/loadgen.py against it pinned to core 1,
and stops the server by its PID. The order of the servers alternates between
repetitions. The opt-in cluster variants (--servers chat-redis,chat-redis-2)
also get a fresh redis-server each, whose CPU the generator reads too
(--redis-pid). Writes bench/results/results.md, results.png and results.json
(every run's raw report). See bench/README.md for what each shape and column means.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import bench.* from this checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procfs import process_tree  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
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


@dataclass(frozen=True)
class Shape:
    """A load shape: how many clients, who sends what, and how long it may take."""

    name: str
    what: str
    clients: int
    senders: int = 1
    messages: int = 0  # closed loop, per sender
    rates: tuple[float, ...] = ()  # open loop, messages/s in all, climbing
    duration: float = 10.0
    cap: float = 30.0  # closed loop: seconds before the run counts as failed
    drain: float = 5.0  # open loop: seconds to deliver what is in flight
    repetitions: int = 3
    sample: int = 20  # clients that parse frames to time latency (besides the senders)
    # The name of a climbing shape whose first step is this shape (same clients,
    # senders, rate and duration, on a fresh server): in a repetition where that
    # shape runs, its first step counts as this shape's run instead of a new one.
    first_step_of: str = ""

    def arguments(self) -> list[str]:
        """Return the load generator's options for this shape."""
        arguments = ["--clients", str(self.clients), "--senders", str(self.senders),
                     "--sample", str(self.sample)]
        if self.messages:
            arguments += ["--messages", str(self.messages), "--cap", str(self.cap)]
        if self.rates:
            arguments += ["--rate", ",".join(f"{rate:g}" for rate in self.rates),
                          "--duration", str(self.duration), "--drain", str(self.drain)]
        return arguments

    def worst_case(self) -> float:
        """Return the longest a run of this shape may take, in seconds, connecting included."""
        connect = 10 + self.clients / 50  # a slow server greets 1000 clients in ~20 s
        if self.messages:
            return connect + self.cap
        return connect + len(self.rates) * (self.duration + self.drain)


# In the order they run within a repetition; capacity before latency, whose first run it gives.
FULL = [
    Shape("classroom", "30 clients, 5 senders x 2000 messages, closed loop", 30, 5, messages=2000,
          cap=20, sample=5),
    Shape("hall", "1000 clients, 10 senders x 300 messages, closed loop", 1000, 10, messages=300,
          cap=25),
    Shape("capacity", "1000 clients, 10 senders, 50..1600 messages/s, 10 s each", 1000, 10,
          rates=(50, 100, 200, 400, 800, 1600), repetitions=1),
    Shape("latency", "1000 clients, 10 senders, 50 messages/s for 10 s", 1000, 10, rates=(50,),
          first_step_of="capacity"),
    Shape("idle", "2000 idle clients", 2000, repetitions=1),
]
QUICK = [
    Shape("classroom", "10 clients, 2 senders x 100 messages, closed loop", 10, 2, messages=100,
          cap=10, repetitions=1, sample=3),
    Shape("hall", "100 clients, 4 senders x 30 messages, closed loop", 100, 4, messages=30,
          cap=10, repetitions=1),
    Shape("capacity", "100 clients, 4 senders, 20..80 messages/s, 1 s each", 100, 4,
          rates=(20, 40, 80), duration=1, drain=2, repetitions=1),
    Shape("latency", "100 clients, 4 senders, 20 messages/s for 1 s", 100, 4, rates=(20,),
          duration=1, drain=2, repetitions=2, first_step_of="capacity"),
    Shape("idle", "200 idle clients", 200, repetitions=1),
]


@dataclass
class Outcome:
    """One run: which server, shape and repetition, and the generator's report (or why none)."""

    server: str
    shape: str
    repetition: int
    seconds: float
    report: dict = field(default_factory=dict)
    error: str | None = None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cores(pin: bool, server: Server) -> tuple[set[int] | None, set[int] | None]:
    """Return the cores for the server and the generator, or None each (one core, or not `pin`).

    A server of several processes gets every core, the generator's included:
    pinned to one core its workers would only take turns. Its redis-server
    runs on the server's cores too (see run_once).
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


def start_redis(folder: Path, core: set[int] | None) -> tuple[subprocess.Popen, str]:
    """Start a fresh redis-server on a free 127.0.0.1 port; return it and its URL once it answers."""
    import redis  # noqa: PLC0415 (a dependency of our server; only the cluster variants need it)

    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("the cluster variants need redis-server on the PATH "
                           "(apt-get install redis-server)")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    log = open(folder / "redis.log", "ab")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL, preexec_fn=pinned(core))
    log.close()
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
                client.ping()
            return process, url
        except (redis.RedisError, OSError):
            if process.poll() is not None or time.monotonic() > deadline:
                stop_server(process)
                log_text = (folder / "redis.log").read_text(errors="replace")
                raise RuntimeError(f"redis-server did not start on port {port}:\n{log_text}")
            time.sleep(0.05)  # polling a port that is about to open


def wait_for_nodes(url: str, count: int, process: subprocess.Popen, deadline: float) -> None:
    """Wait until `count` nodes have subscribed to the cluster's channel, i.e. every worker.

    The port answers as soon as the parent has bound it, before any worker is
    serving; a worker that starts late would get no connections at all.
    """
    import redis  # noqa: PLC0415

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
                raise RuntimeError(f"{server.label} did not start on port {port}:\n{log_text}")
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


def run_once(server: Server, shape: Shape, repetition: int, pin: bool = True,
             chat_root: Path = ROOT) -> Outcome:
    """Run one shape against a fresh server (and a fresh redis-server) and return the report."""
    server_core, generator_core = cores(pin, server)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        port = free_port()
        redis_process, redis_url = None, None
        try:
            if server.processes:
                # On the server's cores: with one process, server and Redis share
                # one core, as our SQLite server shares it with its writer thread.
                redis_process, redis_url = start_redis(Path(folder), server_core)
            process = start_server(server, port, Path(folder), server_core, chat_root, redis_url)
        except RuntimeError as error:
            if redis_process is not None:
                stop_server(redis_process)
            return Outcome(server.name, shape.name, repetition, 0.0, error=str(error))
        try:
            command = [sys.executable, str(BENCH / "loadgen.py"),
                       f"ws://127.0.0.1:{port}{server.path}", *shape.arguments(),
                       "--server-pid", str(process.pid)]
            if server.ours:  # it welcomes every client; the reference servers send nothing
                command.append("--await-welcome")
            if redis_process is not None:
                command += ["--redis-pid", str(redis_process.pid)]
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=shape.worst_case() + 60,
                                  preexec_fn=pinned(generator_core))
        except subprocess.TimeoutExpired:
            return Outcome(server.name, shape.name, repetition, time.monotonic() - started,
                           error="the load generator did not finish in time")
        finally:
            stop_server(process)
            if redis_process is not None:
                stop_server(redis_process)
        seconds = time.monotonic() - started
        if done.returncode != 0:
            return Outcome(server.name, shape.name, repetition, seconds,
                           error=f"load generator exited {done.returncode}: {done.stderr[-2000:]}")
        report = json.loads(done.stdout)
        return Outcome(server.name, shape.name, repetition, seconds, report=report,
                       error=report.get("error"))


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


def commit_of(checkout: Path) -> str:
    """Return the short commit of our server's checkout, marked + if its work tree has changes."""
    def git(*arguments: str) -> str:
        return subprocess.run(["git", "-C", str(checkout), *arguments], capture_output=True,
                              text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "chat", "run.py")
    return commit + ("+" if changed else "")


def ensure_node_server() -> None:
    """Install the Node server's `ws` package if it is missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("The Node reference server needs node and npm on the PATH.")
    if not (NODE_DIR / "node_modules" / "ws").is_dir():
        print("npm install in bench/servers/node_ws ...", flush=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)


# --- summarising -----------------------------------------------------------------------


def metrics(outcome: Outcome) -> dict[str, float | None]:
    """Pull the table's figures out of one run's report (None where it has none)."""
    report = outcome.report
    figures: dict[str, float | None] = {
        "connect_s": report.get("connect_s"),
        "settle_s": report.get("settle_s"),
        "rss_idle_mb": report.get("server_rss_idle_mb"),
        "rss_per_connection_kb": report.get("rss_per_connection_kb"),
    }
    steps = report.get("open") or []
    passed = [step for step in steps if step["passed"]]
    # Capacity: the figures at the highest rate sustained (or at the first, if none was).
    phase = report.get("closed") or (passed[-1] if passed else steps[0] if steps else None)
    if phase is not None:
        figures.update(
            deliveries_per_s=phase["deliveries_per_s"], lost=phase["lost"],
            p50_ms=phase["latency_ms"]["p50"], p90_ms=phase["latency_ms"]["p90"],
            p99_ms=phase["latency_ms"]["p99"], max_ms=phase["latency_ms"]["max"],
            first_message_max_ms=phase["first_message_max_ms"],
            server_cpu_pct=phase.get("server_cpu_pct"),
            generator_cpu_pct=phase["generator_cpu_pct"],
            server_wait_pct=phase.get("server_wait_pct"),
            generator_wait_pct=phase.get("generator_wait_pct"),
            rss_peak_mb=phase.get("server_rss_peak_mb"),
            redis_cpu_pct=phase.get("redis_cpu_pct"),
            failed=0 if phase["complete"] else 1,
        )
        if phase.get("server_cpu_s"):
            # Deliveries per second of server CPU: what a whole core would carry, and
            # much less sensitive than deliveries/s to other work sharing the core.
            # A cluster's CPU is its workers' and its redis-server's together.
            cpu = phase["server_cpu_s"] + phase.get("redis_cpu_s", 0)
            figures["deliveries_per_cpu_s"] = phase["received"] / cpu
        if figures.get("rss_peak_mb") and figures.get("rss_idle_mb"):
            figures["peak_over_idle"] = figures["rss_peak_mb"] / figures["rss_idle_mb"]
    if "sustained_rate" in report:
        figures["sustained_rate"] = report["sustained_rate"]
    return figures


def medians(outcomes: list[Outcome]) -> dict[tuple[str, str], dict[str, float]]:
    """Return, per (server, shape), the median of each figure over its repetitions."""
    grouped: dict[tuple[str, str], list[dict]] = {}
    for outcome in outcomes:
        if outcome.report and "connect_s" in outcome.report:
            grouped.setdefault((outcome.server, outcome.shape), []).append(metrics(outcome))
    summary = {}
    for key, runs in grouped.items():
        names = {name for run in runs for name in run}
        summary[key] = {
            name: statistics.median(values)
            for name in names
            if (values := [run[name] for run in runs if run.get(name) is not None])
        }
        summary[key]["runs"] = len(runs)
        summary[key]["failed_runs"] = sum(run.get("failed", 0) for run in runs)
    return summary


# The headline: (shape, figure, column title, higher is better)
HEADLINE = [
    ("classroom", "deliveries_per_s", "classroom deliveries/s", True),
    ("hall", "deliveries_per_s", "hall deliveries/s", True),
    ("hall", "deliveries_per_cpu_s", "hall deliveries per server CPU-s", True),
    ("latency", "p99_ms", "latency p99 ms", False),
    ("capacity", "sustained_rate", "capacity msg/s", True),
    ("idle", "rss_per_connection_kb", "idle KB/connection", False),
    ("hall", "peak_over_idle", "hall peak/idle RSS", False),
    ("latency", "first_message_max_ms", "slowest first message ms", False),
]
DETAIL = [
    ("deliveries_per_s", "deliveries/s"), ("deliveries_per_cpu_s", "per server CPU-s"),
    ("lost", "lost"), ("p50_ms", "p50 ms"),
    ("p90_ms", "p90 ms"), ("p99_ms", "p99 ms"), ("max_ms", "max ms"),
    ("first_message_max_ms", "first msg ms"), ("connect_s", "connect s"),
    ("settle_s", "settled s"), ("server_cpu_pct", "server CPU %"),
    ("generator_cpu_pct", "generator CPU %"), ("server_wait_pct", "server waited %"),
    ("generator_wait_pct", "generator waited %"), ("redis_cpu_pct", "Redis CPU %"),
    ("rss_idle_mb", "RSS idle MB"), ("rss_peak_mb", "RSS peak MB"),
]


def number(value: float | None) -> str:
    """Format a figure for the table: 3 significant digits, thousands separated."""
    if value is None:
        return "–"
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def ratio(value: float | None, base: float | None) -> str:
    """Format value/base as `2.5x`, or a dash."""
    if value is None or not base:
        return "–"
    return f"{value / base:.2f}x"


def versions() -> dict[str, str]:
    """Return the machine and software the run used."""
    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import tornado  # noqa: PLC0415 (only for its version)
    import websockets  # noqa: PLC0415

    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    ws_package = NODE_DIR / "node_modules" / "ws" / "package.json"
    ws_version = json.loads(ws_package.read_text())["version"]
    try:
        import uvloop  # noqa: PLC0415

        loop = f"uvloop {uvloop.__version__}"
    except ImportError:
        loop = "asyncio (uvloop not installed)"
    return {
        "nproc": str(os.cpu_count()), "cpu": model, "kernel": platform.release(),
        "python": platform.python_version(), "tornado": tornado.version,
        "websockets": websockets.__version__, "node": node, "ws": ws_version,
        "generator loop": loop,
    }


def write_markdown(outcomes: list[Outcome], shapes: list[Shape], info: dict, path: Path) -> str:
    """Write results.md: the headline medians, ratios, per-shape details, the generator check."""
    summary = medians(outcomes)
    ran = {outcome.server for outcome in outcomes}
    names = [server.name for server in SERVERS if server.name in ran]
    labels = {server.name: server.label for server in SERVERS}
    cluster = any(server.processes for server in SERVERS if server.name in ran)
    detail = [column for column in DETAIL if cluster or column[0] != "redis_cpu_pct"]
    shape_names = {shape.name for shape in shapes}
    headline = [column for column in HEADLINE if column[0] in shape_names]
    lines = [
        f"# Broadcast benchmark: results of {info['date']}",
        "",
        f"Machine: {info['nproc']} cores, {info['cpu']}, Linux {info['kernel']}; "
        f"Python {info['python']}, Tornado {info['tornado']}, websockets {info['websockets']}, "
        f"Node {info['node']} with ws {info['ws']}; generator on {info['generator loop']}. "
        f"Our server at commit {info['chat_commit']} (+ = uncommitted changes in chat/ or run.py). "
        f"Run: `{info['command']}`, {info['duration_min']:.1f} minutes. "
        + (f"Server on core {SERVER_CORE}, generator on core {GENERATOR_CORE}"
           + ("; a server of several processes and its redis-server on every core, the "
              "generator's included; a one-process server's redis-server on the server's core. "
              if cluster else ". ")
           if info["pinned"] else "Server and generator not pinned (--no-pin). ") +
        "Figures are medians over the repetitions (how many: the detail tables' last column).",
        "",
    ]
    if info.get("note"):
        lines += [f"**Note:** {info['note']}", ""]
    lines += ["## Medians", "",
              "| server | " + " | ".join(title for _, _, title, _ in headline) + " |",
              "|---|" + "---:|" * len(headline)]
    for name in names:
        cells = [number(summary.get((name, shape), {}).get(figure))
                 for shape, figure, _, _ in headline]
        lines.append(f"| {labels[name]} | " + " | ".join(cells) + " |")
    # Against the reference servers, and the cluster variants against our SQLite server.
    bases = ["node", "naive"] + (["chat"] if len(set(names) - {"chat", "naive", "node",
                                                                  "websockets"}) else [])
    for base in [base for base in bases if base in names]:
        lines += ["", f"## Ratios to {labels[base]} (each figure divided by {labels[base]}'s)",
                  "",
                  "| server | " + " | ".join(
                      f"{title} ({'higher' if up else 'lower'} is better)"
                      for _, _, title, up in headline) + " |",
                  "|---|" + "---:|" * len(headline)]
        for name in names:
            cells = [ratio(summary.get((name, shape), {}).get(figure),
                           summary.get((base, shape), {}).get(figure))
                     for shape, figure, _, _ in headline]
            lines.append(f"| {labels[name]} | " + " | ".join(cells) + " |")
    for shape in shapes:
        at = " (figures at the highest rate each server sustained)" if len(shape.rates) > 1 else ""
        lines += ["", f"## {shape.name}: {shape.what}{at}", "",
                  "| server | " + " | ".join(title for _, title in detail) + " | runs (failed) |",
                  "|---|" + "---:|" * (len(detail) + 1)]
        for name in names:
            figures = summary.get((name, shape.name))
            if figures is None:
                lines.append(f"| {labels[name]} | " + " | ".join("–" for _ in detail) + " | 0 |")
                continue
            cells = [number(figures.get(figure)) for figure, _ in detail]
            lines.append(f"| {labels[name]} | " + " | ".join(cells)
                         + f" | {figures['runs']} ({figures['failed_runs']}) |")
        if shape.name == "capacity":
            lines += ["", "Capacity steps (each run): rate → p99 ms, lost; "
                      "✗ = failed, climbing stopped.",
                      ""]
            for outcome in outcomes:
                if outcome.shape == "capacity" and outcome.report.get("open"):
                    steps = ", ".join(
                        f"{step['rate']:g} → {number(step['latency_ms']['p99'])}"
                        f"{'' if step['lost'] == 0 else ', lost ' + str(step['lost'])}"
                        f"{'' if step['passed'] else ' ✗'}"
                        for step in outcome.report["open"])
                    lines.append(f"- {labels[outcome.server]} (run {outcome.repetition + 1}): "
                                 f"{steps}; sustained {outcome.report['sustained_rate']:g} msg/s")
    lines += ["", "## Issue 5's targets for our server", "", *targets(summary)]
    lines += ["", "## Was the generator the limit?", "", generator_check(outcomes, labels)]
    errors = [outcome for outcome in outcomes if outcome.error]
    if errors:
        lines += ["", "## Runs with errors", ""]
        lines += [f"- {labels[o.server]}, {o.shape}, run {o.repetition + 1}: "
                  f"{o.error.splitlines()[0][:300]}" for o in errors]
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return text


def targets(summary: dict[tuple[str, str], dict[str, float]]) -> list[str]:
    """Return a table of issue 5's targets: our server's figure, the bar, and whether it is met."""

    def figure(server: str, shape: str, name: str) -> float | None:
        return summary.get((server, shape), {}).get(name)

    def times(shape: str, name: str, base: str, factor: float) -> tuple[str, str, bool | None]:
        ours, theirs = figure("chat", shape, name), figure(base, shape, name)
        if ours is None or theirs is None:
            return "–", "–", None
        if not theirs:
            return number(ours), f"{base} sustained none: no bar", None
        bar = factor * theirs
        return number(ours), f"≥ {number(bar)} ({factor:g}x {base})", ours >= bar

    rows = [
        ("capacity, msg/s", *times("capacity", "sustained_rate", "node", 5)),
        ("hall, deliveries/s", *times("hall", "deliveries_per_s", "node", 5)),
        ("classroom, deliveries/s", *times("classroom", "deliveries_per_s", "node", 3)),
    ]
    ours, node = figure("chat", "latency", "p99_ms"), figure("node", "latency", "p99_ms")
    lost = figure("chat", "latency", "lost")
    if ours is not None and node is not None:
        rows.append(("latency p99 ms, lost", f"{number(ours)}, {number(lost)}",
                     f"≤ {number(node)} (node), 0", ours <= node and lost == 0))
    ours = figure("chat", "idle", "rss_per_connection_kb")
    naive = figure("naive", "idle", "rss_per_connection_kb")
    if ours is not None and naive is not None:
        rows.append(("idle KB/connection", number(ours), f"≤ {number(naive)} (naive)",
                     ours <= naive))
    peak = figure("chat", "hall", "peak_over_idle")
    if peak is not None:
        rows.append(("hall peak RSS / idle RSS", number(peak), "≤ 1.50", peak <= 1.5))
    first = figure("chat", "latency", "first_message_max_ms")
    p99 = figure("chat", "latency", "p99_ms")
    if first is not None and p99 is not None:
        rows.append(("slowest first message ms (latency shape)", number(first),
                     f"≤ {number(p99)} (its p99)", first <= p99))
    lines = ["| target | ours | bar | met |", "|---|---:|---:|---|"]
    for name, value, bar, met in rows:
        verdict = "–" if met is None else "yes" if met else "no"
        lines.append(f"| {name} | {value} | {bar} | {verdict} |")
    return lines


def generator_check(outcomes: list[Outcome], labels: dict[str, str]) -> str:
    """Say, from each loaded phase's CPU figures, whether the generator kept up."""
    rows = []
    redis = any(phase.get("redis_cpu_pct") is not None for outcome in outcomes
                for phase in [outcome.report.get("closed"), *(outcome.report.get("open") or [])]
                if phase)
    for outcome in outcomes:
        if "first_step_of" in outcome.report:
            continue  # the same phase as the climb it came from
        for phase in [outcome.report.get("closed"), *(outcome.report.get("open") or [])]:
            if phase and phase.get("server_cpu_pct") is not None:
                rows.append((outcome, phase))
    if not rows:
        return "No loaded run to judge from."
    busiest = max(phase["generator_cpu_pct"] for _, phase in rows)
    # What one delivery costs the generator in each closed-loop shape (the heaviest phases).
    costs: dict[str, list[float]] = {}
    for outcome, phase in rows:
        if phase["mode"] == "closed" and phase["received"] > 10_000:
            costs.setdefault(outcome.shape, []).append(
                1e6 * phase["generator_cpu_s"] / phase["received"])
    cost_text = "; ".join(f"{shape} {statistics.median(values):.2f} µs "
                          f"({min(values):.2f} to {max(values):.2f})"
                          for shape, values in costs.items())
    text = [
        "Each phase reports the CPU time the server and the generator used during it, as a "
        "percentage of one core over the phase's wall time (server: every thread's "
        "/proc/PID/task/*/schedstat; generator: os.times), and how long each was runnable "
        "but waiting for its core (\"waited\": other processes on that core). A closed-loop "
        "phase keeps the server busy: a server near 100% with the generator well below it "
        "means the server was the limit; a server well under 100% that waited a lot means "
        "the machine was busy with something else and the figures understate both.",
        "",
        f"Highest generator CPU in any phase: {busiest:.0f}% of a core."
        + (f" Generator CPU per delivery in the closed loops (median, range): {cost_text}."
           if costs else ""),
        "",
        "| server | shape | server CPU % | server waited % | generator CPU % "
        "| generator waited % |" + (" Redis CPU % |" if redis else ""),
        "|---|---|---:|---:|---:|---:|" + ("---:|" if redis else ""),
    ]
    for outcome, phase in rows:
        if phase["mode"] == "closed" or phase is outcome.report["open"][-1]:
            step = f" at {phase['rate']:g}/s" if phase["mode"] == "open" else ""
            text.append(
                f"| {labels[outcome.server]} | {outcome.shape}{step} (run {outcome.repetition + 1})"
                f" | {phase['server_cpu_pct']:.0f} | {number(phase.get('server_wait_pct'))}"
                f" | {phase['generator_cpu_pct']:.0f}"
                f" | {number(phase.get('generator_wait_pct'))} |"
                + (f" {number(phase.get('redis_cpu_pct'))} |" if redis else ""))
    suspicious = [(o, p) for o, p in rows
                  if p["generator_cpu_pct"] >= 80 or p["generator_cpu_pct"] >= p["server_cpu_pct"]]
    if suspicious:
        text += ["", "Phases where the generator was as busy as the server, or above 80% of "
                 "its core (their figures may understate the server): " + ", ".join(
                     f"{labels[o.server]} {o.shape} run {o.repetition + 1}"
                     + (f" at {p['rate']:g} msg/s" if p["mode"] == "open" else "")
                     for o, p in suspicious) + "."]
    else:
        text += ["", "In every phase the generator used less CPU than the server and under 80% "
                 "of its core."]
    return "\n".join(text)


def plot(outcomes: list[Outcome], shapes: list[Shape], path: Path) -> None:
    """Draw the headline figures, one bar chart each, and the capacity climb."""
    import matplotlib  # noqa: PLC0415 (only needed at the end)

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot  # noqa: PLC0415

    summary = medians(outcomes)
    shape_names = {shape.name for shape in shapes}
    headline = [column for column in HEADLINE if column[0] in shape_names]
    colour_of = {"chat": "#d62728", "chat-redis": "#ff7f0e", "chat-redis-2": "#9467bd",
                 "naive": "#7f7f7f", "node": "#2ca02c", "websockets": "#1f77b4"}
    ran = {outcome.server for outcome in outcomes}
    servers = [server for server in SERVERS if server.name in ran]
    labels = [server.label for server in servers]
    colours = [colour_of[server.name] for server in servers]
    panels = len(headline) + ("capacity" in shape_names)
    columns = 4
    rows = (panels + columns - 1) // columns
    figure, axes = pyplot.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows))
    axes = list(axes.flat)
    for axis, (shape, metric, title, up) in zip(axes, headline):
        values = [summary.get((server.name, shape), {}).get(metric, 0) or 0 for server in servers]
        axis.bar(range(len(servers)), values, color=colours)
        axis.set_xticks(range(len(servers)), labels, rotation=20, fontsize=8)
        axis.set_title(f"{title}\n({'higher' if up else 'lower'} is better)", fontsize=9)
        for index, value in enumerate(values):
            axis.annotate(number(value), (index, value), ha="center", va="bottom", fontsize=7)
    used = len(headline)
    if "capacity" in shape_names:
        axis = axes[used]
        used += 1
        for server, colour in zip(servers, colours):
            runs = [o for o in outcomes if o.server == server.name and o.shape == "capacity"
                    and o.report.get("open")]
            if runs:
                steps = runs[0].report["open"]
                axis.plot([step["rate"] for step in steps],
                          [step["latency_ms"]["p99"] or 0 for step in steps],
                          marker="o", color=colour, label=server.label)
        climb = next(shape for shape in shapes if shape.name == "capacity")
        axis.axhline(100, color="black", linewidth=0.8, linestyle="--")
        axis.set_xscale("log", base=2)
        axis.set_xticks(climb.rates, [f"{rate:g}" for rate in climb.rates], fontsize=8)
        axis.set_yscale("log")
        axis.set_xlabel(f"messages/s ({climb.clients} clients)", fontsize=8)
        axis.set_title("capacity: p99 ms by rate (first run)", fontsize=9)
        axis.legend(fontsize=7)
    for axis in axes[used:]:
        axis.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)


def main() -> None:
    """Run every server through every shape within the budget, then write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny run to check the harness")
    parser.add_argument("--budget", type=float, default=14.0,
                        help="minutes the whole run may take; repetitions that would not fit "
                             "are skipped and noted (default: %(default)s)")
    parser.add_argument("--servers",
                        default=",".join(server.name for server in SERVERS if server.default),
                        help="comma-separated subset of: "
                             + ", ".join(server.name for server in SERVERS)
                             + " (default: %(default)s; the chat-redis variants are opt-in)")
    parser.add_argument("--shapes", default="",
                        help="comma-separated subset of the shapes (default: all)")
    parser.add_argument("--output", type=Path, default=RESULTS,
                        help="folder for results.md, results.png, results.json")
    parser.add_argument("--chat-at", type=Path, default=ROOT, metavar="CHECKOUT",
                        help="run our server from another checkout, e.g. a `git worktree` of "
                             "the commit before an optimisation (default: this one)")
    parser.add_argument("--no-pin", action="store_true",
                        help="let the kernel place server and generator on any core")
    args = parser.parse_args()
    wanted = args.servers.split(",")
    unknown = set(wanted) - {server.name for server in SERVERS}
    if unknown:
        parser.error(f"unknown --servers {', '.join(sorted(unknown))}; choose from "
                     + ", ".join(server.name for server in SERVERS))
    servers = [server for server in SERVERS if server.name in wanted]
    shapes = QUICK if args.quick else FULL
    if args.shapes:
        shapes = [shape for shape in shapes if shape.name in args.shapes.split(",")]
    if any(server.name == "node" for server in servers):
        ensure_node_server()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    most = max(shape.clients for shape in shapes)
    if hard < most + 100:
        raise SystemExit(f"The open-file hard limit ({hard}) is too low for {most} clients; "
                         "raise it (ulimit -Hn).")
    started = time.monotonic()
    deadline = started + args.budget * 60
    outcomes: list[Outcome] = []
    skipped: list[str] = []
    for repetition in range(max(shape.repetitions for shape in shapes)):
        order = servers if repetition % 2 == 0 else servers[::-1]
        for shape in shapes:
            if repetition >= shape.repetitions:
                continue
            for server in order:
                reused = first_step(shape, shapes, server, repetition, outcomes)
                if reused is not None:
                    outcomes.append(reused)
                    continue
                # Skip what might not end before the deadline: the worst case, or
                # twice what the slowest earlier run of this shape took.
                earlier = [o.seconds for o in outcomes if o.shape == shape.name and o.seconds]
                expected = shape.worst_case()
                if earlier:
                    expected = min(expected, 2 * max(earlier))
                if time.monotonic() + expected > deadline:
                    skipped.append(f"{server.name}/{shape.name}/run {repetition + 1}")
                    continue
                print(f"[{time.monotonic() - started:6.0f} s] run {repetition + 1}: "
                      f"{shape.name} on {server.label} ...", end=" ", flush=True)
                outcome = run_once(server, shape, repetition, pin=not args.no_pin,
                                   chat_root=args.chat_at.resolve())
                outcomes.append(outcome)
                print(f"{outcome.seconds:.1f} s" + (f" ERROR {outcome.error[:200]}"
                                                     if outcome.error else ""), flush=True)
    duration = time.monotonic() - started
    info = versions()
    info.update(
        date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        command=" ".join(["python bench/run.py", *sys.argv[1:]]),
        chat_commit=commit_of(args.chat_at),
        duration_min=duration / 60,
        pinned=not args.no_pin and len(os.sched_getaffinity(0)) > 1,
        note=("Skipped to stay within the budget: " + ", ".join(skipped)) if skipped else "",
    )
    args.output.mkdir(parents=True, exist_ok=True)
    raw = {"info": info, "shapes": [shape.__dict__ for shape in shapes],
           "runs": [outcome.__dict__ for outcome in outcomes]}
    (args.output / "results.json").write_text(json.dumps(raw, indent=1) + "\n")
    text = write_markdown(outcomes, shapes, info, args.output / "results.md")
    plot(outcomes, shapes, args.output / "results.png")
    print(text)
    print(f"Wrote {args.output}/results.md, results.png and results.json "
          f"in {duration / 60:.1f} min.")


if __name__ == "__main__":
    main()
