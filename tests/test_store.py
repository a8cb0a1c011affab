"""The SQLite log on real files: ids survive restarts, re-sent refs, any kind, broken files."""

import sqlite3

import pytest

from chat import protocol
from chat.effects import SERVER, Effects
from chat.refs import MAX_REFS
from chat.store import SQLiteStore, StoreError


def post(store: SQLiteStore, room: str, nick: str, text: str, ts: int, ref: str | None = None):
    """Append a chat message from `nick` to `room`'s log, as the message command does."""
    return store.append(protocol.message(room, nick, text), nick, ts, ref)


def test_a_restart_keeps_the_history_and_ids_go_on(tmp_path):
    """Reopening the file finds every message, and the next id follows the last one."""
    path = tmp_path / "chat.db"
    store = SQLiteStore(path)
    for number in range(3):
        post(store, "general", "ada", f"m{number}", 1000 + number)
    store.close()
    reopened = SQLiteStore(path)
    assert [m["text"] for m in reopened.recent("general", 10)] == ["m0", "m1", "m2"]
    message, _, _ = post(reopened, "general", "ada", "after", 2000)
    assert message["id"] == 4


def test_memory_store_keeps_nothing():
    """`:memory:` starts empty every time."""
    post(SQLiteStore(":memory:"), "general", "ada", "gone", 1)
    assert SQLiteStore(":memory:").recent("general", 10) == []


def test_messages_are_readable_before_the_writer_commits_them(tmp_path):
    """recent() and since() include appended messages at once, each exactly once."""
    store = SQLiteStore(tmp_path / "chat.db")
    futures = [post(store, "general", "ada", f"m{n}", n, ref=f"r{n}")[1] for n in range(200)]
    assert [m["id"] for m in store.recent("general", 300)] == list(range(1, 201))
    assert [m["id"] for m in store.since("general", 150, 300)[0]] == list(range(151, 201))
    assert [future.result(timeout=10) for future in futures] == list(range(1, 201))
    assert [m["id"] for m in store.recent("general", 300)] == list(range(1, 201))
    store.close()


def test_only_an_entry_with_a_ref_has_a_future_of_its_id(tmp_path):
    """Nobody waits for an entry sent with no ref: it gets no future, and is stored all the same."""
    path = tmp_path / "chat.db"
    store = SQLiteStore(path)
    plain, no_future, _ = post(store, "general", "ada", "no ref", 1)
    _, future, _ = post(store, "general", "ada", "with a ref", 2, ref="r-1")
    assert no_future is None
    assert future.result(timeout=10) == 2  # committed in order: the first is in the file too
    store.close()
    assert SQLiteStore(path).recent("general", 10)[0] == plain


def test_close_stores_everything_appended(tmp_path):
    """Closing waits for the writer: every appended message is in the file afterwards."""
    path = tmp_path / "chat.db"
    store = SQLiteStore(path)
    for number in range(500):
        post(store, "general", "ada", f"m{number}", number)
    store.close()
    assert len(SQLiteStore(path).recent("general", 1000)) == 500


def test_a_ref_is_recognised_after_a_restart(tmp_path):
    """A ref stored before a restart still deduplicates a re-send after it."""
    path = tmp_path / "chat.db"
    store = SQLiteStore(path)
    first, _, _ = post(store, "general", "ada", "hi", 1000, ref="c-1")
    store.close()
    again, stored, new = post(SQLiteStore(path), "general", "ada", "hi", 2000, ref="c-1")
    assert (again, stored.result(), new) == (None, first["id"], False)


def test_rooms_count_their_own_ids(tmp_path):
    """Each room's ids start at 1 and its history holds only its messages."""
    store = SQLiteStore(tmp_path / "chat.db")
    post(store, "general", "ada", "g", 1)
    message, _, _ = post(store, "maths", "ada", "m", 2)
    assert message["id"] == 1
    assert [m["text"] for m in store.recent("maths", 10)] == ["m"]


def test_a_ref_is_the_same_message_only_within_ten_minutes(tmp_path):
    """A ref re-sent within 10 minutes is deduplicated; after that it is a new message."""
    store = SQLiteStore(tmp_path / "chat.db")
    first, _, _ = post(store, "general", "ada", "hi", 0, ref="c-1")
    _, _, new = post(store, "general", "ada", "hi", 10 * 60 * 1000, ref="c-1")
    assert not new
    late, _, new = post(store, "general", "ada", "hi", 10 * 60 * 1000 + 1, ref="c-1")
    assert new and late["id"] == first["id"] + 1


def test_a_corrupt_file_is_one_clear_error_naming_it(tmp_path):
    """A file that is not an SQLite database fails with its name in the message."""
    path = tmp_path / "chat.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=str(path)):
        SQLiteStore(path)


def test_a_directory_in_place_of_the_file_is_one_clear_error_naming_it(tmp_path):
    """A database path that is a folder fails with its name in the message."""
    with pytest.raises(StoreError, match=str(tmp_path)):
        SQLiteStore(tmp_path)


def test_a_missing_directory_is_one_clear_error_naming_it(tmp_path):
    """A database path in a folder that does not exist fails with its name."""
    path = tmp_path / "missing" / "chat.db"
    with pytest.raises(StoreError, match=str(path)):
        SQLiteStore(path)


def test_the_ref_table_is_bounded_and_keeps_no_text(tmp_path):
    """Past MAX_REFS the oldest refs go; what stays is the id, not the message."""
    store = SQLiteStore(tmp_path / "chat.db")
    for number in range(MAX_REFS + 5):
        post(store, "general", "ada", "x" * 1000, number, ref=f"c-{number}")
    store.close()  # every row is committed: each ref's future became its id
    assert len(store.refs.first) == MAX_REFS
    assert all(isinstance(first, int) for first in store.refs.first.values())
    assert ("general", "ada", "c-0") not in store.refs.first


def test_the_history_is_capped_per_room_oldest_first(tmp_path):
    """With a cap, each room keeps its newest `cap` messages; a since before them says truncated."""
    path = tmp_path / "chat.db"
    store = SQLiteStore(path, cap=100)
    for number in range(250):
        post(store, "general", "ada", f"m{number}", number)
    post(store, "maths", "ada", "kept", 1)
    store.close()
    store = SQLiteStore(path, cap=100)
    assert [m["text"] for m in store.recent("general", 1000)] == [f"m{n}" for n in range(150, 250)]
    assert [m["text"] for m in store.recent("maths", 10)] == ["kept"]
    history, truncated = store.since("general", 120, 1000)
    assert truncated and history[0]["text"] == "m150"
    assert store.since("general", 150, 1000)[1] is False  # m149 (id 150) was its last


def test_any_kind_of_entry_is_stored_replayed_and_deduplicated(tmp_path):
    """The log keeps entries of a kind it has never heard of, in one id order with messages."""
    path = tmp_path / "chat.db"
    store = SQLiteStore(path)
    post(store, "general", "ada", "hello", 1)
    topic = {"type": "topic", "room": "general", "nick": "ada", "topic": "Sockets"}
    stamped, _, _ = store.append(topic, "ada", 2, ref="t-1")
    post(store, "general", "bob", "hi", 3)
    store.close()
    reopened = SQLiteStore(path)
    assert stamped == {**topic, "id": 2, "ts": 2}
    assert reopened.since("general", 1, 10)[0] == [
        stamped, protocol.stamped(protocol.message("general", "bob", "hi"), 3, 3)]
    again, first, new = reopened.append(topic, "ada", 4, ref="t-1")
    assert (again, first.result(), new) == (None, 2, False)


def test_a_database_from_before_the_log_keeps_its_messages_and_refs(tmp_path):
    """A file with the old messages table is upgraded: same history, same ids, refs remembered."""
    path = tmp_path / "chat.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE messages (room TEXT NOT NULL, id INTEGER NOT NULL, nick TEXT NOT "
                "NULL, text TEXT NOT NULL, ts INTEGER NOT NULL, ref TEXT, PRIMARY KEY (room, id))")
    old.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)", [
        ("general", 1, "ada", 'caf\u00e9 "quoted" 🙂', 1000, "c-1"),
        ("general", 2, "bob", "two", 2000, None),
    ])
    old.commit()
    old.close()
    store = SQLiteStore(path)
    assert store.recent("general", 10) == [
        protocol.stamped(protocol.message("general", "ada", 'caf\u00e9 "quoted" 🙂'), 1, 1000),
        protocol.stamped(protocol.message("general", "bob", "two"), 2, 2000),
    ]
    again, first, _ = post(store, "general", "ada", "anything", 3000, ref="c-1")
    assert (again, first.result()) == (None, 1)
    assert post(store, "general", "ada", "three", 3000)[0]["id"] == 3


def test_an_entrys_effects_are_read_at_once_and_kept_across_a_restart(tmp_path):
    """Fields set and removed with an entry are seen before the writer commits, and after."""
    path = tmp_path / "chat.db"
    store = SQLiteStore(path)
    store.append({"type": "lock", "room": "general", "by": "ada"}, "ada", 1,
                 effects=Effects(room={"locked": True, "topic": "old"}, server={"ban:x": 5}))
    store.append({"type": "topic", "room": "general", "by": "ada"}, "ada", 2,
                 effects=Effects(room={"topic": None}))
    assert store.fields("general") == {"locked": True}
    assert store.fields(SERVER) == {"ban:x": 5}
    store.close()
    reopened = SQLiteStore(path)
    assert reopened.fields("general") == {"locked": True}
    assert reopened.fields(SERVER) == {"ban:x": 5}
    assert reopened.fields("maths") == {}


def test_erased_entries_leave_the_history_at_once_and_for_good(tmp_path):
    """A deletion hides its entry from recent and since before the writer runs, and after."""
    path = tmp_path / "chat.db"
    store = SQLiteStore(path)
    for number in range(1, 6):
        post(store, "general", "ada", f"m{number}", number)
    store.close()
    store = SQLiteStore(path)  # ids 1-5 are in the file now
    post(store, "general", "ada", "m6", 6)  # and id 6 is queued
    store.append({"type": "delete", "room": "general", "target": 2}, "ada", 7,
                 effects=Effects(erase=(2, 6)))
    texts = [entry.get("text", entry["type"]) for entry in store.recent("general", 10)]
    assert texts == ["m1", "m3", "m4", "m5", "delete"]
    store.close()
    store = SQLiteStore(path)
    assert [entry["id"] for entry in store.since("general", 1, 10)[0]] == [3, 4, 5, 7]


def test_a_clear_erases_everything_before_it_and_a_since_across_it_is_not_truncated(tmp_path):
    """After a clear the log starts at the clear entry; resuming from before it misses nothing."""
    path = tmp_path / "chat.db"
    store = SQLiteStore(path, cap=100)
    for number in range(1, 4):
        post(store, "general", "ada", f"m{number}", number)
    store.append({"type": "clear", "room": "general", "by": "ada"}, "ada", 4,
                 effects=Effects(erase_all=True))
    post(store, "general", "ada", "after", 5)
    assert [entry["id"] for entry in store.recent("general", 10)] == [4, 5]
    store.close()
    store = SQLiteStore(path, cap=100)
    history, truncated = store.since("general", 1, 10)
    assert [entry["id"] for entry in history] == [4, 5] and not truncated
