"""The host's powers across a cluster: given on node A, they hold on node B at once.

Real `run.py --redis` nodes (tests/cluster_nodes.py), a real redis-server, real
sockets. Every test client connects from 127.0.0.1 unless it binds another
loopback address (`source`): a kick or a ban bars an address, so the person
acted on comes from 127.0.0.2 and a witness from 127.0.0.3.
"""

import json

import pytest
from cluster_nodes import join, start_node, wait_for_log  # noqa: F401 (a fixture)
from conftest import next_event, send
from redis_server import RedisServer
from tornado.httpclient import HTTPClientError

KEY = "k" * 32


async def become_host(ws, nick: str, key: str = KEY) -> dict:
    """Present the key; return the `hosts` event that names `nick`."""
    await send(ws, {"type": "host", "key": key})
    while nick not in (event := await next_event(ws, "hosts"))["hosts"]:
        pass
    return event


async def message(ws, text: str) -> dict:
    """Read until the message with this text arrives."""
    while (event := await next_event(ws, "message"))["text"] != text:
        pass
    return event


async def closed(ws) -> int:
    """Read until the server closes the socket; return its close code."""
    while await ws.read_message() is not None:
        pass
    return ws.close_code


@pytest.mark.gen_test(timeout=60)
async def test_a_mute_a_lock_and_slow_mode_given_on_one_node_refuse_posts_on_another(start_node):
    """Once bob's page on B hears the mute, the lock, the slow mode given on A, B refuses his
    posts: the node reads the room's fields before it shows the page the entry."""
    a, b = start_node("--host-key", KEY), start_node()
    teacher, _ = await join(a, nick="teacher", session="s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await join(b, nick="bob", session="s-bob")
    await send(teacher, {"type": "mute", "nick": "bob", "seconds": 300})
    mute = await next_event(bob, "mute")
    await send(bob, {"type": "message", "text": "let me talk", "ref": "r-1"})
    refusal = await next_event(bob, "error")
    assert (refusal["code"], refusal["until"], refusal["ref"]) == ("muted", mute["until"], "r-1")
    # The teacher unmutes once A has shown the mute, as a person would: until A has read
    # the fields back, A answers `bad_target` (bob is not muted, as far as A knows yet).
    await next_event(teacher, "mute")
    await send(teacher, {"type": "unmute", "nick": "bob"})
    await send(teacher, {"type": "lock"})
    await next_event(bob, "lock")
    await send(bob, {"type": "message", "text": "can I?"})
    assert (await next_event(bob, "error"))["code"] == "locked"
    await send(teacher, {"type": "unlock"})
    await send(teacher, {"type": "slow", "seconds": 60})
    assert (await next_event(bob, "slow"))["seconds"] == 60
    _, welcome = await join(b, nick="carol")
    assert (welcome["locked"], welcome["slow"], welcome["muted"]) == (False, 60, {})
    await send(bob, {"type": "message", "text": "first"})
    await message(teacher, "first")
    await send(bob, {"type": "message", "text": "second"})
    refusal = await next_event(bob, "error")
    assert refusal["code"] == "slow_mode" and 59 < refusal["retry_after"] <= 60


@pytest.mark.gen_test(timeout=60)
async def test_a_kick_on_one_node_closes_the_socket_on_another_and_bars_both(start_node):
    """Kicked on A, bob's socket on B closes with 4000; his address and his page are refused
    at the handshake on both nodes, while the others carry on."""
    a, b = start_node("--host-key", KEY), start_node()
    teacher, _ = await join(a, nick="teacher", session="s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await join(b, "127.0.0.2", nick="bob", session="s-bob")
    carol, _ = await join(b, "127.0.0.3", nick="carol", session="s-carol")
    await send(teacher, {"type": "kick", "nick": "bob"})
    assert (await next_event(carol, "kick"))["nick"] == "bob"
    assert await closed(bob) == 4000 and "5 minutes" in bob.close_reason
    for node in (a, b):
        for source, session in (("127.0.0.2", "s-new"), ("127.0.0.3", "s-bob")):
            with pytest.raises(HTTPClientError) as refused:
                await join(node, source, nick="bob", session=session)
            assert refused.value.code == 403 and "removed from this room" in refused.value.message
    await join(a, "127.0.0.2", nick="bob", session="s-bob", room="maths")  # another room: open
    await send(carol, {"type": "message", "text": "still here"})
    await message(teacher, "still here")


@pytest.mark.gen_test(timeout=60)
async def test_a_ban_on_one_node_closes_every_room_on_every_node_until_unbanned(start_node):
    """Banned on A, bob's sockets on B close with 4003 in every room; every node refuses him
    until a host unbans him."""
    a, b = start_node("--host-key", KEY), start_node()
    teacher, _ = await join(a, nick="teacher", session="s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await join(b, "127.0.0.2", nick="bob", session="s-bob")
    elsewhere, _ = await join(b, "127.0.0.2", nick="bobby", session="s-bob", room="maths")
    await send(teacher, {"type": "ban", "nick": "bob"})
    assert [await closed(ws) for ws in (bob, elsewhere)] == [4003, 4003]
    await next_event(teacher, "ban")  # A has read the bans it shows: unban finds them
    for node in (a, b):
        with pytest.raises(HTTPClientError) as refused:
            await join(node, "127.0.0.2", nick="bob", session="s-other", room="art")
        assert refused.value.code == 403 and "banned" in refused.value.message
    await send(teacher, {"type": "unban", "nick": "Bob"})
    await next_event(teacher, "unban")
    await join(b, "127.0.0.2", nick="bob", session="s-bob")


@pytest.mark.gen_test(timeout=60)
async def test_a_delete_on_one_node_reaches_another_and_leaves_its_welcomes(start_node):
    """A host on A deletes bob's message: bob's page on B hears it, B's newcomers never see
    it, and a page resuming through B from before it is not told it missed anything."""
    a, b = start_node("--host-key", KEY), start_node()
    teacher, _ = await join(a, nick="teacher", session="s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await join(b, nick="bob", session="s-bob")
    await send(bob, {"type": "message", "text": "rude"})
    rude = await message(teacher, "rude")
    await send(bob, {"type": "message", "text": "oops"})
    oops = await message(teacher, "oops")
    await send(teacher, {"type": "delete", "target": rude["id"]})
    assert (await next_event(bob, "delete"))["target"] == rude["id"]
    assert (await next_event(teacher, "delete"))["target"] == rude["id"]
    await send(bob, {"type": "delete", "target": oops["id"]})  # his own, through B
    assert (await next_event(teacher, "delete"))["target"] == oops["id"]
    _, fresh = await join(b, nick="carol")
    assert [entry["type"] for entry in fresh["history"]] == ["delete", "delete"]
    _, resumed = await join(b, nick="dave", since=str(rude["id"] - 1))
    assert [entry["type"] for entry in resumed["history"]] == ["delete", "delete"]
    assert "truncated" not in resumed


@pytest.mark.gen_test(timeout=60)
async def test_the_key_settled_by_one_node_works_on_another_until_a_node_renews_it(
    start_node, redis_server
):
    """A node started with --host-key stores it; a node started after takes it; a node started
    with --new-host-key revokes it on every node at once."""
    a = start_node("--host-key", KEY)
    b = start_node()
    bob, _ = await join(b, nick="bob", session="s-bob")
    assert (await become_host(bob, "bob"))["hosts"] == ["bob"]
    start_node("--new-host-key")
    with redis_server.client() as admin:
        renewed = json.loads(admin.hget("chat:state", "host_key"))
    assert renewed != KEY
    for node in (a, b):
        cy, _ = await join(node, nick=f"cy{node.port}")
        await send(cy, {"type": "host", "key": KEY})
        assert (await next_event(cy, "error"))["code"] == "forbidden"
        await become_host(cy, f"cy{node.port}", renewed)


@pytest.mark.gen_test(timeout=90)
async def test_the_host_and_the_rules_survive_a_node_restart(start_node):
    """Every node stopped and started again on the same Redis: the key, the made host, the
    lock, the topic, the mute and the ban hold as before."""
    a = start_node("--host-key", KEY)
    teacher, _ = await join(a, nick="teacher", session="s-teacher")
    await become_host(teacher, "teacher")
    bob, _ = await join(a, nick="bob", session="s-bob")
    await join(a, nick="dave", session="s-dave")
    await join(a, "127.0.0.2", nick="mallory", session="s-mallory")
    await send(teacher, {"type": "op", "nick": "bob"})
    for frame in ({"type": "lock"}, {"type": "topic", "topic": "Week 2"},
                  {"type": "mute", "nick": "dave", "seconds": 600},
                  {"type": "ban", "nick": "mallory", "ref": "last"}):
        await send(teacher, frame)
    await next_event(teacher, "ack")
    a.stop()
    a.start()  # the same port, the same Redis, no --host-key
    carol, welcome = await join(a, nick="carol", session="s-carol")
    assert (welcome["locked"], welcome["topic"], list(welcome["muted"])) == (True, "Week 2",
                                                                            ["dave"])
    await send(carol, {"type": "message", "text": "locked?"})
    assert (await next_event(carol, "error"))["code"] == "locked"
    with pytest.raises(HTTPClientError) as refused:
        await join(a, "127.0.0.2", nick="mallory", session="s-new")
    assert refused.value.code == 403 and "banned" in refused.value.message
    bob, welcome = await join(a, nick="bob", session="s-bob")
    assert welcome["hosts"] == ["bob"]  # made host: his page still is one
    teacher, _ = await join(a, nick="teacher", session="s-teacher")
    assert (await become_host(teacher, "teacher"))["hosts"] == ["bob", "teacher"]
    await send(teacher, {"type": "message", "text": "hosts may post"})
    assert (await message(carol, "hosts may post"))["host"] is True


@pytest.mark.gen_test(timeout=90)
async def test_what_a_host_did_while_a_node_was_deaf_holds_there_once_it_caught_up(
    tmp_path, start_node
):
    """Redis back, node A not yet subscribed again: the lock and the op given through B
    meanwhile reach A's pages once A catches up, the hosts with them, and A refuses posts."""
    redis = RedisServer(tmp_path / "persistent", persist=True)
    redis.start()
    try:
        a = start_node("--host-key", KEY, "--presence-timeout", "120", redis=redis)
        b = start_node("--presence-timeout", "120", redis=redis)
        teacher, _ = await join(b, nick="teacher", session="s-teacher")
        await become_host(teacher, "teacher")
        ada, _ = await join(a, nick="ada", session="s-ada")
        bob, _ = await join(a, nick="bob", session="s-bob")
        redis.stop()
        await wait_for_log(a, r"The listener stopped .* trying again in 5\.0 s")
        redis.start()  # A now waits up to 5 s before it subscribes again
        for frame in ({"type": "lock"}, {"type": "op", "nick": "bob", "ref": "op"}):
            await send(teacher, frame)
        await next_event(teacher, "ack")
        await wait_for_log(a, "Resubscribed to chat:events and caught up")
        assert (await next_event(ada, "lock"))["by"] == "teacher"
        while (await next_event(ada, "hosts"))["hosts"] != ["teacher", "bob"]:
            pass
        await send(ada, {"type": "message", "text": "locked?"})
        assert (await next_event(ada, "error"))["code"] == "locked"
        await send(bob, {"type": "message", "text": "hosts may"})
        assert (await message(ada, "hosts may"))["host"] is True
    finally:
        redis.stop()


@pytest.mark.gen_test(timeout=60)
async def test_edits_reactions_and_replies_on_one_node_reach_another_and_its_since(start_node):
    """Ada edits her pinned message on A: bob's page on B hears it, B welcomes newcomers with
    the edited pin; bob's reaction and reply through B reach A; B's `since` replays all."""
    a, b = start_node("--host-key", KEY), start_node()
    teacher, _ = await join(a, nick="teacher", session="s-teacher")
    await become_host(teacher, "teacher")
    ada, _ = await join(a, nick="ada", session="s-ada")
    bob, _ = await join(b, nick="bob", session="s-bob")
    await send(ada, {"type": "message", "text": "homework: page 4"})
    homework = await message(bob, "homework: page 4")
    await send(teacher, {"type": "pin", "target": homework["id"]})
    await next_event(bob, "pin")
    await send(ada, {"type": "edit", "target": homework["id"], "text": "homework: page 5"})
    edit = await next_event(bob, "edit")
    assert (edit["target"], edit["nick"], edit["text"]) == (homework["id"], "ada",
                                                            "homework: page 5")
    _, welcome = await join(b, nick="carol")
    assert welcome["pin"] == {**homework, "text": "homework: page 5"}
    await send(bob, {"type": "react", "target": homework["id"], "emoji": "👀", "on": True})
    assert (await next_event(ada, "react"))["nick"] == "bob"
    await send(bob, {"type": "message", "text": "done", "reply": homework["id"]})
    assert (await message(ada, "done"))["reply"] == {"id": homework["id"], "nick": "ada",
                                                     "text": "homework: page 4"}
    await send(bob, {"type": "edit", "target": homework["id"], "text": "mine", "ref": "b-1"})
    assert (await next_event(bob, "error"))["code"] == "forbidden"  # ada's, judged on B too
    _, resumed = await join(b, nick="dave", since=str(homework["id"]))
    assert [entry["type"] for entry in resumed["history"]] == ["pin", "edit", "react", "message"]
    assert resumed["history"][1] == edit
