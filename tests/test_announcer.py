"""RoomsAnnouncer: the busy rooms, at most one `rooms` event an interval, only when changed."""

from chat.announcer import RoomsAnnouncer


class Timer:
    """One pending call, cancellable like an asyncio handle."""

    def __init__(self, callback) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    """A stand-in for loop.call_later that the test fires by hand."""

    def __init__(self) -> None:
        self.pending: list[Timer] = []

    def call_later(self, delay: float, callback) -> Timer:
        timer = Timer(callback)
        self.pending.append(timer)
        return timer

    def fire(self) -> None:
        """Run the timers due, as the interval ending would."""
        due, self.pending = self.pending, []
        for timer in due:
            if not timer.cancelled:
                timer.callback()


def test_the_first_change_goes_out_at_once_and_the_rest_wait_for_the_interval():
    """A change is sent at once; further changes within the interval become one event."""
    sent, timers = [], Timers()
    announcer = RoomsAnnouncer(sent.append, call_later=timers.call_later)
    announcer.update(["general"])
    announcer.update(["general", "x"])
    announcer.update(["general", "y"])
    assert [event["rooms"] for event in sent] == [["general"]]
    timers.fire()
    assert [event["rooms"] for event in sent] == [["general"], ["general", "y"]]


def test_a_room_that_came_and_went_within_the_interval_is_never_announced():
    """Opened and emptied before the interval ends: nobody hears of it."""
    sent, timers = [], Timers()
    announcer = RoomsAnnouncer(sent.append, call_later=timers.call_later)
    announcer.update(["general"])
    for _ in range(50):
        announcer.update(["flood", "general"])
        announcer.update(["general"])
    timers.fire()
    timers.fire()
    assert [event["rooms"] for event in sent] == [["general"]]


def test_stop_cancels_the_pending_announcement():
    """After stop, the change waiting for the interval is not sent."""
    sent, timers = [], Timers()
    announcer = RoomsAnnouncer(sent.append, call_later=timers.call_later)
    announcer.update(["general"])
    announcer.update(["general", "x"])
    announcer.stop()
    timers.fire()
    assert len(sent) == 1
