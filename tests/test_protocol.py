"""Unit tests of the wire protocol: parsing client frames and checking their fields."""

import pytest

from chat import commands, protocol
from chat.commands.message import Post
from chat.commands.nick import Rename
from chat.protocol import ProtocolError


def parsed(frame, max_text):
    """Return the arguments the frame's command module checked."""
    return commands.parse(frame, max_text)[1]


def error_code(frame, max_text=100) -> str:
    """Return the error code parsing `frame` raises."""
    with pytest.raises(ProtocolError) as caught:
        commands.parse(frame, max_text)
    return caught.value.code


def test_json_message_is_a_post():
    """A message event posts its text."""
    assert parsed('{"type": "message", "text": "hi"}', 100) == Post("hi")


def test_plain_text_is_a_post():
    """A frame that is not a JSON object is posted whole, as in the lesson."""
    assert parsed("here is a message for the server!", 100) == Post(
        "here is a message for the server!"
    )
    assert parsed("[1, 2]", 100) == Post("[1, 2]")
    assert parsed("42", 100) == Post("42")


def test_nicknames_are_stored_in_their_compatibility_form():
    """Full-width letters and odd spaces become the plain nickname they look like."""
    assert parsed('{"type": "nick", "nick": "\\uff41da\\u3000lovelace"}', 100) == Rename(
        "ada lovelace"
    )


def test_nick_event_is_a_rename_without_surrounding_spaces():
    """A nick event asks for the trimmed nickname."""
    assert parsed('{"type": "nick", "nick": "  ada "}', 100) == Rename("ada")


def test_deep_nesting_is_text_not_a_crash():
    """JSON nested too deep for the parser is treated as plain text."""
    frame = "[" * 100_000
    assert parsed(frame, 200_000) == Post(frame)


@pytest.mark.parametrize(
    "frame, code",
    [
        (b"\x00\x01", "binary_unsupported"),
        ('{"type": "shout", "text": "hi"}', "unknown_type"),
        ('{"text": "hi"}', "bad_message"),
        ('{"type": 7}', "bad_message"),
        ('{"type": "message"}', "bad_message"),
        ('{"type": "message", "text": 5}', "bad_message"),
        ('{"type": "nick", "nick": null}', "bad_message"),
        ('{"type": "message", "text": "  \\n\\t "}', "empty"),
        ("   ", "empty"),
        ('{"type": "message", "text": "' + "x" * 101 + '"}', "too_long"),
        ('{"type": "nick", "nick": "   "}', "bad_nick"),
        ('{"type": "nick", "nick": "' + "n" * 25 + '"}', "bad_nick"),
        ('{"type": "nick", "nick": "a\\u0007b"}', "bad_nick"),
        ('{"type": "nick", "nick": "a\\nb"}', "bad_nick"),
        ('{"type": "nick", "nick": "teacher\\u200b"}', "bad_nick"),  # zero-width space
        ('{"type": "nick", "nick": "\\u3164teacher"}', "bad_nick"),  # Hangul filler
        ('{"type": "nick", "nick": "\\u202eteacher"}', "bad_nick"),  # right-to-left override
        ('{"type": "nick", "nick": "tea\\u00adcher"}', "bad_nick"),  # soft hyphen
        ('{"type": "message", "text": "\\ud800"}', "bad_message"),
        ('{"type": "nick", "nick": "a\\udfffb"}', "bad_message"),
        ('{"type": "message", "text": "hi", "ref": "\\udc00"}', "bad_message"),
    ],
)
def test_bad_frames_raise_their_error_code(frame, code):
    """Each kind of bad frame is refused with its own error code."""
    assert error_code(frame) == code


def test_text_at_the_limit_is_accepted():
    """A message exactly max_text characters long is allowed."""
    assert parsed("x" * 100, 100) == Post("x" * 100)


def test_error_event_carries_code_and_sentence():
    """A ProtocolError becomes an error event with its code and message."""
    event = ProtocolError("empty", "The message is empty.").event()
    assert event == {"type": "error", "code": "empty", "message": "The message is empty."}


def test_encode_keeps_unicode_readable():
    """Events are compact JSON with non-ASCII text kept as is."""
    assert protocol.encode({"type": "message", "text": "héllo 你好"}) == (
        '{"type":"message","text":"héllo 你好"}'.encode()
    )
