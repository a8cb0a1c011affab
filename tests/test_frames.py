"""The ready-made frames, checked byte for byte against RFC 6455's layout."""

import pytest

from chat.frames import text_frame


@pytest.mark.parametrize(
    "length, header",
    [
        (0, b"\x81\x00"),
        (125, b"\x81\x7d"),
        (126, b"\x81\x7e\x00\x7e"),
        (65535, b"\x81\x7e\xff\xff"),
        (65536, b"\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00"),
    ],
)
def test_length_is_encoded_in_the_shortest_form(length, header):
    """Lengths below 126 fit the first byte; then 16 bits; then 64 bits."""
    payload = b"x" * length
    assert text_frame(payload) == header + payload
