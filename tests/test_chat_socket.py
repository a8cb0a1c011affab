"""The chat through real sockets: welcome, broadcast, presence, nicknames, pruning."""

import json
import logging
import re
import struct
from urllib.parse import urljoin, urlsplit

import pytest
from conftest import client_frame, next_event, raw_websocket, send
from tornado.httpclient import AsyncHTTPClient
from tornado.tcpclient import TCPClient

from chat.config import ROOT

# What a page names from static/, and what a module imports: `import ... from "./x.js"`.
ASSET = re.compile(r'(?:src|href)="(/static/[^"]+)"')
IMPORT = re.compile(r"""^\s*(?:import|export)\b[^;'"]*?["'](\.\.?/[^"']+)["']""", re.MULTILINE)
SCRIPT_TYPES = ("text/javascript", "application/javascript")  # browsers run modules of these only


@pytest.mark.gen_test
async def test_page_renders_with_its_assets(http_server, http_port):
    """GET / renders the page with main.js as its one script; it, every module it imports
    and every other asset the page names are served."""
    client = AsyncHTTPClient()
    origin = f"http://127.0.0.1:{http_port}"
    page = await client.fetch(origin + "/")
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    # One module, by its versioned URL: no classic script sharing globals by load order.
    [script] = re.findall(r"<script\b[^>]*>", html)
    assert re.fullmatch(r'<script type="module" src="/static/main\.js\?v=[0-9a-f]+">', script)
    waiting = [urljoin(origin, path) for path in ASSET.findall(html)]
    assert any("/static/chat.css" in url for url in waiting)
    served = set()
    while waiting:
        url = waiting.pop()
        if url in served:
            continue
        response = await client.fetch(url)
        assert response.code == 200 and response.body, url
        served.add(url)
        if urlsplit(url).path.endswith(".js"):
            assert response.headers["Content-Type"].startswith(SCRIPT_TYPES), url
            waiting += [urljoin(url, path) for path in IMPORT.findall(response.body.decode())]
    scripts = {urlsplit(url).path.removeprefix("/static/") for url in served}
    assert {path.name for path in (ROOT / "static").glob("*.js")} <= scripts  # none left out


@pytest.mark.gen_test
async def test_static_files_are_cached_for_good_only_when_versioned(http_server, http_port):
    """A `?v=` URL may be cached for years; a plain one (a module's import) is checked each time."""
    client = AsyncHTTPClient()
    url = f"http://127.0.0.1:{http_port}/static/chat.css"
    plain = await client.fetch(url)
    assert plain.headers["Cache-Control"] == "no-cache"  # not a lifetime the browser guesses
    unchanged = await client.fetch(
        url, headers={"If-None-Match": plain.headers["Etag"]}, raise_error=False
    )
    assert unchanged.code == 304  # asking costs no download while the file is the same
    version = plain.headers["Etag"].strip('"')  # Tornado's Etag is the version hash
    versioned = await client.fetch(f"{url}?v={version}")
    assert versioned.headers["Cache-Control"] == f"max-age={10 * 365 * 86400}"


@pytest.mark.gen_test
async def test_broadcast_reaches_every_client_in_order(connect):
    """Every client, the sender included, gets every message in order with increasing ids."""
    clients = [(await connect(nick=name))[0] for name in ("ada", "bob", "cy")]
    for number in range(20):
        await send(clients[number % 3], {"type": "message", "text": f"m{number}"})
    for ws in clients:
        received = [await next_event(ws, "message") for _ in range(20)]
        assert [m["text"] for m in received] == [f"m{n}" for n in range(20)]
        assert [m["id"] for m in received] == list(range(1, 21))
        assert [m["nick"] for m in received] == ["ada", "bob", "cy"] * 6 + ["ada", "bob"]


@pytest.mark.gen_test
async def test_welcome_carries_history_and_who_is_online(connect):
    """A newcomer's welcome has its nickname, everyone online and the recent history."""
    ada, _ = await connect(nick="ada")
    for number in range(7):
        await send(ada, {"type": "message", "text": f"m{number}"})
    for _ in range(7):
        await next_event(ada, "message")  # all 7 stored before bob arrives
    _, welcome = await connect(nick="bob")
    assert welcome["nick"] == "bob"
    assert welcome["online"] == ["ada", "bob"]
    assert [m["text"] for m in welcome["history"]] == ["m2", "m3", "m4", "m5", "m6"]
    assert all(m["nick"] == "ada" and isinstance(m["ts"], int) for m in welcome["history"])


@pytest.mark.gen_test
async def test_join_leave_and_nick_events_reach_everyone(connect):
    """Arrivals, departures and renames are announced with the count online."""
    ada, _ = await connect(nick="ada")
    assert await next_event(ada, "join") == {"type": "join", "nick": "ada", "online": 1}
    bob, _ = await connect(nick="bob")
    assert await next_event(ada, "join") == {"type": "join", "nick": "bob", "online": 2}
    await send(bob, {"type": "nick", "nick": "robert"})
    renamed = {"type": "nick", "old": "bob", "nick": "robert"}
    assert await next_event(ada, "nick") == renamed
    assert await next_event(bob, "nick") == renamed
    bob.close()
    assert await next_event(ada, "leave") == {"type": "leave", "nick": "robert", "online": 1}


@pytest.mark.gen_test
async def test_taken_nickname_gets_a_suffix_and_rename_to_it_is_refused(connect):
    """A nickname held online is suffixed on join and refused on rename, case-insensitively."""
    ada, _ = await connect(nick="ada")
    other, welcome = await connect(nick="ADA")
    assert welcome["nick"] == "ADA-2"
    await send(other, {"type": "nick", "nick": "Ada"})
    error = await next_event(other, "error")
    assert error["code"] == "nick_taken"
    assert error["message"]


@pytest.mark.gen_test
async def test_missing_or_invalid_nick_becomes_a_guest(connect):
    """No nickname, or one that breaks the rules, gets guest-XXXX."""
    _, plain = await connect()
    _, bad = await connect(nick="x" * 30)
    assert plain["nick"].startswith("guest-") and bad["nick"].startswith("guest-")
    assert plain["nick"] != bad["nick"]


@pytest.mark.gen_test
@pytest.mark.parametrize("path", ["/", "/ws"])
async def test_lesson_snippet_protocol(connect, path):
    """The lesson's `new WebSocket("ws://HOST:3000/")` and `socket.send('...')` work."""
    listener, _ = await connect(nick="listener")
    lesson, welcome = await connect(path=path)  # no query string, as in the lesson
    assert welcome["nick"].startswith("guest-")
    await lesson.write_message("here is a message for the server!")
    for ws in (listener, lesson):
        message = await next_event(ws, "message")
        assert message["text"] == "here is a message for the server!"
        assert message["nick"] == welcome["nick"]


@pytest.mark.gen_test
async def test_dropped_tcp_connection_is_pruned_and_others_keep_receiving(connect, http_port):
    """A client that vanishes without a close frame leaves, and delivery goes on."""
    watcher, _ = await connect(nick="watcher")
    stream = await TCPClient().connect("127.0.0.1", http_port)
    await stream.write(
        b"GET /ws?nick=vanisher HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    response = await stream.read_until(b"\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 101")
    assert (await next_event(watcher, "join"))["nick"] == "watcher"
    assert (await next_event(watcher, "join"))["nick"] == "vanisher"
    stream.close()  # no close frame: the TCP connection just goes away
    assert await next_event(watcher, "leave") == {"type": "leave", "nick": "vanisher", "online": 1}
    await send(watcher, {"type": "message", "text": "still here"})
    assert (await next_event(watcher, "message"))["text"] == "still here"


@pytest.mark.gen_test
async def test_renaming_to_the_same_nick_announces_nothing(connect):
    """Asking for the nickname you already have sends no nick event to anyone."""
    ada, _ = await connect(nick="ada")
    await send(ada, {"type": "nick", "nick": "ada"})
    await send(ada, {"type": "message", "text": "after"})
    await next_event(ada, "rooms")  # ada made general busy: the last event before hers
    assert json.loads(await ada.read_message())["text"] == "after"


@pytest.mark.gen_test
async def test_same_page_reconnecting_takes_over_its_stale_connection(connect):
    """A reconnect with the same secret session gets its nickname back, not nick-2."""
    watcher, _ = await connect(nick="watcher")
    stale, _ = await connect(path="/ws?nick=ada&session=s3cret")
    assert (await next_event(watcher, "join"))["nick"] == "watcher"
    assert (await next_event(watcher, "join"))["nick"] == "ada"
    fresh, welcome = await connect(path="/ws?nick=ada&session=s3cret")
    assert welcome["nick"] == "ada" and welcome["online"] == ["watcher", "ada"]
    while await stale.read_message() is not None:
        pass
    assert stale.close_code == 4001
    await send(fresh, {"type": "message", "text": "back"})
    event = json.loads(await watcher.read_message())  # no leave, no join: just the message
    assert (event["type"], event["text"]) == ("message", "back")


@pytest.mark.gen_test
async def test_a_replaced_connection_changes_nothing(connect, http_port):
    """Frames the replaced connection still sends (a rename, a message) move and reach nobody."""
    watcher, _ = await connect(nick="watcher")
    stale = await raw_websocket(http_port, "/ws?nick=ada&session=s3cret")
    fresh, _ = await connect(path="/ws?nick=ada&session=s3cret")  # the server closes `stale`
    for frame in ('{"type": "nick", "nick": "mallory"}', "from the old connection"):
        await stale.write(client_frame(frame.encode()))
    await stale.write(client_frame(struct.pack("!H", 1000), opcode=0x8))
    await stale.read_until_close()  # the server has read every frame before the close
    _, victim = await connect(nick="ada")
    assert victim["nick"] == "ada-2" and victim["online"] == ["watcher", "ada", "ada-2"]
    await send(fresh, {"type": "message", "text": "from the new connection"})
    seen = []
    while not seen or seen[-1]["type"] != "message":
        seen.append(json.loads(await watcher.read_message()))
    assert [event["type"] for event in seen if event["type"] != "rooms"] == [
        "join", "join", "join", "message"]  # watcher, ada, ada-2: no nick event, no old message
    assert (seen[-1]["nick"], seen[-1]["text"]) == ("ada", "from the new connection")


@pytest.mark.gen_test
async def test_another_session_cannot_take_a_nickname(connect):
    """Without the holder's session, a taken nickname still gets a suffix."""
    await connect(path="/ws?nick=ada&session=s3cret")
    _, guessed = await connect(path="/ws?nick=ada&session=guess")
    _, none = await connect(nick="ada")
    assert (guessed["nick"], none["nick"]) == ("ada-2", "ada-3")


@pytest.mark.gen_test
async def test_the_access_log_never_shows_a_session(connect, caplog):
    """Each request is logged by its path: the page's secret session never reaches the log."""
    caplog.set_level(logging.DEBUG, logger="tornado.access")
    await connect(path="/ws?nick=ada&session=s3cret-session&room=general")
    logged = [record.getMessage() for record in caplog.records if record.name == "tornado.access"]
    assert any("GET /ws (127.0.0.1)" in line for line in logged), logged
    assert not any("s3cret" in line or "nick=" in line for line in logged)


@pytest.mark.gen_test
async def test_a_join_is_one_info_line_and_its_upgrade_a_debug_line(connect, caplog):
    """The operator reads one INFO line per connection: the join; the 101 upgrade is DEBUG."""
    caplog.set_level(logging.DEBUG)
    await connect(nick="ada")
    info = [(record.name, record.getMessage()) for record in caplog.records
            if record.levelno == logging.INFO]
    upgrades = [record for record in caplog.records
                if record.name == "tornado.access" and record.getMessage().startswith("101 ")]
    assert [name for name, line in info if "ada joined #general" in line] == ["chat.handlers"]
    assert not any(name == "tornado.access" for name, _ in info), info
    assert [record.levelno for record in upgrades] == [logging.DEBUG]
