"""What the browser tests share: Chromium, chat servers run by run.py, pages, and helpers.

Debian's /usr/bin/chromium is driven by Playwright; no browser is ever
downloaded. Without it the tests skip, except under CI=true where they fail.
A test module imports the fixtures it names (browser, start_server,
open_page) and the helpers that drive the real page as a person would.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from servers import ChatServer, free_port

CHROMIUM = Path("/usr/bin/chromium")
RECONNECT_TIMEOUT = 15_000  # ms: the page's back-off is at most 10 s between tries
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-gpu",
]


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
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Open pages, each in its own browser context: separate people, separate localStorage.

    Keyword arguments go to the context, e.g. viewport=PHONE or color_scheme="dark".
    """
    contexts = []

    def open_one(**options: Any) -> Page:
        context = browser.new_context(**options)
        contexts.append(context)
        return context.new_page()

    yield open_one
    for context in contexts:
        context.close()


def join(page: Page, server: ChatServer, nick: str, room: str = "") -> Page:
    """Open the chat (in `room`, if given), join as `nick` and wait until the server welcomed us."""
    page.goto(server.url + (f"/#{room}" if room else ""))
    page.get_by_label("Your nickname").fill(nick)
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_test_id("status")).to_have_text(f"Connected as {nick}")
    return page


def record_dialogs(page: Page) -> list[str]:
    """Return a list that fills with every dialog (alert, confirm) the page opens, dismissed."""
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return dialogs


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


def online(page: Page) -> Locator:
    """Return the nicknames in the page's online list."""
    return page.get_by_test_id("online").locator("li")


def serious_violations(page: Page) -> list[str]:
    """Run axe-core (bundled in axe-playwright-python) on the page; return its serious findings."""
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def tab_to(page: Page, target: Locator, limit: int = 30) -> None:
    """Press Tab until `target` has the focus; each stop on the way must show a focus ring."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        ring = page.evaluate(
            """() => {
                if (document.activeElement === document.body) return true;  // past the last stop
                const style = getComputedStyle(document.activeElement);
                return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
            }"""
        )
        focused = page.evaluate("() => document.activeElement.outerHTML.slice(0, 80)")
        assert ring, f"no visible focus ring on {focused}"
        if target.evaluate("(element) => element === document.activeElement"):
            return
    pytest.fail(f"{target} not reached with {limit} presses of Tab")


def keep_sockets(page: Page) -> Page:
    """Make the page record every WebSocket it opens (window.testSockets), so a test can drop one.

    Call before join(): the script runs in each new document before the page's modules.
    """
    page.add_init_script(
        "window.testSockets = []; const PageWebSocket = window.WebSocket;"
        " window.WebSocket = class extends PageWebSocket {"
        " constructor(...args) { super(...args); window.testSockets.push(this); } };"
    )
    return page


def go_offline(page: Page) -> None:
    """Cut the page off the network until set_offline(False), and wait until it says so.

    Offline alone leaves an open WebSocket open in Chromium (it only stops new
    connections), so drop the socket too; reconnecting then fails until online.
    """
    page.context.set_offline(True)
    drop_socket(page)
    expect(status(page)).to_contain_text("Disconnected")


def drop_socket(page: Page) -> None:
    """Close the page's current chat socket from inside the page, as a dropped network would."""
    page.evaluate("() => window.testSockets.at(-1).close()")


def control_visibility(page: Page) -> Page:
    """Let the test hide and show the page with set_hidden(); call before join().

    Headless Chromium reports every page as visible, even behind another tab,
    so the page's document.hidden and visibilityState are overridden instead.
    """
    page.add_init_script(
        """window.testSetHidden = (hidden) => {
            Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
            Object.defineProperty(document, "visibilityState",
                { configurable: true, get: () => (hidden ? "hidden" : "visible") });
            document.dispatchEvent(new Event("visibilitychange"));
        };"""
    )
    return page


def set_hidden(page: Page, hidden: bool) -> None:
    """Make the page hidden (another tab in front) or visible again, and tell it so."""
    page.evaluate("(hidden) => window.testSetHidden(hidden)", hidden)


def count_beeps(page: Page) -> Page:
    """Make the page count the tones it starts (window.testBeeps); call before join()."""
    page.add_init_script(
        """window.testBeeps = 0;
        const startTone = OscillatorNode.prototype.start;
        OscillatorNode.prototype.start = function (...args) {
            window.testBeeps += 1;
            return startTone.apply(this, args);
        };"""
    )
    return page


def record_notifications(page: Page) -> Page:
    """Grant the page notifications and record each one it shows (window.testNotifications).

    Call before join(). The browser's Notification is replaced by one that
    records its title and options, and counts the permission requests
    (window.testPermissionAsked): a headless browser shows none anyway. Its
    permission is "default" until asked, then "granted" for the tab's life
    (sessionStorage), as a person's answer to the browser's question would be.
    """
    page.context.grant_permissions(["notifications"])
    page.add_init_script(
        """window.testNotifications = []; window.testPermissionAsked = 0;
        window.Notification = class extends EventTarget {
            static get permission() {
                return sessionStorage.getItem("testPermission") || "default";
            }
            static async requestPermission() {
                window.testPermissionAsked += 1;
                sessionStorage.setItem("testPermission", "granted");
                return "granted";
            }
            constructor(title, options = {}) {
                super();
                window.testNotifications.push({ title, body: options.body || "" });
            }
        };"""
    )
    return page
