"""Browser tests: the real page in headless Chromium against run.py in a subprocess.

Debian's /usr/bin/chromium is driven by Playwright; no browser is ever
downloaded. Without it these tests skip, except under CI=true where they fail.
No sleeps: every wait is Playwright's expect() or the server's own output.

test_screenshots_of_a_conversation also saves the README's pictures when asked:
`CHAT_SCREENSHOTS=docs pytest tests/test_browser.py -k screenshots` writes
docs/screenshot-desktop.png and docs/screenshot-phone.png.
"""

import contextlib
import io
import os
import re
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from browser_pages import (
    RECONNECT_TIMEOUT,
    browser,  # noqa: F401 (a fixture)
    composer,
    control_visibility,
    count_beeps,
    drop_socket,
    go_offline,
    join,
    keep_sockets,
    messages,
    online,
    open_page,  # noqa: F401 (a fixture)
    pending,
    record_dialogs,
    say,
    serious_violations,
    set_hidden,
    start_server,  # noqa: F401 (a fixture)
    status,
    tab_to,
)
from PIL import Image, ImageDraw
from playwright.sync_api import Locator, Page, expect
from redis_server import RedisServer
from servers import ChatServer

pytestmark = pytest.mark.browser

RESTARTING = "Server restarting — reconnecting…"  # the status after close code 1001
STORE_LATER = "The server could not store your message yet; the page will send it again."
NOT_STORED_YET = "not stored yet, will retry…"  # the label of a message refused `unavailable`
REDIS_BACK_TIMEOUT = 20_000  # ms: the page's next try, and the node's resubscription to Redis
XSS = "<img src=x onerror=alert(1)>"
CLOCK = re.compile(r"^\d{1,2}[:.]\d{2}")  # a local time of day: 14:03, 2:03 PM, 14.03
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
SOUND = "Beep for new messages while this tab is hidden"  # the sound checkbox's label
DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture
def server(start_server: Callable[..., ChatServer]) -> ChatServer:
    """A fresh chat server (empty history, in the test's own chat.db) on a free port."""
    return start_server()


def rooms(page: Page) -> Locator:
    """Return the links of the page's rooms list."""
    return page.get_by_test_id("rooms").get_by_role("link")


def current_room(page: Page) -> Locator:
    """Return the rooms list's link marked as the room we are in."""
    return page.get_by_test_id("rooms").locator("[aria-current=page]")


def go_to_room(page: Page, name: str) -> None:
    """Type a room name in the "Go to room" form and submit it."""
    page.get_by_label("Go to room").fill(name)
    page.get_by_role("button", name="Go", exact=True).click()


def typing(page: Page) -> Locator:
    """Return the line that says who is typing."""
    return page.get_by_test_id("typing")


def overflow(page: Page) -> dict[str, int]:
    """Return how many pixels the page, and the message list, are wider than what shows."""
    return page.evaluate(
        """() => {
            const list = document.getElementById("messages");
            return {
                page: document.documentElement.scrollWidth - window.innerWidth,
                messages: list.scrollWidth - list.clientWidth,
            };
        }"""
    )


def decoded_qr(image: Locator, folder: Path) -> str:
    """Screenshot a QR code as the page shows it and return the text it holds."""
    expect(image).to_have_js_property("complete", True)
    expect(image).not_to_have_js_property("naturalWidth", 0)  # loaded, not a broken image
    path = folder / "qr.png"
    image.screenshot(path=path)
    found = zxingcpp.read_barcodes(Image.open(path))
    assert len(found) == 1, f"expected one QR code in the screenshot, found {len(found)}"
    return found[0].text


def test_two_people_chat_both_ways(server: ChatServer, open_page: Callable[..., Page]) -> None:
    """Two people see each other's messages under the right nicknames and both online."""
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")

    say(ada, "hello bob")
    expect(messages(bob).filter(has_text="hello bob").locator(".nick")).to_have_text("ada")
    say(bob, "hi ada")
    expect(messages(ada).filter(has_text="hi ada").locator(".nick")).to_have_text("bob")

    for page in (ada, bob):
        expect(messages(page).locator(".nick")).to_have_text(["ada", "bob"])
        expect(messages(page).locator(".text")).to_have_text(["hello bob", "hi ada"])
        expect(messages(page).locator(".time")).to_have_text([CLOCK, CLOCK])
        expect(online(page)).to_have_text(["ada", "bob"])


def test_two_people_on_two_nodes_of_a_cluster_chat(
    start_server: Callable[..., ChatServer], redis_server: RedisServer,
    open_page: Callable[..., Page],
) -> None:
    """Pages served by two `--redis` nodes share one room: messages, typing, who is online."""
    node_a = start_server("--redis", redis_server.url)
    node_b = start_server("--redis", redis_server.url)
    ada = join(open_page(), node_a, "ada")
    bob = join(open_page(), node_b, "bob")
    expect(online(ada)).to_have_text(["ada", "bob"])
    expect(online(bob)).to_have_text(["ada", "bob"])

    composer(bob).press_sequentially("hi")
    expect(typing(ada)).to_have_text("bob is typing…")
    composer(bob).press("Enter")
    say(ada, "hello from node A")
    for page in (ada, bob):
        expect(messages(page).locator(".text")).to_have_text(["hi", "hello from node A"])
    expect(pending(ada)).to_have_count(0)  # acknowledged through Redis


def test_messages_refused_while_redis_is_away_are_sent_again_in_order(
    start_server: Callable[..., ChatServer], open_page: Callable[..., Page], tmp_path: Path
) -> None:
    """`unavailable` keeps a message pending and the page sends it again until it is stored:
    each arrives once, in order, and one typed after Redis is back does not overtake it."""
    redis = RedisServer(tmp_path / "persistent", persist=True)  # a restart keeps what it stored
    redis.start()
    try:
        node = start_server("--redis", redis.url)
        ada = join(open_page(), node, "ada")
        bob = join(open_page(), node, "bob")
        say(ada, "before")
        expect(messages(bob).locator(".text")).to_have_text(["before"])

        redis.stop()
        say(ada, "during 1")
        expect(ada.get_by_role("alert")).to_have_text(STORE_LATER)
        expect(pending(ada).locator(".sending")).to_have_text([NOT_STORED_YET])
        say(ada, "during 2")  # waits behind "during 1"
        expect(pending(ada).locator(".text")).to_have_text(["during 1", "during 2"])

        redis.start()  # same port, same append-only file
        say(ada, "after")  # before the page's next try: it must still come last
        said = ["before", "during 1", "during 2", "after"]
        for page in (ada, bob):
            expect(messages(page).locator(".text")).to_have_text(said, timeout=REDIS_BACK_TIMEOUT)
        expect(pending(ada)).to_have_count(0)
        expect(ada.get_by_role("alert")).to_be_hidden()  # nothing waits any more
        carol = join(open_page(), node, "carol")  # the history holds each message once
        expect(messages(carol).locator(".text")).to_have_text(said)
    finally:
        redis.stop()


def isolated(element: Locator) -> list[str]:
    """Return the texts of the <bdi> elements in this element (or of itself, if it is one)."""
    return element.evaluate(
        """(element) => element.matches("bdi") ? [element.textContent]
            : [...element.querySelectorAll("bdi")].map((bdi) => bdi.textContent)"""
    )


def test_every_nickname_shown_is_isolated_from_the_words_around_it(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A Hebrew or Arabic nickname sits in its own <bdi> wherever it shows (notices, the online
    list, messages, typing, the status), so it cannot reorder "joined" or what follows it."""
    ada = join(open_page(), server, "ada")
    hebrew = join(open_page(), server, "עדה")
    expect(status(hebrew)).to_have_text("Connected as עדה")
    assert isolated(status(hebrew)) == ["עדה"]

    joined = ada.get_by_test_id("messages").locator(".system").last
    expect(joined).to_have_text("עדה joined")
    assert isolated(joined) == ["עדה"]
    assert joined.evaluate("(line) => line.lastChild.nodeType === Node.TEXT_NODE")  # text only
    expect(online(ada)).to_have_text(["ada", "עדה"])
    assert isolated(online(ada).last) == ["עדה"]

    composer(hebrew).press_sequentially("שלום")
    expect(typing(ada)).to_have_text("עדה is typing…")
    assert isolated(typing(ada)) == ["עדה"]
    composer(hebrew).press("Enter")
    expect(messages(ada).locator(".text")).to_have_text(["שלום"])
    assert isolated(messages(ada).locator(".nick")) == ["עדה"]

    hebrew.get_by_text("Change nickname").click()
    hebrew.get_by_label("New nickname").fill("علي")
    hebrew.get_by_role("button", name="Change").click()
    renamed = ada.get_by_test_id("messages").locator(".system").last
    expect(renamed).to_have_text("עדה is now علي")
    assert isolated(renamed) == ["עדה", "علي"]
    hebrew.close()
    left = ada.get_by_test_id("messages").locator(".system").last
    expect(left).to_have_text("علي left")
    assert isolated(left) == ["علي"]


def test_html_in_a_message_is_shown_as_text(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A message and a nickname written as HTML show as literal text and run nothing."""
    reader = open_page()
    dialogs = record_dialogs(reader)
    join(reader, server, "ada")
    writer = join(open_page(), server, "<b>eve</b>")

    say(writer, XSS)
    expect(messages(reader).locator(".text")).to_have_text([XSS])
    expect(messages(reader).locator(".nick")).to_have_text(["<b>eve</b>"])
    expect(reader.get_by_test_id("messages").locator("img, b")).to_have_count(0)
    # An <img src=x> would run its onerror once loading "x" fails. Load "x"
    # ourselves and wait for that to fail too, so such an alert had its chance.
    reader.evaluate(
        "() => new Promise(done => { const probe = new Image();"
        " probe.onload = probe.onerror = done; probe.src = 'x'; })"
    )
    assert dialogs == []


def test_page_reconnects_after_server_restart(
    start_server: Callable[..., ChatServer], open_page: Callable[..., Page]
) -> None:
    """After a restart that lost the history (reset) the page reconnects, starts afresh, chats."""
    server = start_server("--db", ":memory:")
    ada = join(open_page(), server, "ada")
    say(ada, "before the restart")
    expect(messages(ada).locator(".text")).to_have_text(["before the restart"])

    server.stop()
    expect(status(ada)).to_have_text(RESTARTING)
    server.start()
    expect(status(ada)).to_have_text("Connected as ada", timeout=RECONNECT_TIMEOUT)
    expect(messages(ada)).to_have_count(0)  # the server forgot it, so the page does too

    bob = join(open_page(), server, "bob")
    say(ada, "back again")
    expect(messages(bob).filter(has_text="back again").locator(".nick")).to_have_text("ada")
    # Ids started again at 1: a page still skipping ids up to its old last one would hide this.
    expect(messages(ada).locator(".text")).to_have_text(["back again"])


def test_reconnect_shows_history_once(server: ChatServer, open_page: Callable[..., Page]) -> None:
    """After a dropped socket reconnects, each message is still shown once and chat goes on."""
    ada = join(keep_sockets(open_page()), server, "ada")
    say(ada, "first")
    say(ada, "second")
    expect(messages(ada).locator(".text")).to_have_text(["first", "second"])

    drop_socket(ada)
    expect(status(ada)).to_contain_text("Disconnected")
    expect(status(ada)).to_have_text("Connected as ada", timeout=RECONNECT_TIMEOUT)
    say(ada, "third")
    expect(messages(ada).locator(".text")).to_have_text(["first", "second", "third"])
    expect(pending(ada)).to_have_count(0)


def test_page_catches_up_on_what_it_missed(
    start_server: Callable[..., ChatServer], open_page: Callable[..., Page]
) -> None:
    """A page that was offline while others chatted gets every message it missed, once each."""
    # A newcomer's history holds 2 messages: more than that back proves the page asked `since`.
    server = start_server("--history", "2")
    ada = join(open_page(), server, "ada")
    bob = join(keep_sockets(open_page()), server, "bob")
    say(ada, "before")
    expect(messages(bob).locator(".text")).to_have_text(["before"])

    go_offline(bob)
    missed = ["missed 1", "missed 2", "missed 3"]
    for text in missed:
        say(ada, text)
    expect(messages(ada).locator(".text")).to_have_text(["before", *missed])

    bob.context.set_offline(False)
    expect(status(bob)).to_have_text("Connected as bob", timeout=RECONNECT_TIMEOUT)
    expect(messages(bob).locator(".text")).to_have_text(["before", *missed])
    expect(messages(bob).locator(".nick")).to_have_text(["ada"] * 4)


def test_page_says_when_it_missed_too_much(
    start_server: Callable[..., ChatServer], open_page: Callable[..., Page]
) -> None:
    """Back after more than 1000 messages, a page says some were missed and shows the rest once."""
    server = start_server("--rate", "0")
    ada = join(open_page(), server, "ada")
    bob = join(keep_sockets(open_page()), server, "bob")
    say(ada, "before")
    expect(messages(bob).locator(".text")).to_have_text(["before"])

    go_offline(bob)
    # 1001 messages from a plain socket in ada's page: one more than a `since` welcome carries.
    ada.evaluate(
        """(count) => new Promise((done) => {
            const socket = new WebSocket(`ws://${location.host}/ws?nick=flood`);
            socket.onopen = () => {
                for (let n = 1; n <= count; n++) {
                    socket.send(JSON.stringify({ type: "message", text: `flood ${n}` }));
                }
                socket.close();
                done();
            };
        })""",
        1001,
    )
    expect(messages(ada)).to_have_count(1002)

    bob.context.set_offline(False)
    expect(status(bob)).to_have_text("Connected as bob", timeout=RECONNECT_TIMEOUT)
    expect(messages(bob)).to_have_count(1001)  # "before" and the 1000 newest: flood 2 to 1001
    expect(messages(bob).locator(".text").nth(1)).to_have_text("flood 2")
    expect(messages(bob).locator(".text").last).to_have_text("flood 1001")
    expect(bob.get_by_test_id("messages").locator(".system")).to_contain_text(
        ["Some messages were missed while you were away."]
    )


def test_messages_typed_during_a_restart_arrive_once(
    start_server: Callable[..., ChatServer], open_page: Callable[..., Page], tmp_path: Path
) -> None:
    """Messages typed during a restart wait as pending, then both pages show all once, in order."""
    server = start_server("--db", str(tmp_path / "chat.db"), "--rate", "0")
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")
    say(ada, "before 1")
    expect(messages(bob).locator(".text")).to_have_text(["before 1"])
    say(bob, "before 2")
    for page in (ada, bob):
        expect(messages(page).locator(".text")).to_have_text(["before 1", "before 2"])

    server.stop()
    for page in (ada, bob):
        expect(status(page)).to_have_text(RESTARTING)
    during = ["during 1", "during 2", "during 3"]
    for text in during:
        say(ada, text)
        expect(composer(ada)).to_have_value("")  # queued, so the box is free for the next one
    expect(pending(ada).locator(".text")).to_have_text(during)
    expect(pending(ada).locator(".sending")).to_have_text(["sending…"] * 3)
    expect(messages(ada).locator(".text")).to_have_text(["before 1", "before 2"])

    server.start()
    for page, nick in ((ada, "ada"), (bob, "bob")):
        expect(status(page)).to_have_text(f"Connected as {nick}", timeout=RECONNECT_TIMEOUT)
        expect(messages(page).locator(".text")).to_have_text(["before 1", "before 2", *during])
        expect(messages(page).locator(".nick")).to_have_text(["ada", "bob", "ada", "ada", "ada"])
        expect(pending(page)).to_have_count(0)


def test_rate_limited_messages_are_sent_again_in_order(
    start_server: Callable[..., ChatServer], open_page: Callable[..., Page]
) -> None:
    """Messages refused by the rate limit are sent again later: each arrives once, in order."""
    server = start_server("--rate", "2", "--burst", "1")  # 1 at once, then one every 0.5 s
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")
    fast = ["one", "two", "three", "four"]
    for text in fast:
        say(ada, text)

    for page in (ada, bob):
        expect(messages(page).locator(".text")).to_have_text(fast)
    expect(pending(ada)).to_have_count(0)
    expect(composer(ada)).to_have_value("")  # rate_limited is not a refusal: nothing comes back


def test_refs_do_not_carry_the_secret_session(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """The refs the page sends, stored in the database, share nothing with its socket's session."""
    ada = join(keep_sockets(open_page()), server, "ada")
    for text in ("one", "two"):
        say(ada, text)
    expect(messages(ada).locator(".text")).to_have_text(["one", "two"])
    expect(pending(ada)).to_have_count(0)  # acknowledged: the rows are in the file

    socket_url = ada.evaluate("() => window.testSockets.at(-1).url")
    [session] = parse_qs(urlsplit(socket_url).query)["session"]
    with contextlib.closing(sqlite3.connect(server.log_path.with_name("chat.db"))) as db:
        refs = [ref for (ref,) in db.execute("SELECT ref FROM log ORDER BY id")]
    assert len(refs) == 2 and len(set(refs)) == 2
    assert len(session) >= 16
    for ref in refs:
        assert session not in ref
        assert session[:8] not in ref and session[-8:] not in ref  # nor a part of it


def test_refused_message_comes_back_to_the_composer(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A message the server refuses (too long) shows the error and comes back to the composer."""
    ada = join(open_page(), server, "ada")
    too_long = "x" * 2001  # run.py's default --max-text is 2000

    say(ada, too_long)
    expect(ada.get_by_role("alert")).to_contain_text("the limit is 2000")
    expect(composer(ada)).to_have_value(too_long)
    expect(pending(ada)).to_have_count(0)
    expect(messages(ada)).to_have_count(0)

    composer(ada).fill("short enough")  # and the page goes on sending
    composer(ada).press("Enter")
    expect(messages(ada).locator(".text")).to_have_text(["short enough"])
    expect(pending(ada)).to_have_count(0)


def test_newcomer_sees_history(server: ChatServer, open_page: Callable[..., Page]) -> None:
    """Someone who joins later sees the earlier messages from the welcome's history."""
    ada = join(open_page(), server, "ada")
    say(ada, "said before bob came")
    expect(messages(ada)).to_have_count(1)

    bob = join(open_page(), server, "bob")
    expect(messages(bob).locator(".text")).to_have_text(["said before bob came"])
    expect(messages(bob).locator(".nick")).to_have_text(["ada"])


def test_nickname_is_remembered(server: ChatServer, open_page: Callable[..., Page]) -> None:
    """The nickname chosen once is prefilled in the join form after a reload."""
    page = join(open_page(), server, "ada")

    page.reload()
    expect(page.get_by_label("Your nickname")).to_have_value("ada")


def test_nickname_change_is_shown_and_remembered(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A nickname change updates both pages' online lists and is remembered for next time."""
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")

    ada.get_by_text("Change nickname").click()
    ada.get_by_label("New nickname").fill("zoe")
    ada.get_by_role("button", name="Change").click()

    expect(ada.get_by_test_id("status")).to_have_text("Connected as zoe")
    for page in (ada, bob):
        expect(online(page)).to_have_text(["zoe", "bob"])
        expect(page.get_by_test_id("messages").locator(".system").last).to_have_text(
            "ada is now zoe"
        )
    ada.reload()
    expect(ada.get_by_label("Your nickname")).to_have_value("zoe")


def test_error_is_shown_and_connection_stays(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A refused nickname change shows the server's error and the page keeps chatting."""
    join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")

    bob.get_by_text("Change nickname").click()
    bob.get_by_label("New nickname").fill("ADA")
    bob.get_by_role("button", name="Change").click()

    expect(bob.get_by_role("alert")).to_contain_text("taken")
    expect(bob.get_by_test_id("status")).to_have_text("Connected as bob")
    say(bob, "still here")
    expect(messages(bob).locator(".text")).to_have_text(["still here"])


def test_enter_sends_and_shift_enter_adds_a_line(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Shift+Enter puts a newline in the message, Enter sends it, and the newline is shown."""
    ada = join(open_page(), server, "ada")
    composer = ada.get_by_label("Message", exact=True)

    composer.press_sequentially("one")
    composer.press("Shift+Enter")
    composer.press_sequentially("two")
    expect(messages(ada)).to_have_count(0)
    composer.press("Enter")

    expect(messages(ada)).to_have_count(1)
    expect(composer).to_have_value("")
    # innerText follows the CSS, so this also proves white-space keeps the line break.
    assert messages(ada).locator(".text").inner_text() == "one\ntwo"


# ---- Issue 4: rooms, typing, attention, links, invitations, any screen -----------


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_chat_fits_phone_and_desktop(
    server: ChatServer, open_page: Callable[..., Page], viewport: dict[str, int]
) -> None:
    """On a 360 px phone and a laptop the chat works and nothing is wider than the screen."""
    ada = join(open_page(viewport=viewport), server, "ada")
    bob = join(open_page(), server, "bob")
    join(open_page(), server, "carol", room="a" * 32)  # the longest room name, in ada's list
    said = [
        "supercalifragilistic" * 10,  # one 200-letter word
        "https://example.org/" + "a-very-long-path/" * 15,
        "مرحبا بالجميع 👋 大家好",
    ]
    for text in said:
        say(bob, text)
    expect(messages(ada).locator(".text")).to_have_text(said)
    say(ada, "got it")
    expect(messages(bob).locator(".text").last).to_have_text("got it")
    expect(rooms(ada)).to_have_text(["#" + "a" * 32, "#general"])
    expect(messages(ada).last).to_be_in_viewport()  # the rooms and people leave room to chat
    expect(composer(ada)).to_be_in_viewport()
    assert overflow(ada) == {"page": 0, "messages": 0}

    ada.get_by_role("button", name="Invite").click()  # the panels, open, fit too
    ada.get_by_text("Change nickname").click()
    expect(ada.get_by_role("img", name=f"QR code for {server.url}")).to_be_visible()
    assert overflow(ada) == {"page": 0, "messages": 0}


def test_rooms_are_separate_and_switch_without_reload(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """#maths and general never see each other's messages; the list switches rooms in place."""
    ada = join(open_page(), server, "ada", room="maths")
    bob = join(keep_sockets(open_page()), server, "bob")
    say(ada, "integrals at ten")
    say(bob, "lunch at noon")
    expect(messages(ada).locator(".text")).to_have_text(["integrals at ten"])
    expect(messages(bob).locator(".text")).to_have_text(["lunch at noon"])
    for page, here in ((ada, "#maths"), (bob, "#general")):
        expect(rooms(page)).to_have_text(["#general", "#maths"])
        expect(current_room(page)).to_have_text(here)
        expect(page.get_by_test_id("room-heading")).to_have_text(here)
    expect(online(ada)).to_have_text(["ada"])

    bob.evaluate("() => { window.marker = 'same page'; }")
    rooms(bob).filter(has_text="#maths").click()
    expect(current_room(bob)).to_have_text("#maths")
    # Each room counts its ids from 1: a page keeping one `since` for all rooms would miss this.
    expect(messages(bob).locator(".text")).to_have_text(["integrals at ten"])
    expect(online(bob)).to_have_text(["ada", "bob"])
    expect(rooms(bob)).to_have_text(["#maths"])  # general emptied when bob left it
    assert bob.evaluate("() => window.marker") == "same page"  # no reload
    assert bob.url == server.url + "/#maths"
    assert "room=maths" in bob.evaluate("() => window.testSockets.at(-1).url")
    say(bob, "hello maths")
    expect(messages(ada).locator(".text")).to_have_text(["integrals at ten", "hello maths"])

    go_to_room(bob, "General")  # names ignore case
    expect(current_room(bob)).to_have_text("#general")
    expect(messages(bob).locator(".text")).to_have_text(["lunch at noon"])
    assert "since=1" in bob.evaluate("() => window.testSockets.at(-1).url")  # general's own since
    expect(online(ada)).to_have_text(["ada"])


def test_bad_room_name_is_explained(server: ChatServer, open_page: Callable[..., Page]) -> None:
    """A room name the server would refuse gets a sentence, and the page stays where it was."""
    ada = join(open_page(), server, "ada")
    say(ada, "still in general")

    go_to_room(ada, "no spaces please")
    expect(ada.get_by_role("alert")).to_have_text(
        '"no spaces please" is not a room name: use up to 32 letters, digits, - or _.'
    )
    ada.goto(server.url + "/#bad%20name")  # typed in the address bar: the same page goes on
    expect(ada.get_by_role("alert")).to_contain_text('"bad name" is not a room name')
    assert ada.url == server.url + "/#general"  # the address says where we still are
    expect(current_room(ada)).to_have_text("#general")
    expect(status(ada)).to_have_text("Connected as ada")
    expect(messages(ada).locator(".text")).to_have_text(["still in general"])


def test_unsent_message_waits_for_its_room(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A message typed offline in general goes to general once we are back there, never to maths."""
    ada = join(keep_sockets(open_page()), server, "ada")
    bob = join(open_page(), server, "bob")
    carol = join(open_page(), server, "carol", room="maths")

    go_offline(ada)
    say(ada, "for general only")
    expect(pending(ada).locator(".text")).to_have_text(["for general only"])

    go_to_room(ada, "maths")
    expect(ada.get_by_role("alert")).to_have_text(
        "1 message for #general will be sent when you come back to #general."
    )
    expect(pending(ada)).to_have_count(0)  # maths' list shows only maths
    ada.context.set_offline(False)
    expect(status(ada)).to_have_text("Connected as ada", timeout=RECONNECT_TIMEOUT)
    say(ada, "hello maths")
    # Had the general message gone to maths on connecting, it would come before this one.
    expect(messages(carol).locator(".text")).to_have_text(["hello maths"])

    rooms(ada).filter(has_text="#general").click()
    expect(messages(bob).locator(".text")).to_have_text(["for general only"])
    expect(messages(ada).locator(".text")).to_have_text(["for general only"])
    expect(pending(ada)).to_have_count(0)


def test_typing_shows_until_the_message_or_five_seconds(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Others see "bob is typing…" (bob does not); it goes when his message comes or after 5 s."""
    start = datetime(2026, 1, 5, 9, 0, 0)
    ada = open_page()
    ada.clock.install(time=start)  # ada's timers run only when the test says
    join(ada, server, "ada")
    ada.clock.pause_at(start + timedelta(minutes=1))
    bob = join(open_page(), server, "bob")
    carol = join(open_page(), server, "carol")

    composer(bob).press_sequentially("hel")
    expect(typing(ada)).to_have_text("bob is typing…")
    composer(carol).press_sequentially("wait")
    expect(typing(ada)).to_have_text("bob and carol are typing…")
    expect(typing(bob)).to_have_text("carol is typing…")  # never himself

    composer(bob).press_sequentially("lo")
    composer(bob).press("Enter")
    expect(messages(ada).locator(".text")).to_have_text(["hello"])
    # ada's clock stood still, so the message, not a timer, took bob off the line.
    expect(typing(ada)).to_have_text("carol is typing…")

    ada.clock.run_for(4_900)
    expect(typing(ada)).to_have_text("carol is typing…")
    ada.clock.run_for(200)  # 5 s since carol's last word
    expect(typing(ada)).to_have_text("")

    composer(bob).press_sequentially("again")  # just after his message: told at once
    expect(typing(ada)).to_have_text("bob is typing…")


def test_web_addresses_become_links_and_nothing_else(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """An http(s) address is a link opening a new tab without `opener`; javascript: stays text."""
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")
    target = f"{server.url}/?from=chat"
    text = f"read {target}, not javascript:alert(1) nor www.example.org"

    say(ada, text)
    message = messages(bob).locator(".text")
    expect(message).to_have_text([text])
    link = message.get_by_role("link")
    expect(link).to_have_count(1)
    expect(link).to_have_text(target)  # the comma after it is the sentence's
    expect(link).to_have_attribute("href", target)
    expect(link).to_have_attribute("target", "_blank")
    assert {"noopener", "noreferrer"} <= set(link.get_attribute("rel").split())

    with bob.expect_popup() as opened:
        link.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == target
    assert tab.evaluate("() => window.opener") is None


def test_unread_count_in_the_title_while_hidden(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Others' messages to a hidden tab show as "(2) Chat"; the count goes when it is seen again."""
    ada = join(control_visibility(open_page()), server, "ada")
    bob = join(open_page(), server, "bob")
    expect(ada).to_have_title("Chat")

    set_hidden(ada, True)
    say(bob, "one")
    say(bob, "two")
    expect(messages(ada)).to_have_count(2)
    expect(ada).to_have_title("(2) Chat")

    set_hidden(ada, False)
    expect(ada).to_have_title("Chat")
    say(bob, "three")  # seen as it arrives: nothing unread
    expect(messages(ada)).to_have_count(3)
    expect(ada).to_have_title("Chat")


def test_beep_only_when_turned_on_and_hidden(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """No sound unless the box is ticked; then a message to the hidden tab plays one beep."""
    ada = join(count_beeps(control_visibility(open_page())), server, "ada")
    bob = join(open_page(), server, "bob")
    sound = ada.get_by_label(SOUND)
    expect(sound).not_to_be_checked()

    set_hidden(ada, True)
    say(bob, "quiet")
    expect(ada).to_have_title("(1) Chat")
    assert ada.evaluate("() => window.testBeeps") == 0

    sound.check()
    say(bob, "loud")
    expect(ada).to_have_title("(2) Chat")
    assert ada.evaluate("() => window.testBeeps") == 1

    set_hidden(ada, False)
    say(bob, "seen")
    expect(messages(ada)).to_have_count(3)
    assert ada.evaluate("() => window.testBeeps") == 1
    ada.reload()
    expect(ada.get_by_label(SOUND)).to_be_checked()  # remembered


def test_invite_code_holds_the_printed_address(
    server: ChatServer, open_page: Callable[..., Page], tmp_path: Path
) -> None:
    """The Invite panel's QR code decodes to the URL run.py printed, plus "/#room" in a room."""
    printed = [line for line in server.banner
               if line.startswith("http://") and "#host=" not in line]  # the host link is apart
    assert printed == [server.url]  # --host 127.0.0.1: its only address
    ada = join(open_page(), server, "ada")
    invite = ada.get_by_role("button", name="Invite")
    expect(invite).to_have_attribute("aria-expanded", "false")
    invite.click()
    expect(invite).to_have_attribute("aria-expanded", "true")
    panel = ada.get_by_role("complementary", name="Invite classmates")
    expect(panel.get_by_role("link")).to_have_text(printed)

    code = panel.get_by_role("img", name=f"QR code for {server.url}", exact=True)
    assert decoded_qr(code, tmp_path) == server.url

    go_to_room(ada, "maths")
    in_maths = f"{server.url}/#maths"
    expect(panel.get_by_role("link")).to_have_text([in_maths])
    code = panel.get_by_role("img", name=f"QR code for {in_maths}", exact=True)
    assert decoded_qr(code, tmp_path) == in_maths

    invite.press("Escape")
    expect(panel).to_be_hidden()


def test_keyboard_alone_can_join_chat_and_change_rooms(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Join, send and change rooms with the keyboard only, seeing the focus ring at every stop."""
    ada = open_page()
    ada.goto(server.url)
    expect(ada.get_by_label("Your nickname")).to_be_focused()  # from the start: autofocus
    ada.keyboard.type("ada")
    ada.keyboard.press("Enter")
    expect(status(ada)).to_have_text("Connected as ada")
    ada.keyboard.type("typed, not clicked")  # the composer has the focus after joining
    ada.keyboard.press("Enter")
    expect(messages(ada).locator(".text")).to_have_text(["typed, not clicked"])

    tab_to(ada, ada.get_by_label("Go to room"))
    ada.keyboard.type("maths")
    ada.keyboard.press("Enter")
    expect(current_room(ada)).to_have_text("#maths")
    tab_to(ada, current_room(ada))
    tab_to(ada, ada.get_by_role("button", name="Invite"))
    ada.keyboard.press("Enter")
    expect(ada.get_by_role("complementary", name="Invite classmates")).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_axe_finds_nothing_serious(
    server: ChatServer, open_page: Callable[..., Page], viewport: dict[str, int], scheme: str
) -> None:
    """axe-core finds no serious or critical accessibility violation, before and after joining."""
    ada = open_page(viewport=viewport, color_scheme=scheme)
    ada.goto(server.url)
    assert serious_violations(ada) == []

    join(ada, server, "ada")
    bob = join(open_page(), server, "bob")
    say(bob, "the notes: https://example.org/notes 📝")
    say(ada, "thanks")
    composer(bob).press_sequentially("you're welcome")
    expect(typing(ada)).to_have_text("bob is typing…")
    expect(messages(ada)).to_have_count(2)
    ada.get_by_role("button", name="Invite").click()
    ada.get_by_text("Change nickname").click()
    go_to_room(ada, "not a room!")  # shows the notice too
    expect(ada.get_by_role("alert")).to_be_visible()
    assert serious_violations(ada) == []


def diagram() -> bytes:
    """Return a PNG picture a student might share: how a message travels."""
    picture = Image.new("RGB", (360, 120), (250, 250, 246))
    pen = ImageDraw.Draw(picture)
    for left, label in ((10, "ada's page"), (135, "server"), (260, "every page")):
        pen.rounded_rectangle((left, 40, left + 90, 80), radius=8, outline=(30, 90, 160),
                              width=3, fill=(222, 235, 250))
        pen.text((left + 12, 54), label, fill=(20, 40, 80))
    for left in (100, 225):
        pen.line((left + 2, 60, left + 33, 60), fill=(200, 60, 40), width=4)
        pen.polygon([(left + 35, 60), (left + 27, 54), (left + 27, 66)], fill=(200, 60, 40))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def message_menu(page: Page, text: str, item: str) -> None:
    """Open the menu of the message holding `text` and choose `item`."""
    message = messages(page).filter(has_text=text)
    message.get_by_role("button", name=re.compile("^Actions for the message by ")).click()
    page.get_by_role("menuitem", name=item, exact=True).click()


def test_screenshots_of_a_conversation(
    server: ChatServer, open_page: Callable[..., Page], tmp_path: Path
) -> None:
    """A class's conversation shows right: three scripts, code, maths, a reply, reactions, a
    picture, a link, no overflow (the README's pictures)."""
    # Writes the README's pictures only when asked (CHAT_SCREENSHOTS=docs), so a
    # plain `pytest` leaves the repository as it was.
    folder = DOCS if os.environ.get("CHAT_SCREENSHOTS") == "docs" else tmp_path
    ada = join(open_page(viewport={**DESKTOP, "height": 940}), server, "ada")  # all of it
    bob = join(open_page(), server, "bob")
    salma = join(open_page(), server, "سلمى")
    li = join(open_page(), server, "李娜")
    code = ("My broadcast loop:\n```python\nfor waiter in list(cls.waiters):  # a copy\n"
            "    waiter.write_message(frame)\n```")
    conversation = [
        (ada, "Has anyone finished exercise 3? 🤔"),
        (bob, code),
        (salma, "مرحبا! انتهيت أيضاً، شكراً 🙏"),
    ]
    for page, text in conversation:
        say(page, text)
        expect(messages(ada)).to_have_count(conversation.index((page, text)) + 1)
    for page, emoji in ((ada, "👍"), (salma, "👍"), (li, "🎉")):
        message_menu(page, "My broadcast loop", "React…")
        page.get_by_role("menuitem", name=emoji, exact=True).click()
    message_menu(li, "My broadcast loop", "Reply")
    say(li, "Why the copy? 我也做完了 🎉")
    with li.expect_file_chooser() as chooser:
        li.get_by_role("button", name="Attach a file").click()
    composer(li).fill("How a message travels, for $n$ pages: $O(n)$ writes")
    chooser.value.set_files(files=[{"name": "travels.png", "mimeType": "image/png",
                                    "buffer": diagram()}])
    say(ada, "The docs: https://www.tornadoweb.org/en/stable/websocket.html, see you in #maths 🍕")
    expect(messages(ada)).to_have_count(6)
    picture = messages(ada).locator("img.attachment-image, .attachment img").first
    expect(picture).to_be_visible()
    ada.wait_for_function("(image) => image.complete && image.naturalWidth > 0",
                          arg=picture.element_handle())
    expect(messages(ada).locator(".reply")).to_contain_text(  # the fences are not quoted
        "bob: My broadcast loop: for waiter in list(cls.waiters):")
    expect(messages(ada).locator(".reaction")).to_have_count(2)
    expect(messages(ada).locator("pre code.hljs")).to_have_count(1)
    expect(messages(ada).locator(".katex")).to_have_count(2)
    composer(bob).press_sequentially("Sure")
    expect(typing(ada)).to_have_text("bob is typing…")

    arabic = messages(ada).filter(has_text="مرحبا").locator(".text")
    assert arabic.evaluate("(element) => element.matches(':dir(rtl)')")
    assert messages(ada).filter(has_text="exercise 3").locator(".text").evaluate(
        "(element) => element.matches(':dir(ltr)')"
    )
    expect(messages(ada).locator(".text").get_by_role("link")).to_have_text(
        ["https://www.tornadoweb.org/en/stable/websocket.html"]
    )
    assert overflow(ada) == {"page": 0, "messages": 0}
    ada.screenshot(path=folder / "screenshot-desktop.png")

    ada.set_viewport_size(PHONE)
    expect(messages(ada).last).to_be_in_viewport()
    expect(typing(ada)).to_have_text("bob is typing…")
    assert overflow(ada) == {"page": 0, "messages": 0}
    ada.screenshot(path=folder / "screenshot-phone.png")
    assert (folder / "screenshot-phone.png").stat().st_size > 0
