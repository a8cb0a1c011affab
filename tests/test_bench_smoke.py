"""The benchmark's load generator (bench/loadgen.py): it counts right and reports sane figures.

Not a timing test: nothing here asserts a speed, only that every figure the
benchmark relies on is measured and consistent.
"""

import importlib.util
import json
import subprocess
import sys

import pytest

from servers import ROOT, ChatServer, free_port

LOADGEN = ROOT / "bench" / "loadgen.py"
CLIENTS, SENDERS, MESSAGES = 20, 2, 20
RATE, DURATION = 20, 1.0


def load_generator_module():
    """Import bench/loadgen.py, which is a script, not a package module."""
    spec = importlib.util.spec_from_file_location("loadgen", LOADGEN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


loadgen = load_generator_module()


@pytest.fixture
def chat_server(tmp_path):
    """Our real server, as the benchmark runs it: no rate limit, no cap per address."""
    server = ChatServer(free_port(), tmp_path / "server.log", "--rate", "0", "--max-per-ip", "0")
    server.start()
    yield server
    server.stop()


def test_generator_reports_every_message_delivered_against_our_server(chat_server):
    """A closed-loop and an open-loop run deliver everything and report sane figures."""
    done = subprocess.run(
        [sys.executable, str(LOADGEN), f"ws://127.0.0.1:{chat_server.port}/ws",
         "--clients", str(CLIENTS), "--senders", str(SENDERS), "--sample", "4",
         "--messages", str(MESSAGES), "--cap", "20",
         "--rate", str(RATE), "--duration", str(DURATION), "--drain", "10",
         "--server-pid", str(chat_server.process.pid)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "error" not in report, report["error"]
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


def test_token_counter_counts_tokens_cut_by_any_chunk_boundary():
    """Every token and end marker is counted once, wherever the stream is cut."""
    token, end = b"~0123456789~", b"~abcdefabcd!"
    stream = b"".join(b'{"text":"%s %d 0 1 xx"}' % (token, n) for n in range(5)) + end + end
    for cut in range(1, len(stream)):
        for size in (1, 3, cut):
            counter = loadgen.TokenCounter(token, end)
            pieces = [stream[:cut]] + [stream[i:i + size] for i in range(cut, len(stream), size)]
            totals = [sum(parts) for parts in zip(*(counter.feed(piece) for piece in pieces))]
            assert totals == [5, 2], (cut, size)


def test_ping_frames_are_found_even_when_cut_off():
    """A ping's payload is returned; a ping cut by the chunk's end is kept for the next chunk."""
    text = b"\x81\x05hello"
    pings, rest = loadgen.ping_frames(text + b"\x89\x04ab")
    assert pings == [] and rest == b"\x89\x04ab"
    pings, rest = loadgen.ping_frames(rest + b"cd" + text + b"\x89\x00")
    assert pings == [b"abcd", b""] and rest == b""


def test_split_frames_keeps_an_incomplete_frame():
    """Whole frames come out with their opcodes; a partial one stays in the buffer."""
    long_payload = b"x" * 300
    data = b"\x81\x02hi" + b"\x82\x7e\x01\x2c" + long_payload + b"\x81\x05hel"
    frames, rest = loadgen.split_frames(data)
    assert frames == [(0x1, b"hi"), (0x2, long_payload)]
    assert rest == b"\x81\x05hel"
