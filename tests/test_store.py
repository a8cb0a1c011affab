"""The SQLite store on real files: ids survive restarts, re-sent refs, broken files."""

import pytest

from chat.store import MAX_REFS, SQLiteStore, StoreError


def test_a_restart_keeps_the_history_and_ids_go_on(tmp_path):
    """Reopening the file finds every message, and the next id follows the last one."""
    path = tmp_path / "chat.db"
    store = SQLiteStore(path)
    for number in range(3):
        store.append("general", "ada", f"m{number}", 1000 + number)
    store.close()
    reopened = SQLiteStore(path)
    assert [m["text"] for m in reopened.recent("general", 10)] == ["m0", "m1", "m2"]
    message, _, _ = reopened.append("general", "ada", "after", 2000)
    assert message["id"] == 4


def test_memory_store_keeps_nothing():
    """`:memory:` starts empty every time."""
    SQLiteStore(":memory:").append("general", "ada", "gone", 1)
    assert SQLiteStore(":memory:").recent("general", 10) == []


def test_messages_are_readable_before_the_writer_commits_them(tmp_path):
    """recent() and since() include appended messages at once, each exactly once."""
    store = SQLiteStore(tmp_path / "chat.db")
    futures = [store.append("general", "ada", f"m{n}", n)[1] for n in range(200)]
    assert [m["id"] for m in store.recent("general", 300)] == list(range(1, 201))
    assert [m["id"] for m in store.since("general", 150, 300)[0]] == list(range(151, 201))
    assert [future.result(timeout=10) for future in futures] == list(range(1, 201))
    assert [m["id"] for m in store.recent("general", 300)] == list(range(1, 201))
    store.close()


def test_close_stores_everything_appended(tmp_path):
    """Closing waits for the writer: every appended message is in the file afterwards."""
    path = tmp_path / "chat.db"
    store = SQLiteStore(path)
    for number in range(500):
        store.append("general", "ada", f"m{number}", number)
    store.close()
    assert len(SQLiteStore(path).recent("general", 1000)) == 500


def test_a_ref_is_recognised_after_a_restart(tmp_path):
    """A ref stored before a restart still deduplicates a re-send after it."""
    path = tmp_path / "chat.db"
    store = SQLiteStore(path)
    first, _, _ = store.append("general", "ada", "hi", 1000, ref="c-1")
    store.close()
    again, stored, new = SQLiteStore(path).append("general", "ada", "hi", 2000, ref="c-1")
    assert (again, stored.result(), new) == (None, first["id"], False)


def test_rooms_count_their_own_ids(tmp_path):
    """Each room's ids start at 1 and its history holds only its messages."""
    store = SQLiteStore(tmp_path / "chat.db")
    store.append("general", "ada", "g", 1)
    message, _, _ = store.append("maths", "ada", "m", 2)
    assert message["id"] == 1
    assert [m["text"] for m in store.recent("maths", 10)] == ["m"]


def test_a_ref_is_the_same_message_only_within_ten_minutes(tmp_path):
    """A ref re-sent within 10 minutes is deduplicated; after that it is a new message."""
    store = SQLiteStore(tmp_path / "chat.db")
    first, _, _ = store.append("general", "ada", "hi", 0, ref="c-1")
    _, _, new = store.append("general", "ada", "hi", 10 * 60 * 1000, ref="c-1")
    assert not new
    late, _, new = store.append("general", "ada", "hi", 10 * 60 * 1000 + 1, ref="c-1")
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
        store.append("general", "ada", "x" * 1000, number, ref=f"c-{number}")
    store.close()  # every row is committed: each ref's future became its id
    assert len(store._refs) == MAX_REFS
    assert all(isinstance(first, int) for first in store._refs.values())
    assert ("general", "ada", "c-0") not in store._refs


def test_the_history_is_capped_per_room_oldest_first(tmp_path):
    """With a cap, each room keeps its newest `cap` messages; a since before them says truncated."""
    path = tmp_path / "chat.db"
    store = SQLiteStore(path, cap=100)
    for number in range(250):
        store.append("general", "ada", f"m{number}", number)
    store.append("maths", "ada", "kept", 1)
    store.close()
    store = SQLiteStore(path, cap=100)
    assert [m["text"] for m in store.recent("general", 1000)] == [f"m{n}" for n in range(150, 250)]
    assert [m["text"] for m in store.recent("maths", 10)] == ["kept"]
    history, truncated = store.since("general", 120, 1000)
    assert truncated and history[0]["text"] == "m150"
    assert store.since("general", 150, 1000)[1] is False  # m149 (id 150) was its last
