"""Browser tests: the real page in headless Chromium against run.py in a subprocess.

Debian's /usr/bin/chromium is driven by Playwright; no browser is ever
downloaded. Without it these tests skip, except under CI=true where they fail.
No sleeps: every wait is Playwright's expect() or the server's own output.
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from servers import ChatServer, free_port

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-gpu",
]
RECONNECT_TIMEOUT = 15_000  # ms: the page's back-off is at most 10 s between tries
RESTARTING = "Server restarting — reconnecting…"  # the status after close code 1001
XSS = "<img src=x onerror=alert(1)>"
CLOCK = re.compile(r"^\d{1,2}[:.]\d{2}")  # a local time of day: 14:03, 2:03 PM, 14.03


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Launch Debian's Chromium once for this module; skip (or fail under CI) without it."""
    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); "
            "these tests never download a browser"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., ChatServer]]:
    """Start chat servers with these run.py options on free ports; stop them by PID afterwards."""
    servers = []

    def start(*options: str) -> ChatServer:
        chat_server = ChatServer(free_port(), tmp_path / "server.log", *options)
        servers.append(chat_server)
        chat_server.start()
        return chat_server

    yield start
    for chat_server in servers:
        chat_server.stop()


@pytest.fixture
def server(start_server: Callable[..., ChatServer]) -> ChatServer:
    """A fresh chat server (empty history, in the test's own chat.db) on a free port."""
    return start_server()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[[], Page]]:
    """Open pages, each in its own browser context: separate people, separate localStorage."""
    contexts = []

    def open_one() -> Page:
        context = browser.new_context()
        contexts.append(context)
        return context.new_page()

    yield open_one
    for context in contexts:
        context.close()


def join(page: Page, server: ChatServer, nick: str) -> Page:
    """Open the chat, join as `nick` and wait until the server has welcomed us."""
    page.goto(server.url)
    page.get_by_label("Your nickname").fill(nick)
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_test_id("status")).to_have_text(f"Connected as {nick}")
    return page


def say(page: Page, text: str) -> None:
    """Type `text` in the composer and press Enter to send it."""
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_label("Message", exact=True).press("Enter")


def messages(page: Page) -> Locator:
    """Return the chat messages the server sent (not system lines, not pending ones)."""
    return page.get_by_test_id("messages").locator(".message:not(.pending)")


def pending(page: Page) -> Locator:
    """Return our messages still waiting for the server's ack."""
    return page.get_by_test_id("messages").locator(".message.pending")


def status(page: Page) -> Locator:
    """Return the connection status line."""
    return page.get_by_test_id("status")


def composer(page: Page) -> Locator:
    """Return the box messages are typed in."""
    return page.get_by_label("Message", exact=True)


def keep_sockets(page: Page) -> Page:
    """Make the page record every WebSocket it opens (window.testSockets), so a test can drop one.

    Call before join(): the script runs in each new document before chat.js.
    """
    page.add_init_script(
        "window.testSockets = []; const PageWebSocket = window.WebSocket;"
        " window.WebSocket = class extends PageWebSocket {"
        " constructor(...args) { super(...args); window.testSockets.push(this); } };"
    )
    return page


def drop_socket(page: Page) -> None:
    """Close the page's current chat socket from inside the page, as a dropped network would."""
    page.evaluate("() => window.testSockets.at(-1).close()")


def online(page: Page) -> Locator:
    """Return the nicknames in the page's online list."""
    return page.get_by_test_id("online").locator("li")


def test_two_people_chat_both_ways(server: ChatServer, open_page: Callable[[], Page]) -> None:
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


def test_html_in_a_message_is_shown_as_text(
    server: ChatServer, open_page: Callable[[], Page]
) -> None:
    """A message and a nickname written as HTML show as literal text and run nothing."""
    reader = open_page()
    dialogs: list[str] = []
    reader.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
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
    start_server: Callable[..., ChatServer], open_page: Callable[[], Page]
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


def test_reconnect_shows_history_once(server: ChatServer, open_page: Callable[[], Page]) -> None:
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
    start_server: Callable[..., ChatServer], open_page: Callable[[], Page]
) -> None:
    """A page that was offline while others chatted gets every message it missed, once each."""
    # A newcomer's history holds 2 messages: more than that back proves the page asked `since`.
    server = start_server("--history", "2")
    ada = join(open_page(), server, "ada")
    bob = join(keep_sockets(open_page()), server, "bob")
    say(ada, "before")
    expect(messages(bob).locator(".text")).to_have_text(["before"])

    # Offline alone leaves an open WebSocket open in Chromium: it only stops new
    # connections. So go offline, then drop the socket; reconnecting fails until online.
    bob.context.set_offline(True)
    drop_socket(bob)
    expect(status(bob)).to_contain_text("Disconnected")
    missed = ["missed 1", "missed 2", "missed 3"]
    for text in missed:
        say(ada, text)
    expect(messages(ada).locator(".text")).to_have_text(["before", *missed])

    bob.context.set_offline(False)
    expect(status(bob)).to_have_text("Connected as bob", timeout=RECONNECT_TIMEOUT)
    expect(messages(bob).locator(".text")).to_have_text(["before", *missed])
    expect(messages(bob).locator(".nick")).to_have_text(["ada"] * 4)


def test_page_says_when_it_missed_too_much(
    start_server: Callable[..., ChatServer], open_page: Callable[[], Page]
) -> None:
    """Back after more than 1000 messages, a page says some were missed and shows the rest once."""
    server = start_server("--rate", "0")
    ada = join(open_page(), server, "ada")
    bob = join(keep_sockets(open_page()), server, "bob")
    say(ada, "before")
    expect(messages(bob).locator(".text")).to_have_text(["before"])

    bob.context.set_offline(True)
    drop_socket(bob)
    expect(status(bob)).to_contain_text("Disconnected")
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
    start_server: Callable[..., ChatServer], open_page: Callable[[], Page], tmp_path: Path
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
    start_server: Callable[..., ChatServer], open_page: Callable[[], Page]
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


def test_refused_message_comes_back_to_the_composer(
    server: ChatServer, open_page: Callable[[], Page]
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


def test_newcomer_sees_history(server: ChatServer, open_page: Callable[[], Page]) -> None:
    """Someone who joins later sees the earlier messages from the welcome's history."""
    ada = join(open_page(), server, "ada")
    say(ada, "said before bob came")
    expect(messages(ada)).to_have_count(1)

    bob = join(open_page(), server, "bob")
    expect(messages(bob).locator(".text")).to_have_text(["said before bob came"])
    expect(messages(bob).locator(".nick")).to_have_text(["ada"])


def test_nickname_is_remembered(server: ChatServer, open_page: Callable[[], Page]) -> None:
    """The nickname chosen once is prefilled in the join form after a reload."""
    page = join(open_page(), server, "ada")

    page.reload()
    expect(page.get_by_label("Your nickname")).to_have_value("ada")


def test_nickname_change_is_shown_and_remembered(
    server: ChatServer, open_page: Callable[[], Page]
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
    server: ChatServer, open_page: Callable[[], Page]
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
    server: ChatServer, open_page: Callable[[], Page]
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
