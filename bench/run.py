"""Run the broadcast benchmark: every server through every shape, then medians, a table, a plot.

    python bench/run.py            # the full run; ends by itself within --budget (16 min)
    python bench/run.py --quick    # a tiny version (about a minute) to check the harness
    python bench/run.py --shapes idle --idle 1000,5000,10000   # memory as connections grow
    python bench/run.py --shapes classroom,hall,scale --scale 300,3000,10000  # CPU per delivery

Each run starts one server on a free 127.0.0.1 port, pinned to core 0 with a
raised open-file limit, runs bench/loadgen.py against it pinned to core 1,
and stops the server by its PID. The order of the servers alternates between
repetitions. The opt-in cluster variants (--servers chat-redis,chat-redis-2)
also get a fresh redis-server each, whose CPU the generator reads too
(--redis-pid). Writes bench/results/results.md, results.png and results.json
(every run's raw report). See bench/README.md for what each shape and column means.

This module is the command line and the schedule; runs.py does one run,
contenders.py starts the servers, report.py writes the results.
"""

import argparse
import datetime
import os
import resource
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import bench.* from this checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.contenders import BENCH, ROOT, SERVERS, Server, ensure_node_server  # noqa: E402
from bench.report import commit_of, versions, write_results  # noqa: E402
from bench.runs import Outcome, first_step, run_once  # noqa: E402
from bench.shapes import FULL, QUICK, Shape, idle_shapes, scale_shapes  # noqa: E402

RESULTS = BENCH / "results"


def arguments() -> tuple[argparse.Namespace, list[Server], list[Shape]]:
    """Parse the command line; return it, the servers and the shapes it asks for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny run to check the harness")
    parser.add_argument("--budget", type=float, default=16.0,
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
    parser.add_argument("--idle", default="", metavar="COUNTS",
                        help="instead of the idle shape's 2000 clients, one idle run per count, "
                             "e.g. 1000,5000,10000 (in rooms of up to 1000)")
    parser.add_argument("--scale", default="", metavar="COUNTS",
                        help="instead of the scale shapes' 300 and 3000 clients, one closed-loop "
                             "run in one room per count, e.g. 300,3000,10000 (the classroom and "
                             "the hall stay the scaling table's 30 and 1000)")
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
    if args.idle:
        shapes = replaced(shapes, "idle", idle_shapes(counts_of(args.idle)))
    if args.scale:
        shapes = replaced(shapes, "scale", scale_shapes(counts_of(args.scale)))
    if args.shapes:
        wanted_shapes = args.shapes.split(",")
        families = {"idle", "scale"} & set(wanted_shapes)  # each takes its idle-N, scale-N
        shapes = [shape for shape in shapes if shape.name in wanted_shapes
                  or shape.name.split("-")[0] in families]
    return args, servers, shapes


def counts_of(text: str) -> list[int]:
    """Return the numbers of clients in a comma-separated list such as 1000,5000."""
    return [int(count) for count in text.split(",")]


def replaced(shapes: list[Shape], family: str, instead: list[Shape]) -> list[Shape]:
    """Return `shapes` with the family's shapes (`idle`, or `scale-N`) replaced by `instead`.

    The new shapes take the place of the first one replaced (the end if none was).
    """
    def member(shape: Shape) -> bool:
        return shape.name == family or shape.name.startswith(family + "-")

    at = next((i for i, shape in enumerate(shapes) if member(shape)), len(shapes))
    kept = [shape for shape in shapes if not member(shape)]
    return kept[:at] + instead + kept[at:]


def raise_file_limit(shapes: list[Shape]) -> None:
    """Raise the open-file limit to the hard limit (children inherit it); stop if it is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    largest = max(shapes, key=lambda shape: shape.clients)
    if hard < largest.clients + 100:
        raise SystemExit(f"The open-file hard limit ({hard}) is too low for {largest.clients} "
                         f"clients (the {largest.name} shape); raise it (ulimit -Hn), or leave "
                         "that shape out (--shapes, --scale, --idle).")


def run_all(servers: list[Server], shapes: list[Shape], deadline: float, pin: bool,
            chat_root: Path) -> tuple[list[Outcome], list[str]]:
    """Run every repetition of every shape on every server that fits before `deadline`.

    Return the outcomes, and the runs skipped to stay within it.
    """
    started = time.monotonic()
    outcomes: list[Outcome] = []
    skipped: list[str] = []
    for repetition in range(max(shape.repetitions for shape in shapes)):
        order = servers if repetition % 2 == 0 else servers[::-1]
        for shape in [shape for shape in shapes if repetition < shape.repetitions]:
            for server in order:
                if repetition > 0 and server.name in shape.once:
                    continue
                reused = first_step(shape, shapes, server, repetition, outcomes)
                if reused is not None:
                    outcomes.append(reused)
                    continue
                if time.monotonic() + expected_seconds(shape, outcomes) > deadline:
                    skipped.append(f"{server.name}/{shape.name}/run {repetition + 1}")
                    continue
                print(f"[{time.monotonic() - started:6.0f} s] run {repetition + 1}: "
                      f"{shape.name} on {server.label} ...", end=" ", flush=True)
                outcome = run_once(server, shape, repetition, pin=pin, chat_root=chat_root)
                outcomes.append(outcome)
                print(f"{outcome.seconds:.1f} s" + (f" ERROR {outcome.error[:200]}"
                                                     if outcome.error else ""), flush=True)
    return outcomes, skipped


def expected_seconds(shape: Shape, outcomes: list[Outcome]) -> float:
    """Return how long a run of this shape might take: its worst case, or twice its slowest yet."""
    earlier = [o.seconds for o in outcomes if o.shape == shape.name and o.seconds]
    expected = shape.worst_case()
    if earlier:
        expected = min(expected, 2 * max(earlier))
    return expected


def main() -> None:
    """Run every server through every shape within the budget, then write the results."""
    args, servers, shapes = arguments()
    if any(server.name == "node" for server in servers):
        ensure_node_server()
    raise_file_limit(shapes)
    started = time.monotonic()
    outcomes, skipped = run_all(servers, shapes, started + args.budget * 60,
                                pin=not args.no_pin, chat_root=args.chat_at.resolve())
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
    text = write_results(outcomes, shapes, info, args.output)
    print(text)
    print(f"Wrote {args.output}/results.md, results.png and results.json "
          f"in {duration / 60:.1f} min.")


if __name__ == "__main__":
    main()
