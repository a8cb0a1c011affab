"""Load generator for the broadcast benchmark: N WebSocket clients, S senders, one JSON report.

    python bench/loadgen.py ws://127.0.0.1:PORT/ --clients 1000 --senders 10 --messages 300
    python bench/loadgen.py ws://127.0.0.1:PORT/ --clients 1000 --senders 10 --rate 50 --duration 10
    python bench/loadgen.py ws://127.0.0.1:PORT/ --clients 1000 --senders 10 --rate 50,100,200
    python bench/loadgen.py ws://127.0.0.1:PORT/ --clients 2000          # connect, settle, memory
    python bench/loadgen.py ws://127.0.0.1:PORT/ws --clients 1000 --senders 10 --messages 300 \
        --await-welcome --server-pid PID --redis-pid REDIS_PID        # our server as a cluster

It connects the clients (raw sockets and a minimal handshake of its own), waits
until the server has finished greeting them, then runs one closed-loop phase
(each sender keeps `--window` messages in flight and sends the next when its
own comes back) or open-loop phases at fixed total rates (spread round-robin
over the senders; with several rates it climbs until one fails), and prints
one JSON report.

Give `--server-pid` to get the server's CPU and memory, summed over that
process and all its descendants (a server that forks workers), and
`--redis-pid` to get redis-server's CPU too. `--await-welcome` is for a server
that greets every client with a first frame (our chat server's welcome): it
waits for every client's first frame before the barrier, so "connect s"
includes the welcomes. The reference servers send nothing on connect, and
would make it wait forever.

To stay out of the way of the server it measures, most clients never parse a
frame: each phase has a random token that appears once in every bench
payload, and a client counts its occurrences in the raw bytes it receives
(keeping an overlap across chunk boundaries), plus those of a second token,
the end marker each sender sends after its last message. Only the senders and
a sample of clients spread over the connection order parse frames, to time
latency (every payload carries its send time) and to answer pings with the
ping's payload; they too count every token and end marker in a frame, as one
frame may hold several (a welcome's history). The others answer pings too, by
looking for the ping opcode byte, which never occurs in the ASCII payloads: a
false match costs one harmless unsolicited pong.

Payloads are ASCII text frames `<token> <sender> <seq> <send_ns> <padding>`:
the chat server turns such a frame into a message whose JSON `text` holds it
unchanged, and the reference servers forward it as it is. Frames from the
generator are masked with the all-zero key, which servers accept like any
other key (it only saves the XOR; there is no proxy on loopback to protect).
"""

import argparse
import asyncio
import base64
import hashlib
import json
import math
import os
import resource
import secrets
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

try:
    import uvloop
except ImportError:  # the standard loop works; uvloop only makes the generator cheaper
    uvloop = None

PAYLOAD_SIZE = 64  # bytes per bench message, padding included: a typical chat line
TOKEN_LENGTH = 12  # "~" + 10 random hex digits + "~"
HANDSHAKE_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SETTLE_CAP = 120.0  # seconds for the server to finish greeting everyone
WELCOME_CAP = 120.0  # --await-welcome: seconds for every client's first frame
CONNECT_CONCURRENCY = 100  # handshakes in flight: under every server's listen backlog
RSS_INTERVAL = 0.1  # seconds between samples of the server's memory
LATENCY_LIMIT_MS = 100.0  # the capacity shape's pass mark for p99


def client_frame(opcode: int, payload: bytes) -> bytes:
    """Return a final client frame, masked with the all-zero key."""
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


def split_frames(buffer: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Split the complete server frames off `buffer`: [(opcode, payload)] and what is left."""
    frames = []
    position, size = 0, len(buffer)
    while size - position >= 2:
        length = buffer[position + 1] & 0x7F
        start = position + 2
        if length == 126:
            start += 2
            if size < start:
                break
            length = int.from_bytes(buffer[position + 2:start], "big")
        elif length == 127:
            start += 8
            if size < start:
                break
            length = int.from_bytes(buffer[position + 2:start], "big")
        end = start + length
        if end > size:
            break
        frames.append((buffer[position] & 0x0F, buffer[start:end]))
        position = end
    return frames, buffer[position:]


def ping_frames(data: bytes) -> tuple[list[bytes], bytes]:
    """Find ping frames in raw server bytes: their payloads, and a ping cut off at the end.

    A ping is 0x89, a length under 126, then the payload. The bench payloads are
    ASCII, so 0x89 occurs elsewhere only inside a long frame's length field:
    such a false match costs one harmless unsolicited pong.
    """
    payloads = []
    position = data.find(b"\x89")
    while position >= 0:
        if position + 2 > len(data):
            return payloads, data[position:]
        length = data[position + 1]
        if length < 126:
            end = position + 2 + length
            if end > len(data):
                return payloads, data[position:]
            payloads.append(data[position + 2:end])
        position = data.find(b"\x89", position + 1)
    return payloads, b""


class TokenCounter:
    """Count a token and an end marker (both TOKEN_LENGTH bytes, starting with "~") in a stream."""

    def __init__(self, token: bytes, end: bytes) -> None:
        assert len(token) == len(end) == TOKEN_LENGTH
        self.token = token
        self.end = end
        self.tail = b""  # the last TOKEN_LENGTH - 1 bytes seen: a token may start there

    def feed(self, data: bytes) -> tuple[int, int]:
        """Return how many tokens and end markers this chunk completes."""
        count = data.count(self.token)
        ends = data.count(self.end)
        if b"~" in self.tail:  # an occurrence cut in two by the chunk boundary starts there
            joint = self.tail + data[:TOKEN_LENGTH - 1]
            count += joint.count(self.token)
            ends += joint.count(self.end)
        if len(data) >= TOKEN_LENGTH - 1:
            self.tail = data[1 - TOKEN_LENGTH:]
        else:
            self.tail = (self.tail + data)[1 - TOKEN_LENGTH:]
        return count, ends


def bench_messages(payload: bytes, token: bytes) -> list[tuple[int, bytes, int]]:
    """Return (sender, seq, send_ns) of every bench message with this token in one frame.

    Mostly one; a welcome's history may hold several, end markers among them.
    """
    found = []
    at = payload.find(token)
    while at >= 0:
        fields = payload[at + TOKEN_LENGTH + 1:at + TOKEN_LENGTH + 48]
        sender, seq, sent = fields.split(b" ", 3)[:3]
        found.append((int(sender), seq, int(sent)))
        at = payload.find(token, at + TOKEN_LENGTH)
    return found


def percentile(ordered: list[int], fraction: float) -> int:
    """Return the nearest-rank percentile of an ascending list."""
    return ordered[max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))]


def cpu_seconds(pid: int | str) -> float | None:
    """Return the CPU seconds of every thread of `pid` (schedstat), or None without schedstat."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9 if total else None


def main_thread_wait(pid: int | str) -> float | None:
    """Return the seconds the main thread of `pid` was runnable but waiting for a CPU."""
    try:
        with open(f"/proc/{pid}/schedstat") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def tick_seconds(pid: int) -> float | None:
    """Return the CPU seconds of `pid` from /proc/PID/stat (10 ms ticks), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_bytes(pid: int) -> int | None:
    """Return the VmRSS of `pid` in bytes, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def process_tree(pid: int) -> list[int]:
    """Return `pid` and every live descendant of it (from /proc/PID/task/*/children)."""
    found, waiting = [], [pid]
    while waiting:
        current = waiting.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:  # exited since its parent listed it
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as children:
                    waiting += [int(child) for child in children.read().split()]
            except OSError:
                continue
    return found


def served_inodes(port: int) -> set[str]:
    """Return the inodes of the established TCP connections whose local port is `port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as connections:
                next(connections)  # the header
                for line in connections:
                    fields = line.split()
                    # local address "0100007F:1F90", state 01 = established, inode 10th
                    if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                        inodes.add(fields[9])
        except OSError:
            continue
    return inodes


def sockets_of(pid: int, clients: set[str]) -> dict[str, int]:
    """Return how many of process `pid`'s sockets are `clients` (inodes), and how many others."""
    count = {"clients": 0, "other": 0}
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return count
    for descriptor in descriptors:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{descriptor}")
        except OSError:
            continue
        if target.startswith("socket:["):
            count["clients" if target[8:-1] in clients else "other"] += 1
    return count


class ServerWatch:
    """The server seen from /proc: CPU seconds used and resident memory, over its process tree.

    A server that forks workers (run.py --processes N) is its PID and every
    descendant, looked up again at each reading so that late workers count;
    a one-process server's tree is just its PID. Summed RSS counts the pages
    workers still share with their parent once per process: an upper bound.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0  # highest RSS seen since the last reset, bytes

    def cpu_seconds(self) -> float:
        """Return the CPU time of every thread of every process of the server so far."""
        total = 0.0
        for pid in process_tree(self.pid):
            # schedstat counts nanoseconds; /proc/PID/stat only 10 ms ticks
            seconds = cpu_seconds(pid)
            total += (seconds if seconds is not None else tick_seconds(pid)) or 0.0
        return total

    def wait_seconds(self) -> float | None:
        """Return how long the processes' main threads (event loops) were runnable, waiting."""
        known = [wait for wait in map(main_thread_wait, process_tree(self.pid))
                 if wait is not None]
        return sum(known) if known else None

    def rss(self) -> int:
        """Return the resident memory summed over the processes, and remember the peak."""
        # A worker may exit between the listing and the read.
        total = sum(resident_bytes(pid) or 0 for pid in process_tree(self.pid))
        if not total:
            raise RuntimeError(f"no VmRSS for process {self.pid} or its descendants")
        self.peak = max(self.peak, total)
        return total

    def sockets(self, port: int) -> dict[str, dict[str, int]] | None:
        """Return, per process of a server of several, its client sockets on `port` and others.

        How the kernel spread the connections over the workers; None for one process.
        """
        tree = process_tree(self.pid)
        if len(tree) < 2:
            return None
        clients = served_inodes(port)
        return {str(pid): sockets_of(pid, clients) for pid in tree}

    async def sample(self) -> None:
        """Sample the memory every RSS_INTERVAL seconds, forever, to catch the peak."""
        while True:
            self.rss()
            await asyncio.sleep(RSS_INTERVAL)


class Phase:
    """One measured run: its tokens, who sends, what each client should get, what was seen."""

    def __init__(self, senders: list["Client"], on_finished: Callable[[], None]) -> None:
        self.token = ("~" + secrets.token_hex(5) + "~").encode()
        self.end = ("~" + secrets.token_hex(5) + "!").encode()  # never equal to a token
        self.senders = senders
        self.on_finished = on_finished
        self.active = True  # senders stop when the phase is over or out of time
        self.sent = 0
        self.latencies: list[int] = []  # ns, send -> receipt on the sampled clients
        self.first: dict[int, int] = {}  # sender -> slowest receipt of its seq 0, ns

    def payload(self, sender: int, seq: int) -> bytes:
        """Return one bench message, padded to PAYLOAD_SIZE bytes."""
        text = b"%s %d %d %d " % (self.token, sender, seq, time.monotonic_ns())
        return text + b"x" * max(1, PAYLOAD_SIZE - len(text))

    def end_marker(self, sender: int) -> bytes:
        """Return the frame payload a sender sends after its last message."""
        return b"%s %d end" % (self.end, sender)


class Client(asyncio.Protocol):
    """One WebSocket connection; it counts tokens, or parses frames if it is a sender or sampled."""

    def __init__(self, index: int, parses: bool, sampled: bool, swarm: "Swarm") -> None:
        self.index = index
        self.parses = parses
        self.sampled = sampled
        self.swarm = swarm
        self.transport: asyncio.Transport | None = None
        self.key = base64.b64encode(secrets.token_bytes(16))
        self.handshaken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.greeted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.head = b""  # the handshake answer so far
        self.rest = b""  # parsing: an incomplete frame
        self.ping_rest = b""  # counting: a ping frame cut by a chunk boundary
        self.closed = False
        self.to_send = 0  # closed loop: messages left to send after the first window
        self.reset(None)

    def reset(self, phase: Phase | None) -> None:
        """Start counting for a new phase."""
        self.phase = phase
        self.count = 0
        self.ends = 0
        self.last_data = 0  # monotonic ns of the last bench message received
        self.counter = TokenCounter(phase.token, phase.end) if phase and not self.parses else None
        self.finished = phase is None or self.closed
        self.next_seq = 0

    # handshake

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        raw = transport.get_extra_info("socket")
        if raw is not None:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport.write(self.swarm.request(self.index, self.key))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.handshaken.done():
            self.handshaken.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.greeted.done():  # closed unwelcomed: the phases count it as lost
            self.greeted.set_result(None)
        self.finish()

    def data_received(self, data: bytes) -> None:
        if self.handshaken.done():
            if not self.greeted.done():  # the first bytes after the handshake's answer
                self.greeted.set_result(None)
            if self.parses:
                self.parse(data)
            else:
                self.scan(data)
            return
        self.head += data
        end = self.head.find(b"\r\n\r\n")
        if end < 0:
            return
        head, data = self.head[:end], self.head[end + 4:]
        self.head = b""
        accept = base64.b64encode(hashlib.sha1(self.key + HANDSHAKE_GUID).digest())
        if not head.startswith(b"HTTP/1.1 101") or accept not in head:
            self.handshaken.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
            self.transport.close()
            return
        self.handshaken.set_result(None)
        if data:
            self.data_received(data)

    # counting clients

    def scan(self, data: bytes) -> None:
        """Count the phase's tokens and end markers in a chunk, and answer pings."""
        if self.ping_rest or b"\x89" in data:
            pings, self.ping_rest = ping_frames(self.ping_rest + data if self.ping_rest else data)
            for payload in pings:
                self.transport.write(client_frame(0xA, payload))
        if self.counter is None:
            return
        count, ends = self.counter.feed(data)
        if count:
            self.count += count
            self.last_data = time.monotonic_ns()
        if ends:
            self.ends += ends
            if self.ends >= len(self.phase.senders):
                self.finish()

    # parsing clients

    def parse(self, data: bytes) -> None:
        """Read whole frames: time bench messages, drive the sender's window, answer pings."""
        frames, self.rest = split_frames(self.rest + data if self.rest else data)
        now = time.monotonic_ns()
        phase = self.phase
        for opcode, payload in frames:
            if opcode == 0x9:
                self.transport.write(client_frame(0xA, payload))
                continue
            if opcode not in (0x1, 0x2) or phase is None:
                continue  # close frames: the server then closes the socket
            # Usually one message or one end marker per frame (welcome, join, leave and
            # rooms hold neither), but a welcome's history can hold several of both.
            for sender, seq, sent in bench_messages(payload, phase.token):
                self.count += 1
                self.last_data = now
                if self.sampled:
                    latency = now - sent
                    phase.latencies.append(latency)
                    if seq == b"0":
                        phase.first[sender] = max(phase.first.get(sender, 0), latency)
                if sender == self.index and self.to_send and phase.active:
                    self.send_message()
                    self.to_send -= 1
                    if not self.to_send:
                        self.send_end()
            ends = payload.count(phase.end)
            if ends:
                self.ends += ends
                if self.ends >= len(phase.senders):
                    self.finish()

    # sending

    def send_message(self) -> None:
        """Send the next bench message of the current phase."""
        phase = self.phase
        self.transport.write(client_frame(0x1, phase.payload(self.index, self.next_seq)))
        self.next_seq += 1
        phase.sent += 1

    def send_end(self) -> None:
        """Tell everyone this sender has sent its last message of the phase."""
        self.transport.write(client_frame(0x1, self.phase.end_marker(self.index)))

    def finish(self) -> None:
        """Note that this client has everything it will get in this phase."""
        if not self.finished:
            self.finished = True
            if self.phase is not None:
                self.phase.on_finished()


class Swarm:
    """The N clients: connect them, run phases on them, report what each phase measured."""

    def __init__(self, url: str, clients: int, senders: int, sample: int,
                 watch: ServerWatch | None, redis_pid: int | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme != "ws" or not parts.hostname:
            raise SystemExit(f"{url!r} is not a ws:// URL")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self.query = parts.query
        self.size = clients
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
        return (
            f"GET {self.path}?{query} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()

    async def connect(self) -> None:
        """Open every connection, CONNECT_CONCURRENCY handshakes at a time."""
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        senders, sample = set(self.sender_indexes), set(self.sample_indexes)

        async def open_one(index: int) -> Client:
            parses = index in senders or index in sample
            async with gate:
                _, client = await loop.create_connection(
                    lambda: Client(index, parses, index in sample, self), self.host, self.port
                )
                await client.handshaken
            return client

        self.clients = list(await asyncio.gather(*(open_one(i) for i in range(self.size))))

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
        phase = Phase(senders, self.client_finished)
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
        """Read the clocks the phase report compares against (and the socket spread first)."""
        spread = None
        if self.watch is not None:
            spread = self.watch.sockets(self.port)  # before the clocks: ~1000 links to read
            self.watch.peak = 0
            self.watch.rss()
        times = os.times()
        return {
            "ns": time.monotonic_ns(),
            "generator_cpu": times.user + times.system,
            "generator_wait": main_thread_wait("self"),
            "server_cpu": self.watch.cpu_seconds() if self.watch else None,
            "server_wait": self.watch.wait_seconds() if self.watch else None,
            "server_sockets": spread,
            "redis_cpu": cpu_seconds(self.redis_pid) if self.redis_pid else None,
        }

    def report(self, phase: Phase, measure: dict, timed_out: bool) -> dict:
        """Return what the phase measured."""
        now = time.monotonic_ns()
        times = os.times()
        expected = phase.sent * len(self.clients)
        received = sum(client.count for client in self.clients)
        last = max((client.last_data for client in self.clients), default=0)
        until = (last if last and not timed_out else now) - measure["ns"]
        wall = (now - measure["ns"]) / 1e9
        elapsed = max(until, 1) / 1e9
        latencies = sorted(phase.latencies)
        first = [phase.first.get(sender.index) for sender in phase.senders]
        generator_cpu = times.user + times.system - measure["generator_cpu"]
        report = {
            "sent": phase.sent,
            "expected": expected,
            "received": received,
            "lost": expected - received,
            "complete": received == expected and not timed_out,
            "timed_out": timed_out,
            "closed_clients": sum(client.closed for client in self.clients),
            "elapsed_s": round(elapsed, 4),
            "deliveries_per_s": round(received / elapsed, 1),
            "latency_ms": {
                "samples": len(latencies),
                **{name: round(percentile(latencies, fraction) / 1e6, 3) if latencies else None
                   for name, fraction in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99),
                                          ("max", 1.0))},
            },
            "first_message_ms": [round(value / 1e6, 3) if value is not None else None
                                 for value in first],
            "first_message_max_ms": (round(max(v for v in first if v is not None) / 1e6, 3)
                                     if any(v is not None for v in first) else None),
            "wall_s": round(wall, 4),
            "generator_cpu_s": round(generator_cpu, 3),
            "generator_cpu_pct": round(100 * generator_cpu / wall, 1),
        }
        waited = main_thread_wait("self")
        if waited is not None and measure["generator_wait"] is not None:
            waited -= measure["generator_wait"]
            report["generator_wait_pct"] = round(100 * waited / wall, 1)
        if self.watch is not None:
            server_cpu = self.watch.cpu_seconds() - measure["server_cpu"]
            self.watch.rss()
            report.update(
                server_cpu_s=round(server_cpu, 3),
                server_cpu_pct=round(100 * server_cpu / wall, 1),
                server_rss_peak_mb=round(self.watch.peak / 2**20, 1),
            )
            waited = self.watch.wait_seconds()
            if waited is not None and measure["server_wait"] is not None:
                # Runnable but not running: the core was busy with something else.
                report["server_wait_pct"] = round(100 * (waited - measure["server_wait"]) / wall, 1)
            if measure["server_sockets"] is not None:
                report["server_sockets"] = measure["server_sockets"]
        if measure["redis_cpu"] is not None:
            redis_cpu = cpu_seconds(self.redis_pid)
            if redis_cpu is not None:
                used = redis_cpu - measure["redis_cpu"]
                report.update(redis_cpu_s=round(used, 3),
                              redis_cpu_pct=round(100 * used / wall, 1))
        return report

    def close(self) -> None:
        """Drop every connection at once."""
        for client in self.clients:
            if client.transport is not None:
                client.transport.abort()


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to its hard limit; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def run(url: str, clients: int, senders: int = 1, sample: int = 20,
              messages: int = 0, window: int = 4, cap: float = 60.0,
              rates: tuple[float, ...] = (), duration: float = 10.0, drain: float = 5.0,
              server_pid: int | None = None, redis_pid: int | None = None,
              await_welcome: bool = False) -> dict:
    """Connect, settle, run the phases asked for, and return the report."""
    if not 1 <= senders <= clients:
        raise SystemExit(f"--senders must be between 1 and --clients ({clients})")
    limit = raise_fd_limit()
    if clients + 50 > limit:
        raise SystemExit(f"{clients} clients need more open files than the limit ({limit})")
    watch = ServerWatch(server_pid) if server_pid else None
    sampler = asyncio.create_task(watch.sample()) if watch else None
    swarm = Swarm(url, clients, senders, sample, watch, redis_pid)
    report: dict = {
        "url": url, "clients": clients, "sample": len(swarm.sample_indexes),
        "loop": "uvloop" if uvloop is not None else "asyncio",
        "payload_bytes": PAYLOAD_SIZE,
    }
    if watch:
        report["server_rss_start_mb"] = round(watch.rss() / 2**20, 1)
        server_cpu = watch.cpu_seconds()
    start = time.monotonic()
    try:
        await swarm.connect()
        if await_welcome:
            # A cluster node welcomes only after a round trip to Redis. Posted before the
            # last welcome, the barrier would overtake greetings: it would land in late
            # welcomes' history while their join announcements were still on the way.
            unwelcomed = await swarm.welcomed(WELCOME_CAP)
            if unwelcomed:
                report["error"] = (f"{unwelcomed} of {clients} clients had no first frame "
                                   f"from the server within {WELCOME_CAP} s")
                return report
        report["connect_s"] = round(time.monotonic() - start, 3)
        # The barrier: one message from client 0 reaches everyone only after
        # every greeting (welcome, join) queued before it, so the server is idle.
        settle = await swarm.closed_loop([swarm.clients[0]], 1, 1, SETTLE_CAP)
        report["settle_s"] = round(time.monotonic() - start, 3)
        if settle["timed_out"]:
            report["error"] = f"the server did not greet {clients} clients within {SETTLE_CAP} s"
            return report
        if watch:
            report["server_cpu_connect_s"] = round(watch.cpu_seconds() - server_cpu, 3)
            idle = watch.rss()
            report["server_rss_idle_mb"] = round(idle / 2**20, 1)
            report["rss_per_connection_kb"] = round(
                (idle - report["server_rss_start_mb"] * 2**20) / clients / 1024, 2)
        sending = [swarm.clients[index] for index in swarm.sender_indexes]
        if messages:
            report["closed"] = await swarm.closed_loop(sending, messages, window, cap)
        steps = []
        for rate in rates:
            step = await swarm.open_loop(sending, rate, duration, drain)
            steps.append(step)
            if not step["passed"]:
                break
        if rates:
            report["open"] = steps
            passed = [step["rate"] for step in steps if step["passed"]]
            report["sustained_rate"] = max(passed) if passed else 0
        if watch:
            report["server_cpu_total_s"] = round(watch.cpu_seconds() - server_cpu, 3)
    finally:
        if sampler is not None:
            sampler.cancel()
        swarm.close()
    return report


def main() -> None:
    """Run the generator from the command line and print its JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the server's WebSocket URL, e.g. ws://127.0.0.1:3000/ws")
    parser.add_argument("--clients", type=int, required=True, help="connections to open")
    parser.add_argument("--senders", type=int, default=1, help="how many of them send")
    parser.add_argument("--sample", type=int, default=20,
                        help="clients that parse frames to time latency (default: %(default)s)")
    parser.add_argument("--messages", type=int, default=0,
                        help="closed loop: messages each sender sends")
    parser.add_argument("--window", type=int, default=4,
                        help="closed loop: messages in flight per sender (default: %(default)s)")
    parser.add_argument("--cap", type=float, default=60.0,
                        help="closed loop: seconds before the run is stopped as failed")
    parser.add_argument("--rate", default="",
                        help="open loop: messages a second in all; a comma-separated list "
                             "climbs until a rate fails (p99 > 100 ms or a message lost)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="open loop: seconds of sending per rate (default: %(default)s)")
    parser.add_argument("--drain", type=float, default=5.0,
                        help="open loop: seconds to wait for deliveries after sending stops")
    parser.add_argument("--server-pid", type=int,
                        help="the server's PID, for CPU and memory (its descendants included)")
    parser.add_argument("--redis-pid", type=int, help="redis-server's PID, for its CPU")
    parser.add_argument("--await-welcome", action="store_true",
                        help="wait for every client's first frame (our server's welcome) "
                             "before the barrier; a server that sends none would hang it")
    parser.add_argument("--cpu", type=int, help="pin the generator to this core")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    rates = tuple(float(rate) for rate in args.rate.split(",") if rate)
    options = dict(clients=args.clients, senders=args.senders, sample=args.sample,
                   messages=args.messages, window=args.window, cap=args.cap, rates=rates,
                   duration=args.duration, drain=args.drain, server_pid=args.server_pid,
                   redis_pid=args.redis_pid, await_welcome=args.await_welcome)
    runner = uvloop.run if uvloop is not None else asyncio.run
    report = runner(run(args.url, **options))
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
