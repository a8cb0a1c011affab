"""Bad input through real sockets: the offender gets a clear answer, nobody else notices."""

import json

import pytest
from conftest import next_event, send


async def assert_undisturbed(watcher, offender=None) -> None:
    """Prove delivery goes on: the next thing the watcher gets is a fresh message.

    The watcher sends it, so it is also proof the offender's frames left no trace
    (an error or stray message would arrive first). If the offender is still
    connected, it must receive that message too.
    """
    await send(watcher, {"type": "message", "text": "still fine"})
    for ws in [watcher] + ([offender] if offender else []):
        raw = await ws.read_message()
        event = json.loads(raw)
        if event["type"] in ("join", "leave"):
            event = json.loads(await ws.read_message())
        assert event["type"] == "message" and event["text"] == "still fine", event


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "frame, code",
    [
        ({"type": "shout", "text": "hi"}, "unknown_type"),
        ({"text": "no type"}, "bad_message"),
        ({"type": "message"}, "bad_message"),
        ({"type": "message", "text": ["not", "a", "string"]}, "bad_message"),
        ({"type": "nick", "nick": 42}, "bad_message"),
        ({"type": "message", "text": " \n\t "}, "empty"),
        ({"type": "message", "text": "x" * 101}, "too_long"),
        ({"type": "nick", "nick": ""}, "bad_nick"),
        ({"type": "nick", "nick": "n" * 25}, "bad_nick"),
        ({"type": "nick", "nick": "tab\there"}, "bad_nick"),
        ({"type": "nick", "nick": "WATCHER"}, "nick_taken"),
    ],
)
async def test_bad_frame_gets_an_error_and_the_connection_stays_open(
    connect, frame, code
):
    """Each bad frame gets its error code and a sentence; both sockets keep working."""
    watcher, _ = await connect(nick="watcher")
    offender, _ = await connect(nick="offender")
    await next_event(watcher, "join")  # the watcher's own
    await next_event(watcher, "join")  # the offender's
    await next_event(offender, "join")
    await send(offender, frame)
    error = await next_event(offender, "error")
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"].endswith(".")
    await assert_undisturbed(watcher, offender)


@pytest.mark.gen_test
async def test_plain_text_that_is_blank_is_refused(connect):
    """A lesson-style plain frame of spaces is refused as empty."""
    ws, _ = await connect(nick="ada")
    await ws.write_message("   ")
    assert (await next_event(ws, "error"))["code"] == "empty"


@pytest.mark.gen_test
async def test_binary_frame_is_refused_and_the_connection_stays_open(connect):
    """A binary frame gets binary_unsupported; both sockets keep working."""
    watcher, _ = await connect(nick="watcher")
    offender, _ = await connect(nick="offender")
    await next_event(watcher, "join")
    await next_event(watcher, "join")
    await next_event(offender, "join")
    await offender.write_message(b"\x00\x01\x02", binary=True)
    assert (await next_event(offender, "error"))["code"] == "binary_unsupported"
    await assert_undisturbed(watcher, offender)


@pytest.mark.gen_test
async def test_invalid_utf8_fails_only_that_connection(connect):
    """A text frame that is not UTF-8 drops its sender; the others see a leave and go on."""
    watcher, _ = await connect(nick="watcher")
    offender, _ = await connect(nick="offender")
    await offender.write_message(b"caf\xe9 \xff", binary=False)  # text opcode, invalid UTF-8
    while (event := await offender.read_message()) is not None:
        assert json.loads(event)["type"] in ("join", "welcome"), event
    assert (await next_event(watcher, "leave"))["nick"] == "offender"
    await assert_undisturbed(watcher)


@pytest.mark.gen_test
async def test_frame_over_64_kib_closes_with_1009(connect):
    """A frame bigger than 64 KiB closes that connection with code 1009, and only it."""
    watcher, _ = await connect(nick="watcher")
    offender, _ = await connect(nick="offender")
    await offender.write_message("x" * (64 * 1024 + 1))
    while await offender.read_message() is not None:
        pass
    assert offender.close_code == 1009
    assert (await next_event(watcher, "leave"))["nick"] == "offender"
    await assert_undisturbed(watcher)
