"""`python run.py` as a person runs it: help, the URLs to share, a busy port."""

import socket
import subprocess
import sys
from urllib.request import urlopen

import pytest
import segno
from servers import ROOT, ChatServer, free_port

from chat.addresses import banner, share_urls


def run_py(*args: str, **options) -> subprocess.Popen:
    """Start `python run.py ARGS` from the repository root."""
    return subprocess.Popen(
        [sys.executable, "run.py", *args], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **options,
    )


def test_help_explains_every_option():
    """--help names each option with a sentence about it."""
    result = subprocess.run([sys.executable, "run.py", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    for option in ("--port", "--host", "--max-text", "--history", "--debug", "--max-upload",
                   "--uploads-per-minute", "--upload-quota", "--upload-dir"):
        assert option in result.stdout


def test_share_urls_list_every_lan_address():
    """Listening on every interface, each LAN address is one URL to share."""
    assert share_urls("0.0.0.0", 3000, ["192.168.1.23", "10.0.0.5"]) == [
        "http://192.168.1.23:3000", "http://10.0.0.5:3000",
    ]


def test_share_urls_with_one_host_give_only_it():
    """With --host set to one address, only that address's URL is shared."""
    assert share_urls("192.168.1.23", 3000, ["192.168.1.23", "10.0.0.5"]) == [
        "http://192.168.1.23:3000"
    ]


def test_banner_lists_the_urls_then_localhost_then_a_qr_code_of_the_first():
    """The start-up text names every URL, then localhost, then a QR code of the first URL."""
    urls = ("http://192.168.1.23:3000", "http://10.0.0.5:3000")
    lines = banner("0.0.0.0", 3000, urls).splitlines()
    assert lines[:4] == [
        "Chat is running. Share one of these addresses:",
        "  http://192.168.1.23:3000", "  http://10.0.0.5:3000", "  http://localhost:3000",
    ]
    assert lines[5] == "Or scan this with a phone to open http://192.168.1.23:3000:"
    assert terminal_qr_matrix(lines[6:]) == qr_matrix(urls[0], border=2)


def terminal_qr_matrix(lines: list[str]) -> list[list[bool]]:
    """Read a compact terminal QR code back: each character is two rows; True = light."""
    halves = {"█": (True, True), "▀": (True, False), "▄": (False, True), " ": (False, False)}
    rows = []
    for line in lines:
        pairs = [halves[char] for char in line]
        rows += [[top for top, _ in pairs], [bottom for _, bottom in pairs]]
    return rows


def qr_matrix(url: str, border: int) -> list[list[bool]]:
    """Return segno's matrix for `url` with a light border, as rows of True = light."""
    code = segno.make(url, error="m")
    rows = [[not dark for dark in row] for row in code.matrix_iter(border=border)]
    if len(rows) % 2:  # the terminal prints rows in pairs; an odd last row pairs with dark
        rows.append([False] * len(rows[0]))
    return rows


def test_server_prints_its_url_and_serves_the_page(tmp_path):
    """run.py --host 127.0.0.1 prints that one URL, and the page is served there."""
    server = ChatServer(free_port(), tmp_path / "server.log")
    server.start()
    try:
        assert server.banner[:2] == ["Chat is running. Share one of these addresses:", server.url]
        assert f"http://localhost:{server.port}" not in server.banner
        with urlopen(server.url, timeout=10) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
    finally:
        server.stop()


def test_busy_port_gives_one_clear_line():
    """A port already in use is one line naming it and how to pick another, no traceback."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with run_py("--port", str(port), "--host", "127.0.0.1") as server:
            _, errors = server.communicate(timeout=30)
    assert server.returncode == 1
    assert errors.strip().splitlines() == [
        f"Port {port} is already in use (another chat server?); "
        f"pick another with --port {port + 1}."
    ]


@pytest.mark.parametrize("option", ["--port", "--max-text", "--history"])
def test_nonsense_numbers_are_refused(option):
    """A negative or non-numeric option is refused by argparse with its name."""
    result = subprocess.run([sys.executable, "run.py", option, "-5"], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert option in result.stderr


def test_workers_without_redis_are_refused_with_the_reason():
    """--processes 2 alone is refused: each process would be a room of its own."""
    with run_py("--processes", "2") as server:
        _, errors = server.communicate(timeout=30)
    assert server.returncode == 2
    assert "--processes 2 needs --redis" in errors


def test_redis_unreachable_at_start_is_one_clear_line():
    """--redis pointing at nothing: exit 1 with one line naming the URL, no traceback."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    with run_py("--port", str(free_port()), "--host", "127.0.0.1", "--redis", url) as server:
        _, errors = server.communicate(timeout=30)
    assert server.returncode == 1
    [line] = errors.strip().splitlines()
    assert line.startswith(f"Cannot reach Redis at {url} (") and "redis-server" in line


def test_the_redis_url_can_come_from_the_environment_out_of_ps(monkeypatch):
    """CHAT_REDIS gives the URL (and its password) without putting it on the command line."""
    from run import parse_settings

    monkeypatch.setenv("CHAT_REDIS", "redis://:s3cret@127.0.0.1:6379/0")
    assert parse_settings([]).redis == "redis://:s3cret@127.0.0.1:6379/0"
    assert parse_settings(["--redis", "redis://10.0.0.5/0"]).redis == "redis://10.0.0.5/0"
    monkeypatch.delenv("CHAT_REDIS")
    assert parse_settings([]).redis is None


def test_the_upload_options_take_sizes_and_reach_the_settings(capsys):
    """--max-upload and --upload-quota take 10MB-style sizes or bytes; a wrong one says why."""
    from run import parse_settings

    settings = parse_settings(["--max-upload", "2MB", "--upload-quota", "1gb",
                               "--uploads-per-minute", "3", "--upload-dir", "/srv/files"])
    assert (settings.max_upload, settings.upload_quota, settings.uploads_per_minute,
            settings.upload_dir) == (2 * 1024**2, 1024**3, 3, "/srv/files")
    defaults = parse_settings([])
    assert (defaults.max_upload, defaults.upload_quota, defaults.upload_dir) == (
        10 * 1024**2, 500 * 1024**2, None)
    assert parse_settings(["--max-upload", "0"]).max_upload == 0
    assert parse_settings(["--max-upload", "1500"]).max_upload == 1500
    with pytest.raises(SystemExit):
        parse_settings(["--max-upload", "ten"])
    assert "'ten' is not a size" in capsys.readouterr().err


def test_a_server_without_redis_never_loads_redis_py():
    """`import chat.app` and a default app leave redis-py unloaded: only --redis needs it."""
    script = (
        "import asyncio, sys\n"
        "import run\n"
        "from chat.app import make_app, shutdown\n"
        "async def main():\n"
        "    app = make_app(run.parse_settings(['--db', ':memory:']))\n"
        "    await shutdown(app)\n"
        "asyncio.run(main())\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'redis'))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def host_link(tmp_path, *options: str) -> str:
    """Start run.py, return the host link it prints (never in its log), then stop it."""
    port = free_port()
    process = run_py("--port", str(port), "--host", "127.0.0.1", "--db",
                     str(tmp_path / "chat.db"), *options)
    try:
        assert process.stdout is not None
        for line in process.stdout:  # run.py flushes each block it prints
            if "#host=" in line:
                return line.strip()
        raise AssertionError("run.py printed no host link")
    finally:
        process.terminate()
        _, log = process.communicate(timeout=30)
        assert "#host=" not in log and "host key" not in log.lower()  # the terminal only


def test_the_host_link_is_printed_kept_across_restarts_and_renewed_on_demand(tmp_path):
    """The host link's key is in the database: the same after a restart, new with --new-host-key."""
    first = host_link(tmp_path)
    assert first.startswith("http://127.0.0.1:") and len(first.split("#host=")[1]) >= 22
    again = host_link(tmp_path)
    assert again.split("#host=")[1] == first.split("#host=")[1]
    renewed = host_link(tmp_path, "--new-host-key")
    assert renewed.split("#host=")[1] != first.split("#host=")[1]
    given = host_link(tmp_path, "--host-key", "a-key-of-my-own-22-chars")
    assert given.endswith("#host=a-key-of-my-own-22-chars")


def test_a_short_host_key_is_refused():
    """A key under 128 bits' worth of characters is refused before anything starts."""
    result = subprocess.run([sys.executable, "run.py", "--host-key", "short"], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "at least 128 bits" in result.stderr


def test_the_server_runs_the_garbage_collector_less_often_than_python_does():
    """run.py raises the collector's thresholds: the young pass far above Python's 700."""
    import gc

    from run import COLLECT_AFTER, tune_collector

    default = gc.get_threshold()
    try:
        tune_collector()
        assert gc.get_threshold() == COLLECT_AFTER
    finally:
        gc.set_threshold(*default)
    assert COLLECT_AFTER[0] >= 10 * 700
    assert all(tuned >= python for tuned, python in zip(COLLECT_AFTER, (700, 10, 10), strict=True))
