"""A Redis on the network: a password, TLS, and no secret in any log line or message.

Real redis-servers started with `--requirepass` and with `--tls-port` (a self-signed
certificate made for the test with the openssl command), real nodes, real sockets.
"""

import subprocess
import sys

import pytest
from cluster_nodes import join, messages, start_node, wait_for_log  # noqa: F401 (a fixture)
from conftest import send
from redis_server import RedisServer
from servers import ROOT, free_port

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def guarded_redis(tmp_path):
    """A redis-server that lets in only clients that give PASSWORD."""
    server = RedisServer(tmp_path / "guarded", password=PASSWORD)
    server.start()
    yield server
    server.stop()


def start_alone(tmp_path, url: str) -> subprocess.CompletedProcess:
    """Run `run.py --redis url` until it exits on its own (it should, at once)."""
    return subprocess.run(
        [sys.executable, "run.py", "--port", str(free_port()), "--host", "127.0.0.1",
         "--db", str(tmp_path / "chat.db"), "--redis", url],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )


@pytest.mark.gen_test(timeout=60)
async def test_nodes_share_a_redis_with_a_password_and_never_show_it(
    start_node, guarded_redis
):
    """Two nodes on a password-protected Redis chat as usual; the password appears in neither
    node's output or log, not even when Redis goes away, where the URL shows `***`."""
    a, b = start_node(redis=guarded_redis), start_node(redis=guarded_redis)
    ada, _ = await join(a, nick="ada")
    bob, _ = await join(b, nick="bob")
    await send(ada, {"type": "message", "text": "hello through a guarded Redis"})
    assert await messages(bob, 1) == [(1, "hello through a guarded Redis")]
    guarded_redis.stop()
    await wait_for_log(a, "The listener stopped")
    for node in (a, b):
        node.stop()
        log = node.log_path.read_text()
        assert f"joined the cluster at redis://:***@127.0.0.1:{guarded_redis.port}/0" in log
        assert PASSWORD not in log and PASSWORD not in "\n".join(node.banner)


@pytest.mark.parametrize("password", ["wrong-password", None])
def test_a_wrong_or_missing_password_gives_one_line_at_start(tmp_path, guarded_redis, password):
    """A URL with the wrong password (or none) stops run.py at once with one line that names
    the URL without its password."""
    auth = f":{password}@" if password else ""
    ran = start_alone(tmp_path, f"redis://{auth}127.0.0.1:{guarded_redis.port}/0")
    assert ran.returncode == 1
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1, ran.stderr
    assert lines[0].startswith("Redis at redis://")
    assert "refused to let us in" in lines[0] and "check the user name and password" in lines[0]
    assert "wrong-password" not in ran.stderr + ran.stdout
    if password:
        assert f":***@127.0.0.1:{guarded_redis.port}" in lines[0]


@pytest.mark.gen_test(timeout=60)
async def test_nodes_share_a_redis_over_tls(tmp_path, start_node):
    """Two nodes on a TLS-only Redis (rediss://, its certificate trusted by ssl_ca_certs) carry
    messages both ways."""
    redis = RedisServer(tmp_path / "tls", password=PASSWORD, tls=True)
    redis.start()
    try:
        a, b = start_node(redis=redis), start_node(redis=redis)
        ada, _ = await join(a, nick="ada")
        bob, welcome = await join(b, nick="bob")
        assert welcome["online"] == ["ada", "bob"]
        await send(bob, {"type": "message", "text": "sealed"})
        assert await messages(ada, 1) == [(1, "sealed")]
        assert PASSWORD not in a.log_path.read_text()
    finally:
        redis.stop()


def test_a_tls_redis_whose_certificate_is_not_trusted_is_refused_at_start(tmp_path):
    """Without the certificate to trust, rediss:// fails at start with one line saying why."""
    redis = RedisServer(tmp_path / "tls", tls=True)
    redis.start()
    try:
        ran = start_alone(tmp_path, f"rediss://127.0.0.1:{redis.port}/0")
        assert ran.returncode == 1
        (line,) = ran.stderr.strip().splitlines()
        assert line.startswith(f"Cannot reach Redis at rediss://127.0.0.1:{redis.port}/0 over TLS")
        assert "CERTIFICATE_VERIFY_FAILED" in line and "ssl_ca_certs" in line
    finally:
        redis.stop()


@pytest.mark.gen_test(timeout=60)
async def test_an_acl_user_limited_to_the_chat_is_enough(start_node, redis_server):
    """The ACL user docs/scaling.md suggests (chat:* keys, the chat:events channel, no admin or
    dangerous commands) runs a node in full: entering, posting, renaming, leaving, stopping."""
    with redis_server.client() as admin:
        admin.execute_command(
            "ACL", "SETUSER", "chat", "on", f">{PASSWORD}", "~chat:*", "&chat:events",
            "+@all", "-@admin", "-@dangerous")
        assert admin.execute_command("ACL", "DRYRUN", "chat", "FLUSHALL") != "OK"
    url = f"redis://chat:{PASSWORD}@127.0.0.1:{redis_server.port}/0"
    a, b = start_node(url=url), start_node(url=url)
    ada, _ = await join(a, nick="ada")
    bob, _ = await join(b, nick="bob")
    await send(bob, {"type": "nick", "nick": "bea"})
    await send(bob, {"type": "message", "text": "limited, and enough"})
    assert await messages(ada, 1) == [(1, "limited, and enough")]
    assert a.stop() == 0
    for node in (a, b):
        log = node.log_path.read_text()
        assert "NOPERM" not in log and "Traceback" not in log and PASSWORD not in log, log
        assert f"redis://chat:***@127.0.0.1:{redis_server.port}/0" in log
