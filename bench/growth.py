"""How a cost grows with the crowd: server CPU per delivery by room size, idle memory by count.

Two tables of results.md, from the medians (summary.py): the closed-loop
shapes side by side (the classroom, the scale-N shapes, the hall: one room
each), and the idle-N shapes of run.py --idle. Returns Markdown; no I/O.
"""

from bench.shapes import Shape
from bench.summary import number, ratio

Summary = dict[tuple[str, str], dict[str, float]]


def room_sizes(shapes: list[Shape]) -> list[Shape]:
    """Return the closed-loop shapes in one room, fewest clients first: the scaling table's."""
    return sorted((shape for shape in shapes if shape.messages and not shape.room_size),
                  key=lambda shape: shape.clients)


def scaling_table(summary: Summary, shapes: list[Shape], names: list[str],
                  labels: dict[str, str]) -> list[str]:
    """Return server CPU µs per delivery for each room size, with its ratio to Node's."""
    columns = room_sizes(shapes)
    if len(columns) < 2:
        return []
    smallest, largest = columns[0], columns[-1]
    once: dict[str, list[str]] = {}  # server -> the shapes it ran in one repetition only
    for shape in columns:
        for name in shape.once:
            if name in names and shape.repetitions > 1:
                once.setdefault(name, []).append(shape.name)
    lines = [
        "", "## Server CPU per delivery as the room grows", "",
        "The server's CPU time over each closed loop divided by the deliveries received "
        "(a cluster's redis-server included), in µs, median over the runs; in brackets its "
        "ratio to Node ws's in the same room (below 1x is cheaper). Every column is one room "
        "with each sender keeping 4 messages in flight; the last is the cost per delivery in "
        "the largest room over the smallest's. A run stopped at its cap still counts: "
        "CPU and deliveries are both up to the stop."
        + (" Run once, to keep the budget: " + ", ".join(
            f"{labels[name]} ({', '.join(ran)})" for name, ran in once.items()) + "."
           if once else ""),
        "",
        "| server | " + " | ".join(
            f"{shape.clients:,} clients, {shape.senders} senders"
            + ("" if shape.name.startswith("scale-") else f" ({shape.name})")
            for shape in columns)
        + f" | {largest.clients:,} / {smallest.clients:,} clients |",
        "|---|" + "---:|" * (len(columns) + 1),
    ]
    for name in names:
        costs = [summary.get((name, shape.name), {}).get("cpu_us_per_delivery")
                 for shape in columns]
        cells = []
        for shape, cost in zip(columns, costs, strict=True):
            node = summary.get(("node", shape.name), {}).get("cpu_us_per_delivery")
            cells.append(number(cost) + (f" ({ratio(cost, node)})" if cost and node else ""))
        lines.append(f"| {labels[name]} | " + " | ".join(cells)
                     + f" | {ratio(costs[-1], costs[0])} |")
    return lines


def idle_table(summary: Summary, shapes: list[Shape], names: list[str],
               labels: dict[str, str]) -> list[str]:
    """Return each idle-N run's RSS, and what each further connection added between counts."""
    counts = sorted(shape.clients for shape in shapes if shape.name.startswith("idle-"))
    if not counts:
        return []
    steps = list(zip(counts, counts[1:], strict=False))  # each count with the next
    lines = [
        "", "## Idle memory as connections grow", "",
        "RSS after connecting and settling, a fresh server per count (rooms of up to 1000), "
        "and what each connection added from one count to the next: (RSS at B − RSS at A) / "
        "(B − A), where fixed costs (start-up, the heap a room's connect storm grew and kept) "
        "cancel out. KB/connection at each count, (RSS − RSS at start) / N, is in the "
        "medians above.",
        "",
        "| server | " + " | ".join(f"RSS MB, {count:,}" for count in counts)
        + "".join(f" | KB per connection, {low:,} → {high:,}" for low, high in steps) + " |",
        "|---|" + "---:|" * (len(counts) + len(steps)),
    ]
    for name in names:
        rss = {count: summary.get((name, f"idle-{count}"), {}).get("rss_idle_mb")
               for count in counts}
        cells = [number(rss[count]) for count in counts]
        for low, high in steps:
            low_mb, high_mb = rss[low], rss[high]
            cells.append("–" if low_mb is None or high_mb is None
                         else number((high_mb - low_mb) * 1024 / (high - low)))
        lines.append(f"| {labels[name]} | " + " | ".join(cells) + " |")
    return lines
