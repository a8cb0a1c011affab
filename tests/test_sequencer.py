"""RoomStream: each message delivered once, in id order, and welcomes that meet the stream."""

from chat import protocol
from chat.sequencer import RoomStream


def message(number: int) -> dict:
    """Return message `number` of room #general."""
    return protocol.stamped(protocol.message("general", "ada", f"text {number}"), number,
                            1000 + number)


def ids(messages: list[dict]) -> list[int]:
    """Return the ids of these messages."""
    return [each["id"] for each in messages]


def test_messages_in_order_are_delivered_at_once():
    """Consecutive ids pass straight through; a repeat is dropped."""
    stream = RoomStream()
    assert ids(stream.receive(message(4))) == [4]
    assert ids(stream.receive(message(5))) == [5]
    assert stream.receive(message(5)) == []
    assert stream.gap() is None


def test_a_gap_holds_later_messages_until_it_is_filled():
    """After a missing id, later ones wait; the gap names what to fetch; filling it releases all."""
    stream = RoomStream()
    stream.receive(message(1))
    assert stream.receive(message(4)) == []
    assert stream.gap() == (1, 3)
    assert ids(stream.receive(message(2))) == [2]
    assert ids(stream.receive(message(3))) == [3, 4]
    assert stream.gap() is None


def test_a_gap_the_history_lost_is_skipped():
    """Messages trimmed from the history are given up on, and what follows flows again."""
    stream = RoomStream()
    stream.receive(message(1))
    stream.receive(message(5))
    stream.receive(message(6))
    assert ids(stream.skip_gap()) == [5, 6]
    assert ids(stream.receive(message(7))) == [7]


def test_a_welcome_in_a_new_stream_sets_where_it_starts():
    """The first welcome's read decides the stream's start: older messages are not sent again."""
    stream = RoomStream()
    history = [message(1), message(2)]
    assert stream.complete(history, 2) == history
    assert stream.receive(message(2)) == []
    assert ids(stream.receive(message(3))) == [3]


def test_a_welcome_read_before_delivered_messages_is_completed_from_recent():
    """Messages delivered to the room after the read are added to the welcome."""
    stream = RoomStream()
    for number in (1, 2, 3, 4):
        stream.receive(message(number))
    assert ids(stream.complete([message(1), message(2)], 2)) == [1, 2, 3, 4]


def test_a_welcome_read_ahead_of_the_stream_is_cut_back():
    """Messages the stream has yet to deliver stay out of the welcome: nobody gets them twice."""
    stream = RoomStream()
    stream.receive(message(1))
    assert ids(stream.complete([message(1), message(2), message(3)], 3)) == [1]
    assert ids(stream.receive(message(2))) == [2]


def test_a_welcome_older_than_recent_is_read_again():
    """When `recent` no longer reaches the read, `complete` asks for a new read."""
    stream = RoomStream(recent=2)
    for number in (1, 2, 3, 4, 5):
        stream.receive(message(number))
    assert stream.complete([message(1)], 1) is None
    assert ids(stream.complete([message(3)], 3)) == [3, 4, 5]


def test_reset_starts_counting_again():
    """After the broker lost its history, ids from 1 are new messages again."""
    stream = RoomStream()
    stream.receive(message(7))
    stream.reset(0)
    assert ids(stream.receive(message(1))) == [1]
