"""The benchmark's load generator (bench/loadgen.py): it counts right and reports sane figures.

Not a timing test: nothing here asserts a speed, only that every figure the
benchmark relies on is measured and consistent.
"""

import asyncio
import json
import subprocess
import sys

import pytest
from redis_server import RedisServer
from servers import ROOT, ChatServer, free_port

from bench.client import Client
from bench.frames import ping_frames, split_frames
from bench.growth import idle_table, scaling_table
from bench.phase import Phase, TokenCounter
from bench.report import capacity_runs
from bench.runs import Outcome
from bench.shapes import QUICK, idle_shapes
from bench.summary import medians

LOADGEN = ROOT / "bench" / "loadgen.py"
CLIENTS, SENDERS, MESSAGES = 20, 2, 20
RATE, DURATION = 20, 1.0


@pytest.fixture
def chat_server(tmp_path):
    """Our real server, as the benchmark runs it: no rate limit, no cap per address."""
    server = ChatServer(free_port(), tmp_path / "server.log", "--rate", "0", "--max-per-ip", "0")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cluster_server(tmp_path):
    """Our server as run.py's chat-redis-2 runs it: two workers forked by a parent, and Redis."""
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    server = ChatServer(free_port(), tmp_path / "server.log", "--rate", "0", "--max-per-ip", "0",
                        "--redis", redis.url, "--processes", "2")
    server.start()
    yield server, redis
    server.stop()
    redis.stop()


def run_generator(port: int, server_pid: int, *options: str) -> dict:
    """Run bench/loadgen.py with the smoke test's load against a server; return its report."""
    done = subprocess.run(
        [sys.executable, str(LOADGEN), f"ws://127.0.0.1:{port}/ws",
         "--clients", str(CLIENTS), "--senders", str(SENDERS), "--sample", "4",
         "--messages", str(MESSAGES), "--cap", "20",
         "--rate", str(RATE), "--duration", str(DURATION), "--drain", "10",
         "--server-pid", str(server_pid), "--await-welcome", *options],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "error" not in report, report["error"]
    return report


def test_generator_reports_every_message_delivered_against_our_server(chat_server):
    """A closed-loop and an open-loop run deliver everything and report sane figures."""
    report = run_generator(chat_server.port, chat_server.process.pid)
    closed, (opened,) = report["closed"], report["open"]
    # Most clients only count tokens: their counts must add up exactly.
    assert closed["received"] == CLIENTS * SENDERS * MESSAGES
    assert opened["received"] == CLIENTS * RATE * DURATION
    for phase in (closed, opened):
        assert phase["lost"] == 0 and phase["complete"] and not phase["timed_out"]
        latency = phase["latency_ms"]
        assert latency["samples"] > 0
        assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
        assert len(phase["first_message_ms"]) == SENDERS
        assert all(value > 0 for value in phase["first_message_ms"])
        assert phase["deliveries_per_s"] > 0 and phase["server_rss_peak_mb"] > 0
    assert report["server_cpu_total_s"] > 0
    assert report["server_rss_idle_mb"] > 0 and report["connect_s"] > 0
    assert "server_sockets" not in closed  # one process: nothing to spread


def test_generator_sums_a_cluster_and_reads_redis(cluster_server):
    """Against two workers and Redis: all delivered, Redis CPU and the socket spread reported."""
    server, redis = cluster_server
    report = run_generator(server.port, server.process.pid,
                           "--redis-pid", str(redis.process.pid))
    closed, (opened,) = report["closed"], report["open"]
    assert closed["received"] == CLIENTS * SENDERS * MESSAGES
    assert opened["received"] == CLIENTS * RATE * DURATION
    for phase in (closed, opened):
        assert phase["complete"] and phase["lost"] == 0
        assert phase["server_cpu_s"] > 0 and phase["redis_cpu_s"] > 0
        spread = phase["server_sockets"]
        assert len(spread) == 3  # the parent and its two workers
        assert sum(process["clients"] for process in spread.values()) == CLIENTS


def server_frame(payload: bytes) -> bytes:
    """Return an unmasked text frame, as a server sends it."""
    if len(payload) < 126:
        return bytes((0x81, len(payload))) + payload
    return bytes((0x81, 126)) + len(payload).to_bytes(2, "big") + payload


def test_a_parsing_client_counts_every_message_and_end_marker_in_one_frame():
    """A welcome whose history holds the messages and every end marker finishes a parsing client."""

    async def receive_late_welcome():
        finished = []
        client = Client(5, True, True, None)
        phase = Phase([0, 1], lambda: finished.append(True))
        client.reset(phase)
        texts = [phase.payload(0, 0), phase.payload(1, 0), phase.end_marker(0),
                 phase.end_marker(1)]
        welcome = {"type": "welcome", "nick": "b5",
                   "history": [{"type": "message", "id": number, "text": text.decode()}
                               for number, text in enumerate(texts, 1)]}
        client.parse(server_frame(json.dumps(welcome).encode()))
        return client, phase, finished

    client, phase, finished = asyncio.run(receive_late_welcome())
    assert client.count == 2 and client.ends == 2
    assert client.finished and finished == [True]
    assert len(phase.latencies) == 2 and set(phase.first) == {0, 1}


def test_token_counter_counts_tokens_cut_by_any_chunk_boundary():
    """Every token and end marker is counted once, wherever the stream is cut."""
    token, end = b"~0123456789~", b"~abcdefabcd!"
    stream = b"".join(b'{"text":"%s %d 0 1 xx"}' % (token, n) for n in range(5)) + end + end
    for cut in range(1, len(stream)):
        for size in (1, 3, cut):
            counter = TokenCounter(token, end)
            pieces = [stream[:cut]] + [stream[i:i + size] for i in range(cut, len(stream), size)]
            counts = [counter.feed(piece) for piece in pieces]
            totals = [sum(parts) for parts in zip(*counts, strict=True)]
            assert totals == [5, 2], (cut, size)


def test_ping_frames_are_found_even_when_cut_off():
    """A ping's payload is returned; a ping cut by the chunk's end is kept for the next chunk."""
    text = b"\x81\x05hello"
    pings, rest = ping_frames(text + b"\x89\x04ab")
    assert pings == [] and rest == b"\x89\x04ab"
    pings, rest = ping_frames(rest + b"cd" + text + b"\x89\x00")
    assert pings == [b"abcd", b""] and rest == b""


def test_split_frames_keeps_an_incomplete_frame():
    """Whole frames come out with their opcodes; a partial one stays in the buffer."""
    long_payload = b"x" * 300
    data = b"\x81\x02hi" + b"\x82\x7e\x01\x2c" + long_payload + b"\x81\x05hel"
    frames, rest = split_frames(data)
    assert frames == [(0x1, b"hi"), (0x2, long_payload)]
    assert rest == b"\x81\x05hel"


def test_the_join_storm_reports_each_batch_against_our_server(chat_server):
    """--storm connects in batches, waits for every welcome, and reports CPU per join per batch."""
    done = subprocess.run(
        [sys.executable, str(LOADGEN), f"ws://127.0.0.1:{chat_server.port}/ws",
         "--clients", str(CLIENTS), "--storm", "5", "--await-welcome",
         "--server-pid", str(chat_server.process.pid)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "error" not in report, report["error"]
    storm = report["storm"]
    assert len(storm["cpu_per_join_us"]) == CLIENTS // 5
    assert storm["cpu_per_join_first_us"] > 0 and storm["cpu_per_join_last_us"] > 0
    assert report["connect_s"] == storm["storm_s"] > 0


def phase(received: int, server_cpu_s: float, **extra) -> dict:
    """Return a phase report with the fields the results tables read."""
    latency = {"p50": 1.0, "p90": 2.0, "p99": 3.0, "max": 4.0}
    return {"deliveries_per_s": received / 2, "lost": 0, "latency_ms": latency,
            "first_message_max_ms": 2.0, "generator_cpu_pct": 40.0, "complete": True,
            "received": received, "server_cpu_s": server_cpu_s, **extra}


def test_results_tables_show_cost_by_room_memory_by_count_and_every_capacity_run():
    """The scaling, idle-growth and capacity-by-run tables come out of the runs' reports."""
    shapes = {shape.name: shape for shape in [*QUICK, *idle_shapes([1000, 5000])]}
    outcomes = []
    for server, us, idle_mb in (("chat", 2.0, (50.5, 90.5)), ("node", 8.0, (60.5, 80.5))):
        for name in ("classroom", "scale-30", "hall", "scale-300"):  # 10, 30, 100, 300 clients
            cost = us * (1 + shapes[name].clients / 100)
            outcomes.append(Outcome(server, name, 0, 1.0, report={
                "connect_s": 0.1, "closed": phase(1_000_000, cost)}))
        for count, rss in zip((1000, 5000), idle_mb, strict=True):
            outcomes.append(Outcome(server, f"idle-{count}", 0, 1.0, report={
                "connect_s": 0.1, "server_rss_idle_mb": rss}))
        for repetition, rate in enumerate((400, 100, 800) if server == "chat" else (100,)):
            outcomes.append(Outcome(server, "capacity", repetition, 1.0, report={
                "connect_s": 0.1, "open": [phase(1000, 0.01, passed=True)],
                "sustained_rate": rate}))
    summary = medians(outcomes)
    labels = {"chat": "ours", "node": "Node"}
    scaling = "\n".join(scaling_table(summary, list(shapes.values()), ["chat", "node"], labels))
    # From 2.2 µs at 10 clients to 8 at 300, a quarter of Node's each time: 8 / 2.2 = 3.64x
    assert "| ours | 2.20 (0.25x) | 2.60 (0.25x) | 4 (0.25x) | 8 (0.25x) | 3.64x |" in scaling
    assert "10 clients, 2 senders (classroom) | 30 clients, 4 senders |" in scaling
    idle = "\n".join(idle_table(summary, list(shapes.values()), ["chat", "node"], labels))
    assert "| ours | 50.5 | 90.5 | 10.2 |" in idle  # 40 MB over 4000 more connections
    assert "| Node | 60.5 | 80.5 | 5.12 |" in idle
    runs = "\n".join(capacity_runs(outcomes, summary, ["chat", "node"], labels, 3))
    assert "| ours | 400 | 100 | 800 | 400 | 100 | 1.00x |" in runs
    assert "| Node | 100 | – | – | 100 | 100 | 1.00x |" in runs
