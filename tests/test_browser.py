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
def server(tmp_path: Path) -> Iterator[ChatServer]:
    """A fresh chat server (empty history) on a free port, stopped by PID afterwards."""
    chat_server = ChatServer(free_port(), tmp_path / "server.log")
    chat_server.start()
    yield chat_server
    chat_server.stop()


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
    """Return the chat messages on the page (not the system lines)."""
    return page.get_by_test_id("messages").locator(".message")


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
    server: ChatServer, open_page: Callable[[], Page]
) -> None:
    """After the server restarts on the same port the page reconnects by itself and chats."""
    ada = join(open_page(), server, "ada")

    server.stop()
    expect(ada.get_by_test_id("status")).to_contain_text("Disconnected")
    server.start()
    expect(ada.get_by_test_id("status")).to_have_text(
        "Connected as ada", timeout=RECONNECT_TIMEOUT
    )

    bob = join(open_page(), server, "bob")
    say(ada, "back again")
    expect(messages(bob).filter(has_text="back again").locator(".nick")).to_have_text("ada")


def test_reconnect_shows_history_once(server: ChatServer, open_page: Callable[[], Page]) -> None:
    """A reconnect replaces the message list with the welcome's history instead of adding to it."""
    ada = open_page()
    # Keep a handle on every socket the page opens, so the test can drop one.
    ada.add_init_script(
        "window.testSockets = []; const PageWebSocket = window.WebSocket;"
        " window.WebSocket = class extends PageWebSocket {"
        " constructor(...args) { super(...args); window.testSockets.push(this); } };"
    )
    join(ada, server, "ada")
    say(ada, "first")
    say(ada, "second")
    expect(messages(ada).locator(".text")).to_have_text(["first", "second"])

    ada.evaluate("() => window.testSockets.at(-1).close()")
    expect(ada.get_by_test_id("status")).to_contain_text("Disconnected")
    expect(ada.get_by_test_id("status")).to_have_text(
        "Connected as ada", timeout=RECONNECT_TIMEOUT
    )
    expect(messages(ada).locator(".text")).to_have_text(["first", "second"])


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
