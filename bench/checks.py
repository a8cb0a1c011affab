"""The judgements at the end of results.md: issue 5's targets, and whether the generator kept up.

Both read the medians (summary.py) or the phases' CPU figures and return
Markdown; no I/O.
"""

import statistics

from bench.runs import Outcome
from bench.summary import number

Summary = dict[tuple[str, str], dict[str, float]]
Row = tuple[str, str, str, bool | None]  # target, our figure, the bar, met (None: no verdict)

GENERATOR_METHOD = (
    "Each phase reports the CPU time the server and the generator used during it, as a "
    "percentage of one core over the phase's wall time (server: every thread's "
    "/proc/PID/task/*/schedstat; generator: os.times), and how long each was runnable "
    "but waiting for its core (\"waited\": other processes on that core). A closed-loop "
    "phase keeps the server busy: a server near 100% with the generator well below it "
    "means the server was the limit; a server well under 100% that waited a lot means "
    "the machine was busy with something else and the figures understate both."
)


def targets(summary: Summary) -> list[str]:
    """Return a table of issue 5's targets: our server's figure, the bar, and whether it is met."""
    lines = ["| target | ours | bar | met |", "|---|---:|---:|---|"]
    for name, value, bar, met in [*relative_targets(summary), *absolute_targets(summary)]:
        verdict = "–" if met is None else "yes" if met else "no"
        lines.append(f"| {name} | {value} | {bar} | {verdict} |")
    return lines


def figure(summary: Summary, server: str, shape: str, name: str) -> float | None:
    """Return one median, or None if that server did not run that shape."""
    return summary.get((server, shape), {}).get(name)


def relative_targets(summary: Summary) -> list[Row]:
    """Return the targets that are a multiple of Node's figure."""

    def times(shape: str, name: str, base: str, factor: float) -> tuple[str, str, bool | None]:
        ours, theirs = figure(summary, "chat", shape, name), figure(summary, base, shape, name)
        if ours is None or theirs is None:
            return "–", "–", None
        if not theirs:
            return number(ours), f"{base} sustained none: no bar", None
        bar = factor * theirs
        return number(ours), f"≥ {number(bar)} ({factor:g}x {base})", ours >= bar

    return [
        ("capacity, msg/s", *times("capacity", "sustained_rate", "node", 5)),
        ("hall, deliveries/s", *times("hall", "deliveries_per_s", "node", 5)),
        ("classroom, deliveries/s", *times("classroom", "deliveries_per_s", "node", 3)),
    ]


def absolute_targets(summary: Summary) -> list[Row]:
    """Return the targets of latency, memory and fairness, where their figures exist."""
    rows: list[Row] = []
    ours = figure(summary, "chat", "latency", "p99_ms")
    node = figure(summary, "node", "latency", "p99_ms")
    lost = figure(summary, "chat", "latency", "lost")
    if ours is not None and node is not None:
        rows.append(("latency p99 ms, lost", f"{number(ours)}, {number(lost)}",
                     f"≤ {number(node)} (node), 0", ours <= node and lost == 0))
    ours = figure(summary, "chat", "idle", "rss_per_connection_kb")
    naive = figure(summary, "naive", "idle", "rss_per_connection_kb")
    if ours is not None and naive is not None:
        rows.append(("idle KB/connection", number(ours), f"≤ {number(naive)} (naive)",
                     ours <= naive))
    peak = figure(summary, "chat", "hall", "peak_over_idle")
    if peak is not None:
        rows.append(("hall peak RSS / idle RSS", number(peak), "≤ 1.50", peak <= 1.5))
    first = figure(summary, "chat", "latency", "first_message_max_ms")
    p99 = figure(summary, "chat", "latency", "p99_ms")
    if first is not None and p99 is not None:
        rows.append(("slowest first message ms (latency shape)", number(first),
                     f"≤ {number(p99)} (its p99)", first <= p99))
    return rows


def phases_of(outcome: Outcome) -> list[dict | None]:
    """Return a run's closed-loop phase (or None) and its open-loop steps."""
    return [outcome.report.get("closed"), *(outcome.report.get("open") or [])]


def generator_check(outcomes: list[Outcome], labels: dict[str, str]) -> str:
    """Say, from each loaded phase's CPU figures, whether the generator kept up."""
    redis = any(phase.get("redis_cpu_pct") is not None for outcome in outcomes
                for phase in phases_of(outcome) if phase)
    rows = [(outcome, phase) for outcome in outcomes
            if "first_step_of" not in outcome.report  # the same phase as the climb it came from
            for phase in phases_of(outcome)
            if phase and phase.get("server_cpu_pct") is not None]
    if not rows:
        return "No loaded run to judge from."
    busiest = max(phase["generator_cpu_pct"] for _, phase in rows)
    costs = delivery_costs(rows)
    text = [
        GENERATOR_METHOD,
        "",
        f"Highest generator CPU in any phase: {busiest:.0f}% of a core."
        + (f" Generator CPU per delivery in the closed loops (median, range): {costs}."
           if costs else ""),
        "",
        *cpu_table(rows, labels, redis),
        "",
        verdict(rows, labels),
    ]
    return "\n".join(text)


def delivery_costs(rows: list[tuple[Outcome, dict]]) -> str:
    """Say what one delivery cost the generator in each closed-loop shape (the heaviest phases)."""
    costs: dict[str, list[float]] = {}
    for outcome, phase in rows:
        if phase["mode"] == "closed" and phase["received"] > 10_000:
            costs.setdefault(outcome.shape, []).append(
                1e6 * phase["generator_cpu_s"] / phase["received"])
    return "; ".join(f"{shape} {statistics.median(values):.2f} µs "
                     f"({min(values):.2f} to {max(values):.2f})"
                     for shape, values in costs.items())


def cpu_table(rows: list[tuple[Outcome, dict]], labels: dict[str, str], redis: bool) -> list[str]:
    """Return the CPU table: every closed loop, and the last step of every climb."""
    lines = [
        "| server | shape | server CPU % | server waited % | generator CPU % "
        "| generator waited % |" + (" Redis CPU % |" if redis else ""),
        "|---|---|---:|---:|---:|---:|" + ("---:|" if redis else ""),
    ]
    for outcome, phase in rows:
        if phase["mode"] == "closed" or phase is outcome.report["open"][-1]:
            step = f" at {phase['rate']:g}/s" if phase["mode"] == "open" else ""
            lines.append(
                f"| {labels[outcome.server]} | {outcome.shape}{step} (run {outcome.repetition + 1})"
                f" | {phase['server_cpu_pct']:.0f} | {number(phase.get('server_wait_pct'))}"
                f" | {phase['generator_cpu_pct']:.0f}"
                f" | {number(phase.get('generator_wait_pct'))} |"
                + (f" {number(phase.get('redis_cpu_pct'))} |" if redis else ""))
    return lines


def verdict(rows: list[tuple[Outcome, dict]], labels: dict[str, str]) -> str:
    """Name the phases where the generator may have been the limit, or say there were none."""
    suspicious = [(o, p) for o, p in rows
                  if p["generator_cpu_pct"] >= 80 or p["generator_cpu_pct"] >= p["server_cpu_pct"]]
    if not suspicious:
        return ("In every phase the generator used less CPU than the server and under 80% "
                "of its core.")
    return ("Phases where the generator was as busy as the server, or above 80% of "
            "its core (their figures may understate the server): " + ", ".join(
                f"{labels[o.server]} {o.shape} run {o.repetition + 1}"
                + (f" at {p['rate']:g} msg/s" if p["mode"] == "open" else "")
                for o, p in suspicious) + ".")
