"""The results a run leaves: results.json (every raw report), results.md (the tables), results.png.

results.md starts with the machine and software the run used (versions,
commit_of), then the headline medians, their ratios to the reference
servers, how the costs grow with the room and the connections (growth.py),
a table per shape (capacity's also by run), and the checks (checks.py);
plot.py draws results.png.
"""

import json
import os
import platform
import subprocess
from pathlib import Path

from bench.checks import generator_check, targets
from bench.contenders import GENERATOR_CORE, NODE_DIR, SERVER_CORE, SERVERS
from bench.growth import idle_table, scaling_table
from bench.plot import plot
from bench.runs import Outcome
from bench.shapes import Shape
from bench.summary import DETAIL, headline_of, medians, number, ratio

Summary = dict[tuple[str, str], dict[str, float]]
Column = tuple[str, str, str, bool]  # shape, figure, title, higher is better


def write_results(outcomes: list[Outcome], shapes: list[Shape], info: dict,
                  output: Path) -> str:
    """Write results.json, results.md and results.png into `output`; return results.md."""
    output.mkdir(parents=True, exist_ok=True)
    raw = {"info": info, "shapes": [shape.__dict__ for shape in shapes],
           "runs": [outcome.__dict__ for outcome in outcomes]}
    (output / "results.json").write_text(json.dumps(raw, indent=1) + "\n")
    text = write_markdown(outcomes, shapes, info, output / "results.md")
    plot(outcomes, shapes, output / "results.png")
    return text


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
    # Installed only when the run includes the Node server.
    ws_version = json.loads(ws_package.read_text())["version"] if ws_package.exists() else "not run"
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


def commit_of(checkout: Path) -> str:
    """Return the short commit of our server's checkout, marked + if its work tree has changes."""
    def git(*arguments: str) -> str:
        return subprocess.run(["git", "-C", str(checkout), *arguments], capture_output=True,
                              text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "chat", "run.py")
    return commit + ("+" if changed else "")


def write_markdown(outcomes: list[Outcome], shapes: list[Shape], info: dict, path: Path) -> str:
    """Write results.md: the headline medians, ratios, per-shape details, the generator check."""
    summary = medians(outcomes)
    ran = {outcome.server for outcome in outcomes}
    names = [server.name for server in SERVERS if server.name in ran]
    labels = {server.name: server.label for server in SERVERS}
    cluster = any(server.processes for server in SERVERS if server.name in ran)
    detail = [column for column in DETAIL if cluster or column[0] != "redis_cpu_pct"]
    headline = headline_of([shape.name for shape in shapes])
    lines = header(info, cluster)
    lines += medians_table(summary, names, labels, headline)
    lines += ratio_tables(summary, names, labels, headline)
    lines += scaling_table(summary, shapes, names, labels)
    lines += idle_table(summary, shapes, names, labels)
    for shape in shapes:
        lines += shape_table(shape, summary, names, labels, detail)
        if shape.name == "capacity":
            lines += capacity_runs(outcomes, summary, names, labels, shape.repetitions)
            lines += capacity_steps(outcomes, labels)
    lines += ["", "## Issue 5's targets for our server", "", *targets(summary)]
    lines += ["", "## Was the generator the limit?", "", generator_check(outcomes, labels)]
    lines += errors(outcomes, labels)
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return text


def header(info: dict, cluster: bool) -> list[str]:
    """Return the title and the paragraph on the machine, the software and the placement."""
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
    return lines


def medians_table(summary: Summary, names: list[str], labels: dict[str, str],
                  headline: list[Column]) -> list[str]:
    """Return the headline figures' medians, one row per server."""
    lines = ["## Medians", "",
             "| server | " + " | ".join(title for _, _, title, _ in headline) + " |",
             "|---|" + "---:|" * len(headline)]
    for name in names:
        cells = [number(summary.get((name, shape), {}).get(figure))
                 for shape, figure, _, _ in headline]
        lines.append(f"| {labels[name]} | " + " | ".join(cells) + " |")
    return lines


def ratio_tables(summary: Summary, names: list[str], labels: dict[str, str],
                 headline: list[Column]) -> list[str]:
    """Return the headline divided by each base's: the reference servers, and ours for a cluster."""
    bases = ["node", "naive"] + (["chat"] if len(set(names) - {"chat", "naive", "node",
                                                                  "websockets"}) else [])
    lines: list[str] = []
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
    return lines


def shape_table(shape: Shape, summary: Summary, names: list[str], labels: dict[str, str],
                detail: list[tuple[str, str]]) -> list[str]:
    """Return one shape's detailed medians, one row per server."""
    at = " (figures at the highest rate each server sustained)" if len(shape.rates) > 1 else ""
    lines = ["", f"## {shape.name}: {shape.what}{at}", "",
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
    return lines


def capacity_runs(outcomes: list[Outcome], summary: Summary, names: list[str],
                  labels: dict[str, str], repetitions: int) -> list[str]:
    """Return each server's highest sustained rate in every run, the lowest, and it over Node's."""
    node = summary.get(("node", "capacity"), {}).get("sustained_rate")
    lines = ["", "Highest rate sustained in each run (msg/s), their median, the lowest, and the "
             "lowest over Node ws's median: the rate a server held in every repetition.", "",
             "| server | " + " | ".join(f"run {run + 1}" for run in range(repetitions))
             + " | median | lowest | lowest / Node's median |",
             "|---|" + "---:|" * (repetitions + 3)]
    for name in names:
        rates: dict[int, float] = {
            outcome.repetition: outcome.report["sustained_rate"] for outcome in outcomes
            if (outcome.server, outcome.shape) == (name, "capacity")
            and "sustained_rate" in outcome.report}
        lowest = min(rates.values()) if rates else None
        cells = [number(rates.get(run)) for run in range(repetitions)]
        cells += [number(summary.get((name, "capacity"), {}).get("sustained_rate")),
                  number(lowest), ratio(lowest, node)]
        lines.append(f"| {labels[name]} | " + " | ".join(cells) + " |")
    return lines


def capacity_steps(outcomes: list[Outcome], labels: dict[str, str]) -> list[str]:
    """Return every capacity run's climb: each rate's p99 and losses, and where it stopped."""
    lines = ["", "Capacity steps (each run): rate → p99 ms, lost; ✗ = failed, climbing stopped.",
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
    return lines


def errors(outcomes: list[Outcome], labels: dict[str, str]) -> list[str]:
    """Return the runs that ended in an error, with the first line of each, if any did."""
    failed = [outcome for outcome in outcomes if outcome.error]
    if not failed:
        return []
    return ["", "## Runs with errors", ""] + [
        f"- {labels[o.server]}, {o.shape}, run {o.repetition + 1}: "
        f"{o.error.splitlines()[0][:300]}" for o in failed]
