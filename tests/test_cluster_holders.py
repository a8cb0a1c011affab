"""Nicknames across the cluster belong to one connection: its holder.

Each entry in Redis names the connection that holds it; a takeover moves it
to the new connection, and a rename or a leave from any other changes nothing.
Races are made certain with CLIENT PAUSE WRITE, which holds every script in
Redis, in arrival order, until the test lets them run.
"""

import json

import pytest
from cluster_nodes import (  # noqa: F401 (start_node is a fixture)
    blocked_scripts,
    connect,
    events_until_message,
    join,
    next_event_of,
    start_node,
    wait_for_log,
    wait_until,
    writes_paused,
)
from conftest import client_frame, next_event, raw_websocket, send
from redis_server import RedisServer

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


@pytest.mark.gen_test(timeout=60)
async def test_a_rename_whose_socket_closes_meanwhile_frees_the_new_nickname(
    start_node, redis_server
):
    """A rename held in Redis while its connection drops: once it runs, the new nickname is
    announced and let go, and both nicknames are free."""
    a, b = start_node("--presence-timeout", LONG), start_node("--presence-timeout", LONG)
    watcher, _ = await join(b, nick="watcher")
    ada = await raw_websocket(a.port, "/ws?nick=ada")
    while (await next_event(watcher, "join"))["nick"] != "ada":
        pass
    with redis_server.client() as admin, writes_paused(admin):
        await ada.write(client_frame(b'{"type": "nick", "nick": "bea"}'))
        await wait_until("the rename held in Redis", lambda: blocked_scripts(admin) == 1)
        ada.close()  # gone while the rename waits (Tornado calls on_close once it is done)
    assert await next_event_of(watcher, ("nick", "leave")) == {
        "type": "nick", "old": "ada", "nick": "bea"}
    assert await next_event_of(watcher, ("nick", "leave")) == {
        "type": "leave", "nick": "bea", "online": 1}
    for nick in ("bea", "ada"):
        _, welcome = await join(b, nick=nick)
        assert welcome["nick"] == nick


@pytest.mark.gen_test(timeout=60)
async def test_a_welcome_that_fails_after_the_claim_frees_the_nickname(start_node, redis_server):
    """A history entry that is not JSON (forged by someone with access to Redis) breaks the
    welcome after the nickname was claimed: the claim is let go, not left to a ghost."""
    node = start_node()
    with redis_server.client() as admin:
        admin.set("chat:{general}:next", 1)
        admin.zadd("chat:{general}:history", {"forged, not JSON": 1})
        broken = await connect(node, nick="ada")
        assert await broken.read_message() is None  # the node dropped it: no welcome
        admin.zremrangebyscore("chat:{general}:history", 1, 1)
    _, welcome = await join(node, nick="ada")
    assert (welcome["nick"], welcome["online"]) == ("ada", ["ada"])


@pytest.mark.gen_test(timeout=90)
async def test_a_retried_leave_does_not_free_the_page_that_came_back(tmp_path, start_node):
    """ada's leave is refused while Redis is down; she is back through the same node (same
    session) before that node runs the leave again: the retried leave frees nothing."""
    redis = RedisServer(tmp_path / "persistent", persist=True)
    redis.start()
    try:
        a = start_node("--presence-timeout", LONG, redis=redis)
        b = start_node("--presence-timeout", LONG, redis=redis)
        watcher, _ = await join(b, nick="watcher")
        ada, _ = await join(a, nick="ada", session="s1")
        while (await next_event(watcher, "join"))["nick"] != "ada":
            pass
        redis.stop()
        ada.close()
        await wait_for_log(a, "ada left #general")
        await wait_for_log(a, r"The listener stopped .* trying again in 5\.0 s")
        redis.start()  # A runs the leave again only once resubscribed, up to 5 s from now
        ada, welcome = await join(a, nick="ada", session="s1")
        assert welcome["nick"] == "ada"
        await wait_for_log(a, "Resubscribed to chat:events and caught up")
        await send(ada, {"type": "message", "text": "still here"})
        seen = await events_until_message(watcher, "still here")
        assert ("leave", "ada") not in [(event["type"], event.get("nick")) for event in seen]
        _, welcome = await join(b, nick="ada")
        assert welcome["nick"] == "ada-2" and "ada" in welcome["online"]
    finally:
        redis.stop()


@pytest.mark.gen_test(timeout=60)
async def test_a_room_opened_by_two_people_at_once_is_announced(start_node, redis_server):
    """Two people enter a new room through two nodes in the same instant: everyone is told the
    room is busy (the first claim in the room decides, not a count read later)."""
    a, b = start_node("--presence-timeout", LONG), start_node("--presence-timeout", LONG)
    watcher, _ = await join(a, nick="watcher")
    with redis_server.client() as admin, writes_paused(admin):
        first = await connect(a, nick="x", room="maths")
        second = await connect(b, nick="y", room="maths")
        await wait_until("both entries held in Redis", lambda: blocked_scripts(admin) == 2)
    for ws in (first, second):
        assert (await next_event(ws, "welcome"))["room"] == "maths"
    while "maths" not in (await next_event(watcher, "rooms"))["rooms"]:
        pass
    first.close()
    second.close()
    assert json.loads(await watcher.read_message())["type"] == "rooms"  # and closed again
