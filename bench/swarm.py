"""The load generator's N clients: connect them, then run closed- or open-loop phases on them.

A closed loop: each sender keeps `window` messages in flight and sends the
next when its own comes back. An open loop: a fixed total rate, spread
round-robin over the senders, whatever the server does. Either way a phase
ends when every client has every sender's end marker, or when its cap runs
out; measure.py then reports what it saw.
"""

import asyncio
import time
from urllib.parse import urlsplit

from bench.client import Client
from bench.frames import upgrade_request
from bench.measure import phase_report, start_readings
from bench.phase import Phase
from bench.procfs import ServerWatch

CONNECT_CONCURRENCY = 100  # handshakes in flight: under every server's listen backlog
LATENCY_LIMIT_MS = 100.0  # the capacity shape's pass mark for p99


class Swarm:
    """The N clients: connect them, run phases on them, report what each phase measured."""

    def __init__(self, url: str, clients: int, senders: int, sample: int,
                 watch: ServerWatch | None, redis_pid: int | None = None,
                 room_size: int = 0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "ws" or not parts.hostname:
            raise SystemExit(f"{url!r} is not a ws:// URL")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self.query = parts.query
        self.size = clients
        self.room_size = room_size  # clients per room (?room=idle-K), 0: the URL's room alone
        # Spread senders and the sample over the connection order: servers that
        # write in join order (Node's Set) would otherwise favour one end.
        self.sender_indexes = sorted({k * clients // senders for k in range(senders)})
        offset = clients // (2 * sample) if sample else 0
        self.sample_indexes = sorted(
            {k * clients // sample + offset for k in range(sample)} - set(self.sender_indexes)
        ) if sample else []
        self.watch = watch
        self.redis_pid = redis_pid
        self.clients: list[Client] = []
        self.unfinished = 0
        self.done: asyncio.Future[None] | None = None

    def request(self, index: int, key: bytes) -> bytes:
        """Return the HTTP upgrade request of one client (with a unique nickname)."""
        query = f"{self.query}&nick=b{index}" if self.query else f"nick=b{index}"
        if self.room_size:
            query += f"&room=idle-{index // self.room_size}"
        return upgrade_request(self.host, self.port, f"{self.path}?{query}", key)

    async def connect(self) -> None:
        """Open every connection, CONNECT_CONCURRENCY handshakes at a time."""
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def open_one(index: int) -> Client:
            async with gate:
                return await self.open_client(index)

        self.clients = list(await asyncio.gather(*(open_one(i) for i in range(self.size))))

    async def open_client(self, index: int) -> Client:
        """Open client `index`'s connection; return it once its handshake is done."""
        sampled = index in self.sample_indexes
        parses = sampled or index in self.sender_indexes
        _, client = await asyncio.get_running_loop().create_connection(
            lambda: Client(index, parses, sampled, lambda key: self.request(index, key)),
            self.host, self.port
        )
        await client.handshaken
        return client

    async def welcomed(self, cap: float) -> int:
        """Wait until every client has had the server's first frame; return how many had not."""
        try:
            await asyncio.wait_for(
                asyncio.gather(*(client.greeted for client in self.clients)), cap)
        except asyncio.TimeoutError:  # TimeoutError itself only from Python 3.11
            return sum(not client.greeted.done() for client in self.clients)
        return 0

    def begin(self, senders: list[Client]) -> Phase:
        """Give every client a fresh phase to count."""
        loop = asyncio.get_running_loop()
        self.done = loop.create_future()
        phase = Phase([sender.index for sender in senders], self.client_finished)
        for client in self.clients:
            client.reset(phase)
        self.unfinished = sum(not client.finished for client in self.clients)
        if not self.unfinished:
            self.done.set_result(None)
        return phase

    def client_finished(self) -> None:
        """Count down the clients still waiting; resolve `done` at zero."""
        self.unfinished -= 1
        if self.unfinished == 0 and self.done is not None and not self.done.done():
            self.done.set_result(None)

    async def closed_loop(self, senders: list[Client], messages: int, window: int,
                          cap: float) -> dict:
        """Each sender sends `messages`, `window` in flight; stop at `cap` seconds."""
        phase = self.begin(senders)
        measure = self.measure_start()
        for sender in senders:
            burst = min(window, messages)
            sender.to_send = messages - burst
            for _ in range(burst):
                sender.send_message()
            if not sender.to_send:
                sender.send_end()
        timed_out = await self.wait(cap)
        phase.active = False
        report = self.report(phase, measure, timed_out)
        report.update(mode="closed", senders=len(senders), messages_per_sender=messages,
                      window=window, cap_s=cap)
        return report

    async def open_loop(self, senders: list[Client], rate: float, duration: float,
                        drain: float) -> dict:
        """Send `rate` messages a second in all, round-robin over the senders, for `duration` s."""
        phase = self.begin(senders)
        measure = self.measure_start()
        total = round(rate * duration)
        start = time.monotonic()
        sent = 0
        while sent < total:
            delay = start + sent / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.monotonic()
            while sent < total and start + sent / rate <= now:
                senders[sent % len(senders)].send_message()
                sent += 1
        for sender in senders:
            sender.send_end()
        timed_out = await self.wait(drain)
        phase.active = False
        report = self.report(phase, measure, timed_out)
        report.update(mode="open", senders=len(senders), rate=rate, duration_s=duration,
                      drain_cap_s=drain, send_s=round(time.monotonic() - start, 3))
        report["passed"] = (report["complete"]
                            and report["latency_ms"]["p99"] <= LATENCY_LIMIT_MS)
        return report

    async def wait(self, cap: float) -> bool:
        """Wait until every client has finished; return whether `cap` ran out first."""
        try:
            await asyncio.wait_for(asyncio.shield(self.done), cap)
        except asyncio.TimeoutError:  # TimeoutError itself only from Python 3.11
            return True
        return False

    def measure_start(self) -> dict:
        """Read the clocks the phase report compares against."""
        return start_readings(self.watch, self.port, self.redis_pid)

    def report(self, phase: Phase, readings: dict, timed_out: bool) -> dict:
        """Return what the phase measured."""
        return phase_report(phase, self.clients, readings, timed_out, self.watch, self.redis_pid)

    def close(self) -> None:
        """Drop every connection at once."""
        for client in self.clients:
            if client.transport is not None:
                client.transport.abort()


