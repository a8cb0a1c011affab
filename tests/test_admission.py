"""Who gets in (chat.admission): the counts per address and in all, the caps, the raw answers."""

from chat.admission import Gate, Refusal, connection_cap


def test_past_an_address_cap_429_past_the_total_cap_503_and_leaving_frees_a_place():
    """An address at its cap gets 429 and others still get in; at the total cap, 503."""
    gate = Gate(address_cap=2, total_cap=3)
    assert [gate.admit("10.0.0.1") for _ in range(3)] == [None, None, gate.too_many]
    assert gate.too_many.status == 429
    assert gate.admit("10.0.0.2") is None
    assert gate.admit("10.0.0.3") is gate.full and gate.full.status == 503
    gate.leave("10.0.0.1")
    assert gate.admit("10.0.0.3") is None
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        gate.leave(address)
    assert gate.open == 0 and gate.open_from == {}


def test_a_cap_of_zero_is_no_cap():
    """Caps of 0 let any number in."""
    gate = Gate(address_cap=0, total_cap=0)
    assert all(gate.admit("10.0.0.1") is None for _ in range(10_000))


def test_the_total_cap_keeps_a_reserve_of_descriptors():
    """The derived cap leaves a tenth of the file limit, and at least 32 descriptors, unused."""
    assert connection_cap(1024) == 1024 - 102
    assert connection_cap(96) == 96 - 32
    assert connection_cap(1_048_576) == 1_048_576 - 104_857


def test_a_refusal_is_one_short_complete_http_response():
    """The raw answer has a status line, a Content-Length that fits, and the reason as one line."""
    response = Refusal(429, "Too many connections from your address.").response()
    head, body = response.split(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 429 Too Many Requests"
    assert b"Connection: close" in lines and f"Content-Length: {len(body)}".encode() in lines
    assert body == b"Too many connections from your address.\n"
