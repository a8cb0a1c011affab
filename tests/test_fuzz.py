"""Fuzz the wire protocol through real sockets: one client sends garbage while two others chat.

Hypothesis generates frames of every kind a client can send: text, JSON of any
shape, commands with wrong fields, frames near and over 64 KiB, JSON nested
50 000 deep, numbers with thousands of digits, invalid UTF-8, binary. Each must
get exactly the answer docs/protocol.md promises (an `error`, the fuzzer's own
`message` or `nick` event, an `ack`, nothing, or a closed connection), and the
server must log no error. Meanwhile "ada" and "bob" chat; each must receive
every chat message, in order, exactly once.

Each example gets a fresh server in a thread with its own event loop, and
drives its clients with `asyncio.run`: examples share nothing, so Hypothesis can
replay and shrink a failure to the frames that cause it.
"""

import asyncio
import json
import logging
import secrets
import threading
from dataclasses import dataclass, replace

import pytest
import tornado.httpserver
import tornado.websocket
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from tornado.testing import bind_unused_port

from chat import nicknames
from chat.app import make_app, shutdown
from chat.config import Settings
from chat.handlers import ChatSocket

Event = dict

# Hypothesis's report of a failing example imports libcst when it is installed;
# libcst 1.0 warns through mypy_extensions, and setup.cfg turns warnings into
# errors, which would hide the failing example behind an INTERNALERROR.
pytestmark = pytest.mark.filterwarnings(
    "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
)

# The limits as docs/protocol.md states them; the server runs with its defaults.
MAX_FRAME = 64 * 1024  # bytes; a bigger frame closes the connection
MAX_TEXT = 2000  # characters of a message
MAX_NICK = 24  # characters of a nickname
MAX_REF = 64  # characters of a message's ref
ROOM = "general"  # the room of a socket that names none
# Every documented error code but rate_limited (the test turns the limit off) and
# unavailable (a full or failing disk, which the test's is not).
ERROR_CODES = {
    "binary_unsupported", "bad_message", "unknown_type", "empty", "too_long", "bad_nick",
    "nick_taken",
}

CHATTERS = ("ada", "bob")
EXAMPLE_TIMEOUT = 10.0  # seconds: a lost answer fails the example instead of hanging it
THREAD_TIMEOUT = 10.0  # seconds for the server thread to start or stop


class ServerThread:
    """A chat server on a free port of 127.0.0.1, with its own event loop in a thread."""

    def __init__(self, chat_settings: Settings) -> None:
        self.settings = chat_settings
        self.port = 0
        self.error: Exception | None = None
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        # A daemon, so a server stuck in a bug cannot keep pytest from exiting.
        self._thread = threading.Thread(target=self._run, name="chat-server", daemon=True)

    def __enter__(self) -> "ServerThread":
        self._thread.start()
        self._started.wait(THREAD_TIMEOUT)
        if not self.port:
            raise RuntimeError("The chat server thread did not start.") from self.error
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(THREAD_TIMEOUT)
        assert not self._thread.is_alive(), f"the server did not stop in {THREAD_TIMEOUT} s"
        if self.error is not None:
            raise RuntimeError("The chat server thread failed.") from self.error

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception as error:  # handed to the test's thread, which raises it
            self.error = error
        finally:
            self._started.set()  # also when it failed, so __enter__ stops waiting

    async def _serve(self) -> None:
        app = make_app(self.settings)
        listener, port = bind_unused_port()
        server = tornado.httpserver.HTTPServer(app)
        server.add_sockets([listener])
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self.port = port
        self._started.set()
        await self._stop.wait()
        server.stop()
        await shutdown(app)


# --- What the contract promises for one frame ---------------------------------------------


@dataclass(frozen=True, repr=False)
class Frame:
    """One WebSocket frame as the fuzzer sends it."""

    payload: str | bytes  # bytes with binary=False: a text frame that may not be UTF-8
    binary: bool = False

    def size(self) -> int:
        """Return the payload's size in bytes, which the 64 KiB limit counts."""
        return len(self.payload if isinstance(self.payload, bytes) else self.payload.encode())

    def __repr__(self) -> str:
        # Hypothesis prints failing examples; 64 KiB of "x" would drown the report.
        kind = "binary" if self.binary else "text"
        more = f"...({self.size()} bytes)" if len(self.payload) > 120 else ""
        return f"Frame({self.payload[:120]!r}{more}, {kind})"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(repr(self))


@dataclass(frozen=True)
class Claim:
    """What docs/protocol.md says the server does with a frame, whoever is online."""

    closes: bool = False
    close_code: int | None = None  # 1009 for a frame over 64 KiB; None: just dropped
    error: str | None = None  # the code of the error event that answers it
    ref: str | None = None  # the ref that error, or the ack, carries
    text: str | None = None  # the message it posts
    nick: str | None = None  # the nickname it asks for: taken or not depends on who is online
    silent: bool = False  # nothing comes back to the sender (typing: only the others are told)
    unpaired: bool = False  # it holds a lone surrogate: any error is an answer too


def json_object(text: str) -> dict | None:
    """Return the frame's JSON object, or None if it is not one (then it is a message)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def has_lone_surrogate(value: object) -> bool:
    """Tell whether a decoded JSON value holds a lone surrogate (a "\\ud800" escape)."""
    pending = [value]  # a loop, not recursion: the value may be nested thousands deep
    while pending:
        item = pending.pop()
        if isinstance(item, str) and any("\ud800" <= char <= "\udfff" for char in item):
            return True
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def replace_lone_surrogates(data: dict) -> dict:
    """Return the frame's fields with every lone surrogate in a string replaced by U+FFFD."""
    return {
        key: value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        if isinstance(value, str) else value
        for key, value in data.items()
    }


def post(text: str, ref: str | None) -> Claim:
    """Return what becomes of a message with this text: posted, or refused."""
    if not text.strip():
        return Claim(error="empty", ref=ref)
    if len(text) > MAX_TEXT:
        return Claim(error="too_long", ref=ref)
    return Claim(text=text, ref=ref)


def classify(frame: Frame) -> Claim:
    """Return what docs/protocol.md promises for this frame."""
    if frame.size() > MAX_FRAME:
        return Claim(closes=True, close_code=1009)
    if frame.binary:
        return Claim(error="binary_unsupported")
    try:
        text = frame.payload.decode() if isinstance(frame.payload, bytes) else frame.payload
    except UnicodeDecodeError:
        return Claim(closes=True)
    data = json_object(text)
    if data is None:
        return post(text, None)  # the lesson's socket.send('hi')
    if has_lone_surrogate(data):
        # JSON can escape half a UTF-16 pair ("\\ud800"); such a string has no
        # UTF-8 form, so the server cannot send it back. docs/protocol.md does not
        # say what it does instead: refuse the frame, or read each as U+FFFD.
        return replace(classify_object(replace_lone_surrogates(data)), unpaired=True)
    return classify_object(data)


def classify_object(data: dict) -> Claim:
    """Return what docs/protocol.md promises for a frame that is a JSON object."""
    kind = data.get("type")
    if not isinstance(kind, str):
        return Claim(error="bad_message")
    if kind == "message":
        ref = data.get("ref")
        if ref is not None and not (isinstance(ref, str) and 0 < len(ref) <= MAX_REF):
            return Claim(error="bad_message")
        if not isinstance(data.get("text"), str):
            return Claim(error="bad_message", ref=ref)
        return post(data["text"], ref)
    if kind == "nick":
        ref = data.get("ref")  # a refused frame's valid ref is named (chat/commands/__init__.py)
        ref = ref if isinstance(ref, str) and 0 < len(ref) <= MAX_REF else None
        if not isinstance(data.get("nick"), str):
            return Claim(error="bad_message", ref=ref)
        try:  # the normal form and the characters refused: docs/protocol.md, chat/nicknames.py
            nick = nicknames.normalise(data["nick"])
        except nicknames.BadNickname:
            return Claim(error="bad_nick", ref=ref)
        if not nick or len(nick) > MAX_NICK:
            return Claim(error="bad_nick", ref=ref)
        return Claim(nick=nick)
    if kind == "typing":
        return Claim(silent=True)
    return Claim(error="unknown_type")


def assert_error(frame: Frame, answer: list[Event], code: str, ref: str | None = None) -> None:
    """Assert the answer is one error event with this code, a sentence, and the ref if any."""
    expected = {"type": "error", "code": code} | ({"ref": ref} if ref is not None else {})
    assert len(answer) == 1, f"{frame!r} needs {expected}, got {answer}"
    error = dict(answer[0])
    message = error.pop("message", None)
    assert error == expected, f"{frame!r} needs {expected}, got {answer}"
    assert isinstance(message, str) and message, f"{frame!r}: an error needs a message: {answer}"


def assert_posted(
    frame: Frame, claim: Claim, answer: list[Event], nick: str, earlier: int | None
) -> None:
    """Assert the answer to a valid message: the message itself, and its ack if it had a ref.

    `earlier` is the id acknowledged the last time this nickname used this
    ref: a re-sent ref gets only that ack, and nobody sees the message again.
    """
    messages = [event for event in answer if event["type"] == "message"]
    acks = [event for event in answer if event["type"] == "ack"]
    assert len(messages) + len(acks) == len(answer), f"{frame!r}: unexpected events: {answer}"
    assert len(acks) == (claim.ref is not None), f"{frame!r}: one ack per ref: {answer}"
    if earlier is None:
        assert len(messages) == 1, f"{frame!r} must be broadcast once: {answer}"
    else:
        assert not messages, f"{frame!r} re-sends ref {claim.ref!r}: only its ack, got {answer}"
    for message in messages:
        assert isinstance(message.get("id"), int) and isinstance(message.get("ts"), int), message
        expected = {"type": "message", "room": ROOM, "id": message["id"], "nick": nick,
                    "text": claim.text}
        assert message == expected | {"ts": message["ts"]}, f"{frame!r} needs {expected}: {answer}"
    for ack in acks:
        message_id = messages[0]["id"] if messages else earlier
        expected = {"type": "ack", "ref": claim.ref, "id": message_id}
        assert ack == expected, f"{frame!r} needs {expected}: {answer}"


# --- The clients ------------------------------------------------------------------------------


class Client:
    """One chat socket with the nickname the server gave it."""

    def __init__(self, ws: tornado.websocket.WebSocketClientConnection, welcome: Event) -> None:
        self.ws = ws
        self.nick: str = welcome["nick"]
        self.online: list[str] = welcome["online"]
        self.closed = False

    @classmethod
    async def connect(cls, port: int, nick: str) -> "Client":
        """Open a chat socket and return once its welcome proves it joined."""
        ws = await tornado.websocket.websocket_connect(f"ws://127.0.0.1:{port}/ws?nick={nick}")
        raw = await ws.read_message()
        if raw is None:
            ws.close()
            raise AssertionError(f"the server closed {nick}'s connection instead of a welcome")
        welcome = json.loads(raw)
        assert welcome["type"] == "welcome", welcome
        return cls(ws, welcome)

    async def read(self) -> Event | None:
        """Return the next event, or None once the connection is closed."""
        raw = await self.ws.read_message()
        if raw is None:
            self.closed = True  # Tornado hands out None once: never read again
            return None
        return json.loads(raw)

    async def send(self, text: str) -> None:
        """Post a chat message."""
        await self.ws.write_message(json.dumps({"type": "message", "text": text}))

    async def close(self) -> None:
        """Close, and return once the server has closed its end too."""
        self.ws.close()  # even after the server closed it: Tornado warns of a socket left open
        while not self.closed:
            await self.read()


class Fuzzer:
    """The client that sends the generated frames and checks every answer.

    It follows join, leave and nick events to know who is online when the
    server handles each frame: events reach it in the order the server made them.
    """

    def __init__(self, port: int, token: str, chatter_nicks: set[str]) -> None:
        self.port = port
        self.token = token  # in every probe's text, so no generated frame can look like one
        self.chatter_nicks = chatter_nicks
        self.refs: dict[tuple[str, str], int] = {}  # (nick, ref) -> the id its ack gave
        self.broadcast_ids: set[int] = set()  # ids of its messages, which the chatters must get
        self.client: Client | None = None
        self.online: dict[str, str] = {}  # nickname key (chat.nicknames) -> nickname
        self.waiting = "its welcome"  # what it is reading for, should the example time out

    async def connect(self) -> None:
        """Connect a fresh fuzzer socket: the first, or after the server closed the last."""
        self.client = await Client.connect(self.port, "fuzzer")
        self.online = {nicknames.key(nick): nick for nick in self.client.online}

    async def close(self) -> None:
        """Close the fuzzer's socket."""
        if self.client is not None:
            await self.client.close()

    def follow(self, event: Event) -> None:
        """Keep track of who is online and of the fuzzer's own nickname."""
        if event["type"] == "join":
            self.online[nicknames.key(event["nick"])] = event["nick"]
        elif event["type"] == "leave":
            self.online.pop(nicknames.key(event["nick"]), None)
        elif event["type"] == "nick":
            self.online.pop(nicknames.key(event["old"]), None)
            self.online[nicknames.key(event["nick"])] = event["nick"]
            if event["old"] == self.client.nick:
                self.client.nick = event["nick"]

    def is_answer(self, event: Event) -> bool:
        """Tell events meant for the fuzzer from the chatters' messages and presence."""
        if event["type"] in ("join", "leave", "rooms"):
            return False
        return not (event["type"] == "message" and event["nick"] in self.chatter_nicks)

    async def fuzz(self, frame: Frame, number: int) -> None:
        """Send one frame and check the server's answer to it."""
        claim = classify(frame)
        nick = self.client.nick
        self.waiting = f"the answer to {frame!r}"
        await self.client.ws.write_message(frame.payload, binary=frame.binary)
        if claim.closes:
            await self.closed_after(frame, claim)
        else:
            wants_ack = claim.text is not None and claim.ref is not None
            answer, online = await self.answer(frame, number, wants_ack)
            self.check(frame, claim, answer, nick, online)
        self.waiting = "nothing"

    async def answer(
        self, frame: Frame, number: int, wants_ack: bool
    ) -> tuple[list[Event], dict[str, str]]:
        """Return the events that answer a frame, and who was online when it was handled.

        A probe message follows the frame: the server handles a connection's
        frames in order, so once the probe comes back every direct answer has
        arrived. An ack waits for the disk, so it may come after the probe.
        """
        probe = f"probe {self.token} {number}"
        try:
            await self.client.send(probe)
        except tornado.websocket.WebSocketClosedError:
            pass  # the server closed the connection already: reading says so
        answer: list[Event] = []
        online = dict(self.online)
        echoed = False
        while not echoed or (wants_ack and not any(e["type"] in ("ack", "error") for e in answer)):
            event = await self.client.read()
            assert event is not None, (
                f"the server closed the connection (code {self.client.ws.close_code}) "
                f"instead of answering {frame!r}"
            )
            if not echoed and event["type"] == "message" and event["text"] == probe:
                echoed = True
                self.broadcast_ids.add(event["id"])
                assert event["nick"] == self.client.nick, f"the probe came from {event['nick']}"
            elif self.is_answer(event):
                if not answer:  # the state in which the server handled the frame
                    online = dict(self.online)
                answer.append(event)
            self.follow(event)
        return answer, online

    async def closed_after(self, frame: Frame, claim: Claim) -> None:
        """Assert the server closes the connection without answering; then connect anew.

        No probe here: writing to a connection the server has just dropped can
        make Tornado close it before it reads the 1009 the server sent.
        """
        while (event := await self.client.read()) is not None:
            assert not self.is_answer(event), f"answered {frame!r} instead of closing: {event}"
            self.follow(event)
        # None: no close frame came. Tornado sends 1009 and drops the connection
        # at once; when other events are still queued for this client, the close
        # frame can be lost with them. test_bad_input checks 1009 on a quiet connection.
        code = self.client.ws.close_code
        assert code in (claim.close_code, None), f"close code {code} for {frame!r}"
        await self.client.close()
        await self.connect()

    def check(
        self, frame: Frame, claim: Claim, answer: list[Event], nick: str, online: dict[str, str]
    ) -> None:
        """Assert the answer to one frame is the one the contract promises."""
        if claim.unpaired and [event["type"] for event in answer] == ["error"]:
            assert answer[0]["code"] in ERROR_CODES, f"{frame!r}: undocumented error: {answer}"
            assert isinstance(answer[0].get("message"), str), f"{frame!r}: no message: {answer}"
            return
        if claim.error is not None:
            assert_error(frame, answer, claim.error, claim.ref)
        elif claim.text is not None:
            assert_posted(frame, claim, answer, nick, self.refs.get((nick, claim.ref)))
            for event in answer:
                if event["type"] == "message":
                    self.broadcast_ids.add(event["id"])
                elif event["type"] == "ack":
                    self.refs[(nick, claim.ref)] = event["id"]
        elif claim.silent or claim.nick == nick:  # typing, or renaming to one's own nick
            assert answer == [], f"{frame!r} gets no answer: {answer}"
        elif (wanted := nicknames.key(claim.nick)) != nicknames.key(nick) and wanted in online:
            assert_error(frame, answer, "nick_taken")
        else:
            expected = {"type": "nick", "old": nick, "nick": claim.nick}
            assert answer == [expected], f"expected {expected} for {frame!r}: {answer}"


async def read_chat(client: Client, markers: set[tuple[str, str]]) -> list[Event]:
    """Collect every message a chatter receives until both chatters' last messages arrived."""
    messages = []
    unseen = set(markers)
    while unseen:
        event = await client.read()
        assert event is not None, f"{client.nick} was disconnected"
        assert event["type"] != "error", f"{client.nick} got an error: {event}"
        if event["type"] == "message":
            messages.append(event)
            unseen.discard((event["nick"], event["text"]))
    return messages


def assert_nothing_lost(
    streams: dict[str, list[Event]], sent: dict[str, list[str]], fuzzer_ids: set[int]
) -> None:
    """Assert both chatters saw the same stream: every message, in order, once."""
    for name, messages in streams.items():
        for chatter in CHATTERS:
            texts = [m["text"] for m in messages if m["nick"] == chatter]
            assert texts == sent[chatter], f"{name} got {chatter}'s {texts}, not {sent[chatter]}"
        ids = [m["id"] for m in messages]
        assert ids == list(range(ids[0], ids[0] + len(ids))), f"{name}: ids skip or repeat: {ids}"
        others = {m["id"] for m in messages if m["nick"] not in CHATTERS}
        assert others == fuzzer_ids, f"{name} got the fuzzer's {others}, not {fuzzer_ids}"
    assert streams["ada"] == streams["bob"], "ada and bob saw different streams"


async def play(port: int, steps: list[tuple[Frame, list[str]]]) -> None:
    """One example: ada and bob chat while the fuzzer sends each frame."""
    token = secrets.token_hex(4)
    clients: dict[str, Client] = {}
    fuzzer = Fuzzer(port, token, set(CHATTERS))
    sent: dict[str, list[str]] = {name: [] for name in CHATTERS}

    async def drive() -> None:
        await fuzzer.connect()
        for number, (frame, talkers) in enumerate(steps):
            for name in talkers:  # in flight while the server handles the frame
                sent[name].append(f"{name} {token} {len(sent[name])}")
                await clients[name].send(sent[name][-1])
            await fuzzer.fuzz(frame, number)
        for name in CHATTERS:  # last: once a chatter has both, it has everything
            sent[name].append(f"{name} {token} done")
            await clients[name].send(sent[name][-1])

    tasks: dict[str, asyncio.Task] = {}
    try:
        for name in CHATTERS:
            clients[name] = await Client.connect(port, name)
            assert clients[name].nick == name, f"{name} joined as {clients[name].nick}"
        markers = {(name, f"{name} {token} done") for name in CHATTERS}
        tasks = {name: asyncio.create_task(read_chat(clients[name], markers)) for name in CHATTERS}
        tasks["fuzzer"] = asyncio.create_task(drive())
        done, pending = await asyncio.wait(
            tasks.values(), timeout=EXAMPLE_TIMEOUT, return_when=asyncio.FIRST_EXCEPTION
        )
        for task in done:
            task.result()  # the first failure, if any
        stuck = ", ".join(name for name, task in tasks.items() if task in pending)
        assert not stuck, (
            f"nothing came for {EXAMPLE_TIMEOUT} s: {stuck} still reading "
            f"(the fuzzer for {fuzzer.waiting})"
        )
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        await fuzzer.close()
        for client in clients.values():
            await client.close()
    streams = {name: tasks[name].result() for name in CHATTERS}
    assert_nothing_lost(streams, sent, fuzzer.broadcast_ids)


# --- The frames -------------------------------------------------------------------------------


def padded(head: str, filler: str, tail: str, slack: int) -> str:
    """Return head + filler * n + tail, about MAX_FRAME + slack bytes of UTF-8."""
    room = MAX_FRAME + slack - len(head.encode()) - len(tail.encode())
    return head + filler * max(room // len(filler.encode()), 0) + tail


def json_text(value: object, ascii_only: bool) -> str:
    """Serialise to JSON; escape everything if a lone surrogate cannot go out as UTF-8."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    try:
        text.encode()
    except UnicodeEncodeError:
        return json.dumps(value)
    return text


SPECIAL_TEXT = [
    "", " \t\n", "\u2028", "x" * MAX_TEXT, "x" * (MAX_TEXT + 1), "n" * MAX_NICK,
    "n" * (MAX_NICK + 1), "tab\there", "ada", "ADA", " bob ", "fuzzer", "Fuzzer",
    "\ud800", "a\udfffb", "\udc80 ",  # lone surrogates: valid as JSON escapes, not as UTF-8
]
strings = st.text() | st.sampled_from(SPECIAL_TEXT)
scalars = (
    st.none() | st.booleans() | st.integers() | st.sampled_from([10**400, -(10**400)])
    | st.floats() | strings
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(strings, children, max_size=4),
    max_leaves=12,
)
valid_refs = st.text("ab", min_size=1, max_size=2)  # few, so the fuzzer re-sends some
refs = valid_refs | st.sampled_from(["", "r" * MAX_REF, "r" * (MAX_REF + 1)])
commands = st.builds(
    lambda extra, fields: extra | fields,
    st.dictionaries(strings, json_values, max_size=3),
    st.fixed_dictionaries(
        {"type": st.sampled_from(
            ["message", "nick", "typing", "shout", "", "Message", 7, None, True, []]
        )},
        optional={"text": strings | json_values, "nick": strings | json_values,
                  "ref": refs | json_values},
    ),
)
lone_surrogates = st.builds(  # e.g. "ab\ud800c": json.dumps writes it as an escape
    lambda before, half, after: before + half + after,
    st.text(max_size=3), st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"]),
    st.text(max_size=3),
)
likely_valid = st.text(min_size=1) | strings | lone_surrogates
valid_commands = (
    st.fixed_dictionaries({"type": st.just("message"), "text": likely_valid})
    | st.fixed_dictionaries({"type": st.just("message"), "text": likely_valid, "ref": valid_refs})
    | st.fixed_dictionaries({"type": st.just("nick"), "nick": likely_valid})
    | st.just({"type": "typing"})
)
slack = st.integers(-8, 8)  # bytes around the 64 KiB limit
huge_text = st.builds(
    padded,
    head=st.sampled_from(["", '{"type":"message","text":"', '{"type":"nick","nick":"']),
    filler=st.sampled_from(["x", " ", "é", "€", "𝄞"]),
    tail=st.sampled_from(["", '"}']),
    slack=slack,
)
nested_json = st.builds(
    lambda head, pair, depth, balanced: head + pair[0] * depth
    + (pair[1] * depth if balanced else "") + ("}" if head else ""),
    head=st.sampled_from(["", '{"type":"message","text":"deep","deep":']),
    pair=st.sampled_from([("[", "]"), ('{"a":', "}")]),
    depth=st.integers(1, 50_000),
    balanced=st.booleans(),
)
long_numbers = st.builds(
    lambda shape, digits: shape.replace("N", "1" * digits),
    shape=st.sampled_from(["N", "-N", "0.N", "1eN", "[N]", '{"type":"message","text":"n","n":N}',
                           '{"type":"nick","nick":N}']),
    digits=st.integers(1, 70_000),
)
invalid_utf8 = st.sampled_from([b"caf\xe9", b"\xed\xa0\x80", b"\xff", b"\xc0\xaf", b"ok\x80"])


def as_json(values: st.SearchStrategy) -> st.SearchStrategy:
    """Return text frames of these values as JSON, with or without escapes."""
    return st.builds(json_text, values, st.booleans()).map(Frame)


frames = st.one_of(
    # Commands twice over: parsing them is the server's most intricate part.
    as_json(valid_commands),
    as_json(valid_commands),
    as_json(commands),
    as_json(commands),
    as_json(json_values),
    st.text().map(Frame),
    huge_text.map(Frame),
    nested_json.map(Frame),
    long_numbers.map(Frame),
    (st.binary() | invalid_utf8 | slack.map(lambda n: b"\xff" * (MAX_FRAME + n))).map(Frame),
    (st.binary() | slack.map(lambda n: bytes(MAX_FRAME + n))).map(lambda b: Frame(b, binary=True)),
)
# Each step: the chatters who send a message, then the fuzzer's frame.
fuzz_steps = st.lists(
    st.tuples(frames, st.lists(st.sampled_from(CHATTERS), max_size=3)), min_size=1, max_size=6
)


# Inputs known to be dangerous, tried on every run whatever Hypothesis draws.
EDGE_CASES = [
    [(Frame("[" * 5000), ["ada"])],  # deeper than the JSON parser recurses
    [(Frame('{"type":"message","text":"deep","deep":' + "[" * 5000 + "]" * 5000 + "}"), [])],
    [(Frame("1" * 5000), ["bob"])],  # more digits than Python turns into an int
    [(Frame('{"type":"message","text":"n","n":' + "1" * 5000 + "}"), [])],
    [(Frame('{"type":"message","text":"\\ud800"}'), ["ada"])],  # a lone surrogate
    [(Frame('{"type":"nick","nick":"a\\udfffb"}'), [])],
    [(Frame('{"type":"message","text":"once","ref":"r"}'), ["ada"]),  # a re-sent ref
     (Frame('{"type":"message","text":"twice","ref":"r"}'), ["bob"]),
     (Frame('{"type":"message","text":" ","ref":"s"}'), [])],
    [(Frame("x" * MAX_FRAME), ["ada"]), (Frame("x" * (MAX_FRAME + 1)), ["bob"])],
    [(Frame(b"caf\xe9"), ["ada"]), (Frame(b"\xff", binary=True), ["bob"])],
    [(Frame('{"type":"shout","text":"hi"}'), []), (Frame('{"type":"nick","nick":" ADA "}'), []),
     (Frame('{"type":"typing"}'), ["ada"])],
    # A refused rename names its valid ref, as every refused frame does.
    [(Frame('{"type":"nick","ref":"a"}'), []), (Frame('{"type":"nick","nick":"","ref":"b"}'), [])],
]


def with_edge_cases(test):
    """Add every EDGE_CASES entry to the test's examples."""
    for edge_case in EDGE_CASES:
        test = example(steps=edge_case)(test)
    return test


# --- The test ---------------------------------------------------------------------------------


@settings(
    max_examples=100,
    deadline=None,
    database=None,  # no .hypothesis/ in the repository; a failure prints its example
    # No explain phase: it traces every line through many more servers, which
    # takes a minute on two cores; the shrunk example already says what failed.
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    # The examples share tmp_path and caplog, harmlessly: each example has its
    # own database file in tmp_path, and clears caplog first.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@with_edge_cases
@given(steps=fuzz_steps)
def test_fuzzed_frames_get_their_answer_and_disturb_nobody(tmp_path, caplog, steps):
    """Any frame gets its documented answer or close; no error is logged; chat loses nothing."""
    caplog.clear()
    # rate=0 turns the rate limit off: the fuzzer sends as fast as it can, and
    # every frame must get its own answer, never `rate_limited`.
    chat_settings = Settings(db=tmp_path / f"chat-{secrets.token_hex(4)}.db", rate=0)
    with ServerThread(chat_settings) as server:
        asyncio.run(play(server.port, steps))
    # The server thread has stopped, so reading its waiters races with nothing.
    assert not ChatSocket.waiters, f"still in the waiters after shutdown: {ChatSocket.waiters}"
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert not errors, f"the server logged errors:\n{caplog.text}"
