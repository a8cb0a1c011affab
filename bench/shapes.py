"""The load shapes: how many clients, who sends what, how long each may take, and how often.

bench/README.md ("The shapes") says what each measures. FULL is the real run;
QUICK is the same shapes shrunk to about a minute in all, to check the harness.
"""

from dataclasses import dataclass


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
    room_size: int = 0  # clients per room (our server's ?room=), 0 for one room
    # The name of a climbing shape whose first step is this shape (same clients,
    # senders, rate and duration, on a fresh server): in a repetition where that
    # shape runs, its first step counts as this shape's run instead of a new one.
    first_step_of: str = ""
    storm: int = 0  # the join storm: only connect, this many clients at a time (bench/storm.py)
    # Servers that run this shape in the first repetition only: the reference
    # servers that only the cap stops, where the budget cannot afford three runs.
    once: tuple[str, ...] = ()

    def arguments(self) -> list[str]:
        """Return the load generator's options for this shape."""
        arguments = ["--clients", str(self.clients), "--senders", str(self.senders),
                     "--sample", str(self.sample)]
        if self.room_size:
            arguments += ["--room-size", str(self.room_size)]
        if self.storm:
            arguments += ["--storm", str(self.storm)]
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


SCALE_DELIVERIES = 1_000_000  # per scale run: a few seconds on our server
SCALE_SENDERS = 10
SCALE_CAP = 15.0
SCALE_COUNTS = [300, 3000]  # with the classroom's 30 and the hall's 1000: the scaling table


def scale_shapes(counts: list[int]) -> list[Shape]:
    """Return a closed-loop shape per number of clients in one room, for the scaling table.

    The classroom (30) and the hall (1000) are its other columns: the same
    closed loop in one room. Naive Tornado and websockets run these once; their
    runs end at the cap, and CPU per delivery needs no more than one.
    """
    shapes = []
    for count in counts:
        messages = max(10, round(SCALE_DELIVERIES / (count * SCALE_SENDERS)))
        shapes.append(Shape(f"scale-{count}",
                            f"{count:,} clients in one room, {SCALE_SENDERS} senders x "
                            f"{messages} messages, closed loop", count, SCALE_SENDERS,
                            messages=messages, cap=SCALE_CAP, once=("naive", "websockets")))
    return shapes


def idle_shapes(counts: list[int]) -> list[Shape]:
    """Return an idle shape per number of clients, in rooms of at most 1000, for run.py --idle.

    In one room every join is sent to everyone already there: 10,000 clients
    would make it a join storm of 50 million frames, not a measure of idle memory.
    """
    return [Shape(f"idle-{count}", f"{count:,} idle clients in rooms of up to 1000", count,
                  repetitions=1, sample=0, room_size=1000) for count in counts]


# In the order they run within a repetition; capacity before latency, whose first run it gives.
FULL = [
    Shape("classroom", "30 clients, 5 senders x 2000 messages, closed loop", 30, 5, messages=2000,
          cap=20, sample=5),
    Shape("hall", "1000 clients, 10 senders x 300 messages, closed loop", 1000, 10, messages=300,
          cap=25),
    *scale_shapes(SCALE_COUNTS),
    # 1200 between 800 and 1600, and nothing above: one generator core takes in
    # about 1M deliveries/s from a coalescing server, so at 1600 (1.6M/s to 1000
    # clients) a failure may already be the generator's (results.md's check says).
    Shape("capacity", "1000 clients, 10 senders, 50..1600 messages/s, 10 s each", 1000, 10,
          rates=(50, 100, 200, 400, 800, 1200, 1600)),
    Shape("latency", "1000 clients, 10 senders, 50 messages/s for 10 s", 1000, 10, rates=(50,),
          first_step_of="capacity"),
    Shape("idle", "2000 idle clients", 2000, repetitions=1),
    Shape("joinstorm", "2000 clients join one room, 100 at a time", 2000, storm=100),
]
QUICK = [
    Shape("classroom", "10 clients, 2 senders x 100 messages, closed loop", 10, 2, messages=100,
          cap=10, repetitions=1, sample=3),
    Shape("hall", "100 clients, 4 senders x 30 messages, closed loop", 100, 4, messages=30,
          cap=10, repetitions=1),
    # Two repetitions of scale-30 and capacity: enough to exercise `once`, each
    # capacity run's rate in results.md, and latency taken from every first step.
    Shape("scale-30", "30 clients in one room, 4 senders x 50 messages, closed loop", 30, 4,
          messages=50, cap=10, repetitions=2, once=("naive", "websockets")),
    Shape("scale-300", "300 clients in one room, 4 senders x 10 messages, closed loop", 300, 4,
          messages=10, cap=10, repetitions=1),
    Shape("capacity", "100 clients, 4 senders, 20..80 messages/s, 1 s each", 100, 4,
          rates=(20, 40, 80), duration=1, drain=2, repetitions=2),
    Shape("latency", "100 clients, 4 senders, 20 messages/s for 1 s", 100, 4, rates=(20,),
          duration=1, drain=2, repetitions=2, first_step_of="capacity"),
    Shape("idle", "200 idle clients", 200, repetitions=1),
    Shape("joinstorm", "200 clients join one room, 20 at a time", 200, storm=20, repetitions=1),
]
