"""Shutdown and restart of a real `python run.py`: goodbye with 1001, nothing stored is lost."""

import pytest
from conftest import next_event, send
from servers import ChatServer, free_port
from tornado.websocket import websocket_connect


@pytest.fixture
def server(tmp_path):
    """run.py on a free port with chat.db in tmp_path; stopped by PID at the end."""
    chat_server = ChatServer(free_port(), tmp_path / "server.log")
    chat_server.start()
    yield chat_server
    chat_server.stop()


@pytest.mark.gen_test(timeout=30)
async def test_sigterm_says_going_away_and_a_restart_keeps_history_and_ids(server):
    """SIGTERM closes sockets with 1001 and exits 0; after a restart since=0 finds every message."""
    socket_url = f"ws://127.0.0.1:{server.port}/ws?nick=ada"
    ada = await websocket_connect(socket_url)
    await next_event(ada, "welcome")
    for text in ("before one", "before two"):
        await send(ada, {"type": "message", "text": text, "ref": text})
        await next_event(ada, "ack")
    assert server.stop() == 0
    while await ada.read_message() is not None:
        pass
    assert ada.close_code == 1001
    ada.close()  # let the client object go too
    server.start()
    ada = await websocket_connect(socket_url + "&since=0")
    welcome = await next_event(ada, "welcome")
    assert [(m["id"], m["text"]) for m in welcome["history"]] == [
        (1, "before one"), (2, "before two")
    ]
    await send(ada, {"type": "message", "text": "before two", "ref": "before two"})
    assert (await next_event(ada, "ack"))["id"] == 2  # a re-send after the restart is still once
    await send(ada, {"type": "message", "text": "after"})
    assert (await next_event(ada, "message"))["id"] == 3
    ada.close()


def test_a_corrupt_database_is_one_clear_line(tmp_path):
    """A chat.db that is not a database stops run.py with one line naming the file."""
    path = tmp_path / "chat.db"
    path.write_bytes(b"not a database" * 100)
    server = ChatServer(free_port(), tmp_path / "server.log", "--db", str(path))
    with pytest.raises(pytest.fail.Exception):
        server.start()
    log = (tmp_path / "server.log").read_text().strip().splitlines()
    assert len(log) == 1 and str(path) in log[0] and "Traceback" not in log[0]
