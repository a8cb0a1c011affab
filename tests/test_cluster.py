"""A cluster of real `python run.py --redis` nodes and a real redis-server, driven by real sockets.

The class-level waiter set lives in one process, so every node here is a
subprocess on its own free port; a client on node A and one on node B only
meet through Redis.
"""

import asyncio
import re
import signal

import pytest
from cluster_nodes import join, messages, next_event_of, start_node  # noqa: F401 (a fixture)
from conftest import next_event, send
from redis_server import RedisServer


@pytest.mark.gen_test(timeout=30)
async def test_messages_cross_nodes_in_one_order_with_consecutive_ids(start_node):
    """Posts on two nodes at once reach both clients, in the same order, ids 1, 2, 3..."""
    a, b = start_node(), start_node()
    ada, _ = await join(a, nick="ada")
    bob, _ = await join(b, nick="bob")
    for number in range(10):  # both write before either reads: the posts interleave
        await send(ada, {"type": "message", "text": f"ada {number}"})
        await send(bob, {"type": "message", "text": f"bob {number}"})
    seen_by_ada, seen_by_bob = await messages(ada, 20), await messages(bob, 20)
    assert seen_by_ada == seen_by_bob
    assert [message_id for message_id, _ in seen_by_ada] == list(range(1, 21))
    assert sorted(text for _, text in seen_by_ada) == sorted(
        [f"ada {n}" for n in range(10)] + [f"bob {n}" for n in range(10)]
    )


@pytest.mark.gen_test(timeout=30)
async def test_presence_and_nicknames_span_the_cluster(start_node):
    """B's welcome lists A's people; joins and leaves cross nodes; A's nicknames are taken on B."""
    a, b = start_node(), start_node()
    ada, _ = await join(a, nick="ada")
    bob, welcome = await join(b, nick="bob")
    assert welcome["online"] == ["ada", "bob"]
    assert (await next_event(ada, "join"))["nick"] == "ada"  # her own, then bob's
    assert await next_event(ada, "join") == {"type": "join", "nick": "bob", "online": 2}
    other, welcome = await join(b, nick="ADA")
    assert welcome["nick"] == "ADA-2"
    await send(bob, {"type": "nick", "nick": "Ada"})
    refused = await next_event(bob, "error")
    assert refused["code"] == "nick_taken"
    other.close()
    assert await next_event(ada, "leave") == {"type": "leave", "nick": "ADA-2", "online": 2}


@pytest.mark.gen_test(timeout=30)
async def test_a_client_resumes_on_another_node_with_exactly_what_it_missed(start_node):
    """Seen up to id 2 on A, back through B with since=2: the welcome holds 3 and 4, no more."""
    a, b = start_node(), start_node()
    ada, _ = await join(a, nick="ada")
    cy, _ = await join(a, nick="cy")
    for text in ("one", "two"):
        await send(cy, {"type": "message", "text": text})
    assert await messages(ada, 2) == [(1, "one"), (2, "two")]
    ada.close()
    await next_event(cy, "leave")
    for text in ("three", "four"):
        await send(cy, {"type": "message", "text": text, "ref": text})
        await next_event(cy, "ack")
    ada, welcome = await join(b, nick="ada", since="2")
    assert [(m["id"], m["text"]) for m in welcome["history"]] == [(3, "three"), (4, "four")]
    await send(cy, {"type": "message", "text": "five"})
    assert await messages(ada, 1) == [(5, "five")]  # and the live stream carries on after it


@pytest.mark.gen_test(timeout=30)
async def test_a_resent_ref_is_stored_once_whichever_node_it_reaches(start_node):
    """The same (nick, ref) re-sent through another node is acknowledged with the first id."""
    a, b = start_node(), start_node()
    ada, _ = await join(a, nick="ada", session="s1")
    await send(ada, {"type": "message", "text": "hello", "ref": "r1"})
    first = await next_event(ada, "ack")
    ada.close()
    ada, welcome = await join(b, nick="ada", session="s1")
    assert welcome["nick"] == "ada"
    await send(ada, {"type": "message", "text": "hello", "ref": "r1"})
    assert (await next_event(ada, "ack"))["id"] == first["id"]
    await send(ada, {"type": "message", "text": "new", "ref": "r2"})
    assert await messages(ada, 1) == [(first["id"] + 1, "new")]  # "hello" was not broadcast again


@pytest.mark.gen_test(timeout=30)
async def test_a_page_back_through_another_node_takes_over_its_old_connection(start_node):
    """Same session through B while A still holds the old socket: A closes it with 4001, the
    nickname stays, and nobody sees a leave or a join."""
    a, b = start_node(), start_node()
    watcher, _ = await join(a, nick="watcher")
    old, _ = await join(a, nick="ada", session="s1")
    new, welcome = await join(b, nick="ada", session="s1")
    assert welcome["nick"] == "ada"
    while await old.read_message() is not None:
        pass
    assert old.close_code == 4001
    old.close()  # let the client object go too
    await send(new, {"type": "message", "text": "still me"})
    seen = []
    while not seen or seen[-1]["type"] != "message":
        seen.append(await next_event_of(watcher, ("join", "leave", "message")))
    assert [(e["type"], e.get("nick")) for e in seen] == [
        ("join", "watcher"), ("join", "ada"), ("message", "ada")]


@pytest.mark.gen_test(timeout=40)
async def test_the_people_of_a_dead_node_leave_within_the_presence_timeout(start_node):
    """A node killed outright (no goodbye) loses its people: the others see them leave."""
    a = start_node("--presence-timeout", "1.5")
    doomed = start_node("--presence-timeout", "1.5")
    ada, _ = await join(a, nick="ada")
    zed, _ = await join(doomed, nick="zed")
    await next_event(ada, "join")  # her own
    await next_event(ada, "join")  # zed's
    doomed.process.send_signal(signal.SIGKILL)
    assert await next_event(ada, "leave") == {"type": "leave", "nick": "zed", "online": 1}
    zed.close()
    _, welcome = await join(a, nick="zed")
    assert welcome["nick"] == "zed"  # the nickname is free again


@pytest.mark.gen_test(timeout=60)
async def test_redis_lost_and_back_unavailable_then_everything_resumes(tmp_path, start_node):
    """Redis stopped: posts get `unavailable`, sockets stay open; restarted: acked messages are all
    there, new posts are acked and delivered across nodes again."""
    redis = RedisServer(tmp_path / "persistent", persist=True)
    redis.start()
    try:
        a, b = start_node(redis=redis), start_node(redis=redis)
        ada, _ = await join(a, nick="ada")
        bob, _ = await join(b, nick="bob")
        await send(ada, {"type": "message", "text": "before", "ref": "r1"})
        assert (await next_event(ada, "ack"))["id"] == 1
        assert await messages(bob, 1) == [(1, "before")]

        redis.stop()
        await send(ada, {"type": "message", "text": "during", "ref": "r2"})
        refused = await next_event(ada, "error")
        assert (refused["code"], refused["ref"]) == ("unavailable", "r2")

        redis.start()  # same port, same append-only file
        await send(ada, {"type": "message", "text": "during", "ref": "r2"})
        assert (await next_event(ada, "ack"))["id"] == 2
        assert await messages(bob, 1) == [(2, "during")]  # B caught up once resubscribed
        _, welcome = await join(b, nick="cy", since="0")
        assert [m["text"] for m in welcome["history"]] == ["before", "during"]
    finally:
        redis.stop()


@pytest.mark.gen_test(timeout=60)
async def test_two_worker_processes_on_one_port_deliver_to_each_other(start_node, tmp_path):
    """`--processes 2`: clients accepted by different workers see each other's messages, and
    SIGTERM to the parent says goodbye (1001) through every worker."""
    node = start_node("--processes", "2")
    clients, workers = [], set()
    while len(workers) < 2:  # connect until the log shows both workers accepting
        assert len(clients) < 60, "every connection went to the same worker"
        ws, welcome = await join(node, nick=f"user{len(clients)}")
        clients.append(ws)
        joined = re.findall(rf"INFO (\d+) chat.handlers: {welcome['nick']} joined",
                            node.log_path.read_text())
        workers.update(joined)
    for number, ws in enumerate(clients):
        await send(ws, {"type": "message", "text": f"from {number}"})
    orders = await asyncio.gather(*(messages(ws, len(clients)) for ws in clients))
    assert all(order == orders[0] for order in orders)
    assert sorted(text for _, text in orders[0]) == sorted(
        f"from {number}" for number in range(len(clients)))
    assert node.stop() == 0  # SIGTERM to the parent reaches the workers; all exit cleanly
    for ws in clients:
        assert await ws.read_message() is None and ws.close_code == 1001
        ws.close()  # let the client object go too


@pytest.mark.gen_test(timeout=60)
async def test_someone_who_leaves_while_redis_is_away_is_let_go_once_it_is_back(
    tmp_path, start_node
):
    """A leave Redis could not hear is run again once it is back: the nickname does not linger."""
    redis = RedisServer(tmp_path / "persistent", persist=True)
    redis.start()
    try:
        node = start_node(redis=redis)
        ada, _ = await join(node, nick="ada")
        bob, _ = await join(node, nick="bob")
        await next_event(ada, "join")  # her own
        await next_event(ada, "join")  # bob's
        redis.stop()
        bob.close()
        redis.start()
        assert await next_event(ada, "leave") == {"type": "leave", "nick": "bob", "online": 1}
        _, welcome = await join(node, nick="bob")
        assert welcome["nick"] == "bob"
    finally:
        redis.stop()


@pytest.mark.gen_test(timeout=60)
async def test_a_crowd_joining_at_once_is_let_in_whole(start_node):
    """300 people connecting at the same moment all get a welcome: joins wait for a Redis
    connection instead of being refused when the node's pool is busy."""
    node = start_node("--max-per-ip", "0")
    crowd = await asyncio.gather(*(join(node, nick=f"p{number}") for number in range(300)))
    assert sorted(welcome["nick"] for _, welcome in crowd) == sorted(
        f"p{number}" for number in range(300))
    first, _ = crowd[0]
    await send(first, {"type": "message", "text": "hello, all"})
    for ws, _ in crowd:
        assert await messages(ws, 1) == [(1, "hello, all")]


@pytest.mark.gen_test(timeout=60)
async def test_a_redis_that_comes_back_empty_sends_everyone_to_start_afresh(
    redis_server, start_node
):
    """Redis restarted without its data: the node closes its sockets with 1012, and a page
    that resumes with `since` is told `reset` (ids count from 1 again)."""
    node = start_node()
    ada, _ = await join(node, nick="ada")
    for text in ("one", "two"):
        await send(ada, {"type": "message", "text": text, "ref": text})
        await next_event(ada, "ack")
    redis_server.stop()
    redis_server.start()  # same port, no persistence: empty
    while await ada.read_message() is not None:
        pass
    assert ada.close_code == 1012
    ada.close()  # let the client object go too
    ada, welcome = await join(node, nick="ada", since="2")
    assert welcome["reset"] is True and welcome["history"] == []
    await send(ada, {"type": "message", "text": "afresh"})
    assert await messages(ada, 1) == [(1, "afresh")]
