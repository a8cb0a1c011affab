"""The figures the tables and the plot show: taken from each run's report, then their medians.

Also how a figure is written in a table (number, ratio). No I/O.
"""

import statistics

from bench.runs import Outcome


def metrics(outcome: Outcome) -> dict[str, float | None]:
    """Pull the table's figures out of one run's report (None where it has none)."""
    report = outcome.report
    figures: dict[str, float | None] = {
        "connect_s": report.get("connect_s"),
        "settle_s": report.get("settle_s"),
        "rss_idle_mb": report.get("server_rss_idle_mb"),
        "rss_per_connection_kb": report.get("rss_per_connection_kb"),
    }
    storm = report.get("storm") or {}
    for name in ("cpu_per_join_first_us", "cpu_per_join_last_us"):
        figures[name] = storm.get(name)
    if storm.get("cpu_per_join_first_us") and storm.get("cpu_per_join_last_us"):
        figures["cpu_per_join_growth"] = (storm["cpu_per_join_last_us"]
                                          / storm["cpu_per_join_first_us"])
    steps = report.get("open") or []
    passed = [step for step in steps if step["passed"]]
    # Capacity: the figures at the highest rate sustained (or at the first, if none was).
    phase = report.get("closed") or (passed[-1] if passed else steps[0] if steps else None)
    if phase is not None:
        figures.update(phase_figures(phase))
        if figures.get("rss_peak_mb") and figures.get("rss_idle_mb"):
            figures["peak_over_idle"] = figures["rss_peak_mb"] / figures["rss_idle_mb"]
    if "sustained_rate" in report:
        figures["sustained_rate"] = report["sustained_rate"]
    return figures


def phase_figures(phase: dict) -> dict[str, float | None]:
    """Pull the table's figures out of the report of the phase that stands for a run."""
    figures = dict(
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
        if phase["received"]:
            figures["cpu_us_per_delivery"] = 1e6 * cpu / phase["received"]
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
    ("joinstorm", "connect_s", "join storm s", False),
    ("joinstorm", "cpu_per_join_first_us", "CPU µs per join, joins 1-100", False),
    ("joinstorm", "cpu_per_join_last_us", "CPU µs per join, last 100", False),
    ("joinstorm", "cpu_per_join_growth", "CPU per join, last / first", False),
]


def headline_of(shapes: list[str]) -> list[tuple[str, str, str, bool]]:
    """Return the headline's columns for the shapes run: run.py --idle's add one per count."""
    columns = [column for column in HEADLINE if column[0] in shapes]
    columns += [(shape, "rss_per_connection_kb", f"idle KB/connection, {shape[5:]} clients",
                 False) for shape in shapes if shape.startswith("idle-")]
    return columns


DETAIL = [
    ("deliveries_per_s", "deliveries/s"), ("deliveries_per_cpu_s", "per server CPU-s"),
    ("lost", "lost"), ("p50_ms", "p50 ms"),
    ("p90_ms", "p90 ms"), ("p99_ms", "p99 ms"), ("max_ms", "max ms"),
    ("first_message_max_ms", "first msg ms"), ("connect_s", "connect s"),
    ("settle_s", "settled s"), ("server_cpu_pct", "server CPU %"),
    ("generator_cpu_pct", "generator CPU %"), ("server_wait_pct", "server waited %"),
    ("generator_wait_pct", "generator waited %"), ("redis_cpu_pct", "Redis CPU %"),
    ("rss_idle_mb", "RSS idle MB"), ("rss_peak_mb", "RSS peak MB"),
    ("rss_per_connection_kb", "idle KB/connection"),
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
