"""A cluster that keeps working through what goes wrong: garbage on the channel, a handler that
raises, a Redis that comes back read-only or stalls, a node that stops or vanishes, an outage
that hides presence events.

Real nodes, a real redis-server, real sockets; the faults are made the way they happen (a
PUBLISH by anyone who can reach Redis, a Redis restarted as a replica, DEBUG SLEEP, SIGTERM,
SIGKILL, a Redis stopped).
"""

import asyncio
import json
import signal

import pytest
import redis.exceptions as redis_errors
from cluster_nodes import (  # noqa: F401 (start_node is a fixture)
    events_until_message,
    join,
    messages,
    next_event_of,
    start_node,
    wait_for_log,
    wait_until,
)
from conftest import next_event, raw_websocket, send
from redis_server import RedisServer
from servers import free_port

CHANNEL = "chat:events"
LONG = "120"  # a --presence-timeout no test outlasts: no sweep, and a heartbeat every 40 s


async def two_rooms_mates(start_node, *options: str, on_b: str = "bob"):
    """Start nodes A and B; ada on A and someone on B, ada having seen them join."""
    a, b = start_node(*options), start_node(*options)
    ada, _ = await join(a, nick="ada")
    mate, _ = await join(b, nick=on_b)
    while (await next_event(ada, "join"))["nick"] != on_b:
        pass
    return a, b, ada, mate


@pytest.mark.gen_test(timeout=60)
async def test_garbage_on_the_channel_is_skipped_and_logged_briefly(start_node, redis_server):
    """Payloads no node sent (not UTF-8, not JSON, wrong shape, unknown fields) are skipped with
    one throttled warning that repeats none of them, and posts are still delivered everywhere."""
    a, b, ada, bob = await two_rooms_mates(start_node)
    garbage = [
        b"MARKER not json", b"\xffMARKER\xfe", b"[1, 2, 3]", b'{"room": "general"}',
        b'{"room": "general", "event": {"type": "message", "text": "MARKER"}}',
        b'{"room": "general", "event": {"type": "typing", "nick": "x"}, "MARKER": 1}',
        b'{"room": null, "event": {"type": "join", "nick": "MARKER", "online": 1}}',
        b'{"room": "general", "replaced": "ada"}',
    ]
    with redis_server.client() as admin:
        for data in garbage:
            assert admin.publish(CHANNEL, data) == 2  # both nodes heard it
    await send(ada, {"type": "message", "text": "still delivered"})
    assert await messages(ada, 1) == [(1, "still delivered")]
    assert await messages(bob, 1) == [(1, "still delivered")]
    for node in (a, b):
        log = node.log_path.read_text()
        assert log.count("Skipped a payload on chat:events") == 1, log
        assert "MARKER" not in log and "Traceback" not in log


@pytest.mark.gen_test(timeout=60)
async def test_a_handler_that_raises_is_logged_and_the_node_hears_again(start_node, redis_server):
    """An event that passes every check but breaks the broadcast (a lone surrogate cannot be
    sent as UTF-8) is logged with its traceback; the listener restarts and catches up."""
    a, b, ada, bob = await two_rooms_mates(start_node)
    poison = {"room": "general", "skip": "nobody", "event": {"type": "typing", "nick": "\ud800"}}
    with redis_server.client() as admin:
        admin.publish(CHANNEL, json.dumps(poison))  # json.dumps writes it as \ud800: valid JSON
    await send(ada, {"type": "message", "text": "after the poison"})
    assert await messages(ada, 1) == [(1, "after the poison")]
    assert await messages(bob, 1) == [(1, "after the poison")]
    for node in (a, b):
        await wait_for_log(node, "Resubscribed to chat:events and caught up")
        log = node.log_path.read_text()
        assert "The listener failed; restarting it in 0.1 s" in log
        assert "Traceback" in log and "UnicodeEncodeError" in log


@pytest.mark.gen_test(timeout=90)
async def test_a_redis_that_comes_back_read_only_leaves_no_node_deaf(tmp_path, start_node):
    """Redis restarted as a replica (READONLY, its data loaded) while a leave waits to be run
    again: the node resubscribes, keeps the leave for later, and once Redis takes writes again
    the leave is announced and posts cross both ways."""
    redis = RedisServer(tmp_path / "persistent", persist=True)
    redis.start()
    try:
        a, b, ada, cy = await two_rooms_mates(
            lambda *options: start_node(*options, redis=redis), "--presence-timeout", "20",
            on_b="cy")
        bob, _ = await join(a, nick="bob")
        await next_event_of(cy, ("join",))
        redis.stop()
        bob.close()  # the leave waits in A's list of leaves to run again
        await wait_for_log(a, "bob left #general")
        redis.start("--replicaof", "127.0.0.1", str(free_port()))  # a primary nobody runs
        await wait_for_log(a, "Redis still refuses 1 leaves .*ReadOnlyError")  # the listener's
        await wait_for_log(a, "Resubscribed to chat:events and caught up")
        with redis.client() as admin:
            admin.replicaof("NO", "ONE")
        assert await next_event(ada, "leave") == {"type": "leave", "nick": "bob", "online": 2}
        await send(cy, {"type": "message", "text": "from B"})
        assert await messages(ada, 1) == [(1, "from B")]
        await send(ada, {"type": "message", "text": "from A"})
        assert await messages(cy, 2) == [(1, "from B"), (2, "from A")]
    finally:
        redis.stop()


@pytest.mark.gen_test(timeout=60)
async def test_a_node_that_stops_lets_go_of_clients_that_never_answered(start_node):
    """SIGTERM to node A while a client there ignores the close: B's clients see it leave, and
    its nickname is free."""
    a, b = start_node(), start_node()
    ada, _ = await join(b, nick="ada")
    zed = await raw_websocket(a.port, "/ws?nick=zed")  # writes what it is told, reads nothing
    while (await next_event(ada, "join"))["nick"] != "zed":
        pass
    assert await asyncio.get_running_loop().run_in_executor(None, a.stop) == 0
    assert await next_event(ada, "leave") == {"type": "leave", "nick": "zed", "online": 1}
    _, welcome = await join(b, nick="zed")
    assert welcome["nick"] == "zed"
    zed.close()


@pytest.mark.gen_test(timeout=60)
async def test_the_people_of_a_node_gone_from_the_node_list_are_let_go(start_node, redis_server):
    """A node killed and struck off chat:nodes by hand (as a stop used to, keeping its people):
    the next heartbeat sweep lets its people go anyway."""
    # Beats every 3 s: killed, A has been silent for less than the 9 s that would let
    # its people go anyway by the time it is struck off.
    a, b = start_node("--presence-timeout", "9"), start_node("--presence-timeout", "9")
    ada, _ = await join(b, nick="ada")
    zed, _ = await join(a, nick="zed")
    while (await next_event(ada, "join"))["nick"] != "zed":
        pass
    a.process.send_signal(signal.SIGKILL)
    a.process.wait()
    with redis_server.client() as admin:
        (node,) = [name for name in admin.zrange("chat:nodes", 0, -1)
                   if admin.sismember(f"chat:node:{name}", "general\nzed")]
        admin.zrem("chat:nodes", node)  # now only the set of its people remembers it
    assert await next_event(ada, "leave") == {"type": "leave", "nick": "zed", "online": 1}
    zed.close()


@pytest.mark.gen_test(timeout=90)
async def test_the_online_list_converges_after_an_outage(tmp_path, start_node):
    """Someone who joins while node A is still resubscribing after Redis came back: A never heard
    the join, so it tells its pages once resubscribed; and the leave of someone who went during
    the outage reaches them too."""
    redis = RedisServer(tmp_path / "persistent", persist=True)
    redis.start()
    try:
        a, b, ada, bob = await two_rooms_mates(
            lambda *options: start_node(*options, redis=redis), "--presence-timeout", LONG)
        redis.stop()
        bob.close()  # B cannot tell Redis yet
        await wait_for_log(a, r"The listener stopped .* trying again in 5\.0 s")
        redis.start()  # A now waits up to 5 s before it subscribes again
        cy, _ = await join(b, nick="cy")  # its join is published while A does not listen
        await wait_for_log(a, "Resubscribed to chat:events and caught up")
        await send(cy, {"type": "message", "text": "after the outage"})
        seen = await events_until_message(ada, "after the outage")
        assert ("join", "cy") in [(event["type"], event.get("nick")) for event in seen]
        if not any(event["type"] == "leave" and event["nick"] == "bob" for event in seen):
            assert (await next_event(ada, "leave"))["nick"] == "bob"
        cy.close()
    finally:
        redis.stop()


@pytest.mark.gen_test(timeout=60)
async def test_a_post_held_up_by_a_stalled_redis_is_stored_once(tmp_path, start_node):
    """Redis stalls (DEBUG SLEEP) longer than a node's 5 s read timeout while a post waits: the
    node must not send it again on a fresh connection, or Redis runs it twice once it wakes.
    The sender hears `unavailable`; its re-send with the same ref gets the one id."""
    redis = RedisServer(tmp_path / "stalling")
    redis.start("--enable-debug-command", "local")
    try:
        node = start_node(redis=redis)
        ada, _ = await join(node, nick="ada")
        with redis.client(socket_timeout=30) as admin, redis.client(socket_timeout=0.2) as prober:
            stall = asyncio.get_running_loop().run_in_executor(
                None, admin.execute_command, "DEBUG", "SLEEP", "6")
            await wait_until("Redis asleep", lambda: not answers(prober))
            await send(ada, {"type": "message", "text": "once", "ref": "r1"})
            refused = await next_event_of(ada, ("error", "message", "ack"))
            assert (refused["type"], refused.get("ref")) == ("error", "r1")  # at the timeout
            await stall
            assert await messages(ada, 1) == [(1, "once")]  # Redis ran the first one on waking
            await send(ada, {"type": "message", "text": "once", "ref": "r1"})
            assert (await next_event(ada, "ack"))["id"] == 1
            assert admin.zcard("chat:{general}:history") == 1
    finally:
        redis.stop()


def answers(client) -> bool:
    """Tell whether Redis answers a PING within the client's timeout."""
    try:
        return client.ping()
    except redis_errors.TimeoutError:
        return False
