"""What one phase measured: the clocks read at its start, and its report at its end.

The report's figures and their keys are the load generator's JSON report of a
phase (bench/README.md, "The columns", says what each means): deliveries,
latency, and the CPU time the generator, the server and redis-server used,
as a share of one core over the phase's wall time.
"""

import math
import os
import time

from bench.client import Client
from bench.phase import Phase
from bench.procfs import ServerWatch, cpu_seconds, main_thread_wait


def start_readings(watch: ServerWatch | None, port: int, redis_pid: int | None) -> dict:
    """Read the clocks the phase report compares against (and the socket spread first)."""
    spread = None
    if watch is not None:
        spread = watch.sockets(port)  # before the clocks: ~1000 links to read
        watch.peak = 0
        watch.rss()
    times = os.times()
    return {
        "ns": time.monotonic_ns(),
        "generator_cpu": times.user + times.system,
        "generator_wait": main_thread_wait("self"),
        "server_cpu": watch.cpu_seconds() if watch else None,
        "server_wait": watch.wait_seconds() if watch else None,
        "server_sockets": spread,
        "redis_cpu": cpu_seconds(redis_pid) if redis_pid else None,
    }


def phase_report(phase: Phase, clients: list[Client], readings: dict, timed_out: bool,
                 watch: ServerWatch | None, redis_pid: int | None) -> dict:
    """Return what the phase measured since `readings` were taken."""
    now = time.monotonic_ns()
    times = os.times()
    wall = (now - readings["ns"]) / 1e9
    generator_cpu = times.user + times.system - readings["generator_cpu"]
    report = deliveries(phase, clients, readings["ns"], now, timed_out)
    report.update(latency(phase))
    report.update(wall_s=round(wall, 4), generator_cpu_s=round(generator_cpu, 3),
                  generator_cpu_pct=round(100 * generator_cpu / wall, 1))
    waited = main_thread_wait("self")
    if waited is not None and readings["generator_wait"] is not None:
        waited -= readings["generator_wait"]
        report["generator_wait_pct"] = round(100 * waited / wall, 1)
    if watch is not None:
        report.update(server_figures(watch, readings, wall))
    if readings["redis_cpu"] is not None:
        redis_cpu = cpu_seconds(redis_pid)
        if redis_cpu is not None:
            used = redis_cpu - readings["redis_cpu"]
            report.update(redis_cpu_s=round(used, 3), redis_cpu_pct=round(100 * used / wall, 1))
    return report


def deliveries(phase: Phase, clients: list[Client], since: int, now: int,
               timed_out: bool) -> dict:
    """Return what was sent and delivered, and the rate, from `since` to the last delivery."""
    expected = phase.sent * len(clients)
    received = sum(client.count for client in clients)
    last = max((client.last_data for client in clients), default=0)
    until = (last if last and not timed_out else now) - since
    elapsed = max(until, 1) / 1e9
    return {
        "sent": phase.sent,
        "expected": expected,
        "received": received,
        "lost": expected - received,
        "complete": received == expected and not timed_out,
        "timed_out": timed_out,
        "closed_clients": sum(client.closed for client in clients),
        "elapsed_s": round(elapsed, 4),
        "deliveries_per_s": round(received / elapsed, 1),
    }


def latency(phase: Phase) -> dict:
    """Return the sampled clients' latency percentiles and each sender's first message."""
    latencies = sorted(phase.latencies)
    first = [phase.first.get(sender) for sender in phase.senders]
    return {
        "latency_ms": {
            "samples": len(latencies),
            **{name: round(percentile(latencies, fraction) / 1e6, 3) if latencies else None
               for name, fraction in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))},
        },
        "first_message_ms": [round(value / 1e6, 3) if value is not None else None
                             for value in first],
        "first_message_max_ms": (round(max(v for v in first if v is not None) / 1e6, 3)
                                 if any(v is not None for v in first) else None),
    }


def server_figures(watch: ServerWatch, readings: dict, wall: float) -> dict:
    """Return the server's CPU, peak memory, waiting and socket spread over the phase."""
    server_cpu = watch.cpu_seconds() - readings["server_cpu"]
    watch.rss()
    figures = {
        "server_cpu_s": round(server_cpu, 3),
        "server_cpu_pct": round(100 * server_cpu / wall, 1),
        "server_rss_peak_mb": round(watch.peak / 2**20, 1),
    }
    waited = watch.wait_seconds()
    if waited is not None and readings["server_wait"] is not None:
        # Runnable but not running: the core was busy with something else.
        figures["server_wait_pct"] = round(100 * (waited - readings["server_wait"]) / wall, 1)
    if readings["server_sockets"] is not None:
        figures["server_sockets"] = readings["server_sockets"]
    return figures


def percentile(ordered: list[int], fraction: float) -> int:
    """Return the nearest-rank percentile of an ascending list."""
    return ordered[max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))]
