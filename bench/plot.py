"""results.png: a bar chart per headline figure, the capacity climb, CPU per delivery by room."""

from pathlib import Path

from bench.contenders import SERVERS, Server
from bench.growth import room_sizes
from bench.runs import Outcome
from bench.shapes import Shape
from bench.summary import headline_of, medians, number

COLOUR_OF = {"chat": "#d62728", "chat-redis": "#ff7f0e", "chat-redis-2": "#9467bd",
             "naive": "#7f7f7f", "node": "#2ca02c", "websockets": "#1f77b4"}
COLUMNS = 4  # panels per row


def plot(outcomes: list[Outcome], shapes: list[Shape], path: Path) -> None:
    """Draw the headline figures, one bar chart each, the capacity climb, and the scaling."""
    import matplotlib  # noqa: PLC0415 (only needed at the end)

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot  # noqa: PLC0415

    summary = medians(outcomes)
    shape_names = {shape.name for shape in shapes}
    headline = headline_of([shape.name for shape in shapes])
    ran = {outcome.server for outcome in outcomes}
    servers = [server for server in SERVERS if server.name in ran]
    rooms = room_sizes(shapes)
    panels = len(headline) + ("capacity" in shape_names) + (len(rooms) > 1)
    rows = (panels + COLUMNS - 1) // COLUMNS
    figure, axes = pyplot.subplots(rows, COLUMNS, figsize=(4.2 * COLUMNS, 3.4 * rows))
    axes = list(axes.flat)
    for axis, (shape, metric, title, up) in zip(axes, headline, strict=False):  # a grid: spare axes
        values = [summary.get((server.name, shape), {}).get(metric, 0) or 0 for server in servers]
        bars(axis, servers, values, f"{title}\n({'higher' if up else 'lower'} is better)")
    used = len(headline)
    if "capacity" in shape_names:
        climb = next(shape for shape in shapes if shape.name == "capacity")
        capacity(axes[used], servers, outcomes, climb)
        used += 1
    if len(rooms) > 1:
        scaling(axes[used], servers, summary, rooms)
        used += 1
    for axis in axes[used:]:
        axis.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)


def bars(axis, servers: list[Server], values: list[float], title: str) -> None:
    """Draw one figure as a bar per server, each labelled with its value."""
    axis.bar(range(len(servers)), values, color=[COLOUR_OF[server.name] for server in servers])
    axis.set_xticks(range(len(servers)), [server.label for server in servers], rotation=20,
                    fontsize=8)
    axis.set_title(title, fontsize=9)
    for index, value in enumerate(values):
        axis.annotate(number(value), (index, value), ha="center", va="bottom", fontsize=7)


def capacity(axis, servers: list[Server], outcomes: list[Outcome], climb: Shape) -> None:
    """Draw each server's first capacity climb: p99 by rate, against the 100 ms pass mark."""
    for server in servers:
        runs = [o for o in outcomes if o.server == server.name and o.shape == "capacity"
                and o.report.get("open")]
        if runs:
            steps = runs[0].report["open"]
            axis.plot([step["rate"] for step in steps],
                      [step["latency_ms"]["p99"] or 0 for step in steps],
                      marker="o", color=COLOUR_OF[server.name], label=server.label)
    axis.axhline(100, color="black", linewidth=0.8, linestyle="--")
    axis.set_xscale("log", base=2)
    axis.set_xticks(climb.rates, [f"{rate:g}" for rate in climb.rates], fontsize=8)
    axis.set_yscale("log")
    axis.set_xlabel(f"messages/s ({climb.clients} clients)", fontsize=8)
    axis.set_title("capacity: p99 ms by rate (first run)", fontsize=9)
    axis.legend(fontsize=7)


def scaling(axis, servers: list[Server], summary: dict, rooms: list[Shape]) -> None:
    """Draw each server's CPU µs per delivery against the room's size (closed loops, medians)."""
    from matplotlib.ticker import FuncFormatter  # noqa: PLC0415 (as in plot)

    for server in servers:
        points = []
        for shape in rooms:
            cost = summary.get((server.name, shape.name), {}).get("cpu_us_per_delivery")
            if cost:
                points.append((shape.clients, cost))
        if points:
            sizes, costs = zip(*points, strict=True)
            axis.plot(sizes, costs, marker="o", color=COLOUR_OF[server.name], label=server.label)
    ticks = sorted({shape.clients for shape in rooms})
    axis.set_xscale("log")
    axis.set_xticks(ticks, [f"{size:,}" for size in ticks], fontsize=8)
    axis.set_yscale("log")
    # Plain numbers at 1, 2 and 5 times a power of ten, not matplotlib's 4x10^0.
    plain = FuncFormatter(lambda value, _: f"{value:g}" if f"{value:.0e}"[0] in "125" else "")
    axis.yaxis.set_major_formatter(plain)
    axis.yaxis.set_minor_formatter(plain)
    axis.set_xlabel("clients in the room (closed loop)", fontsize=8)
    axis.set_title("server CPU µs per delivery by room size\n(lower is better)", fontsize=9)
    axis.legend(fontsize=7)
