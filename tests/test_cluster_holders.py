"""Nicknames across the cluster belong to one connection: its holder.

Each entry in Redis names the connection that holds it; a takeover moves it
to the new connection, and a rename or a leave from any other changes nothing.
Races are made certain with CLIENT PAUSE WRITE, which holds every script in
Redis, in arrival order, until the test lets them run.
"""

import pytest

from cluster_nodes import (  # noqa: F401 (start_node is a fixture)
    blocked_scripts, connect, events_until_message, join, start_node, wait_until, writes_paused,
)
from conftest import client_frame, next_event, raw_websocket, send

LONG = "120"  # a --presence-timeout no test outlasts: no sweep, and a heartbeat every 40 s


@pytest.mark.gen_test(timeout=60)
async def test_a_replaced_connection_cannot_rename_the_new_holder(start_node, redis_server):
    """The old connection's rename, run in Redis just after the same page took its nickname back
    through another node, is refused: the nickname stays with the new connection."""
    a, b = start_node("--presence-timeout", LONG), start_node("--presence-timeout", LONG)
    watcher, _ = await join(b, nick="watcher")
    stale = await raw_websocket(a.port, "/ws?nick=ada&session=s1")
    while (await next_event(watcher, "join"))["nick"] != "ada":
        pass
    with redis_server.client() as admin, writes_paused(admin):
        fresh = await connect(b, nick="ada", session="s1")
        await wait_until("the takeover held in Redis", lambda: blocked_scripts(admin) == 1)
        await stale.write(client_frame(b'{"type": "nick", "nick": "mallory"}'))
        await wait_until("the rename held in Redis", lambda: blocked_scripts(admin) == 2)
    assert (await next_event(fresh, "welcome"))["nick"] == "ada"
    await send(fresh, {"type": "message", "text": "from the new connection"})
    seen = await events_until_message(watcher, "from the new connection")
    assert [event["type"] for event in seen if event["type"] != "rooms"] == ["message"]
    assert seen[-1]["nick"] == "ada"
    _, welcome = await join(b, nick="mallory")
    assert welcome["nick"] == "mallory" and "ada" in welcome["online"]
    stale.close()
