"""Browser tests of the host's page: the host link's key, the badges, the log's entries
shown to everyone, the host's menus and controls, and what everyone else sees.

The real page in headless Chromium (tests/browser_pages.py) against run.py with
a known `--host-key`. No sleeps: every wait is Playwright's expect().
"""

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from browser_pages import (
    RECONNECT_TIMEOUT,
    browser,  # noqa: F401 (a fixture)
    composer,
    go_offline,
    join,
    keep_sockets,
    messages,
    online,
    open_page,  # noqa: F401 (a fixture)
    say,
    serious_violations,
    start_server,  # noqa: F401 (a fixture)
    status,
    tab_to,
)
from playwright.sync_api import Dialog, Locator, Page, expect
from servers import ChatServer

pytestmark = pytest.mark.browser

KEY = "test-host-key-0123456789abcdef"  # what run.py's --host-key takes: 22+ URL-safe characters
KEY_REFUSED = "This page's host key is not the host key (any more)"
SLOW_TIMEOUT = 15_000  # ms: a message held by 10 s of slow mode, then sent again


@pytest.fixture
def server(start_server: Callable[..., ChatServer]) -> ChatServer:
    """A chat server with a known host key; no flood limit (every page shares 127.0.0.1)."""
    return start_server("--host-key", KEY, "--rate", "0")


def record_frames(page: Page) -> list[str]:
    """Return a list that fills with every frame the page sends over its sockets."""
    sent: list[str] = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda frame: sent.append(frame)))
    return sent


def join_as_host(page: Page, server: ChatServer, nick: str, fragment: str = f"#host={KEY}"
                 ) -> Page:
    """Open the host link (or `fragment`), join as `nick` and wait until the controls show."""
    page.goto(f"{server.url}/{fragment}")
    return join_here(page, nick)


def join_here(page: Page, nick: str) -> Page:
    """Join the page already open as `nick`, a host: wait until the controls show."""
    page.get_by_label("Your nickname").fill(nick)
    page.get_by_role("button", name="Join").click()
    expect(status(page)).to_have_text(f"Connected as {nick}")
    expect(host_tools(page)).to_be_visible()
    return page


def host_tools(page: Page) -> Locator:
    """Return the room's controls, shown to hosts only."""
    return page.get_by_role("region", name="Host controls")


def message_menu(page: Page, text: str) -> Locator:
    """Return the menu button of the message with this text."""
    return messages(page).filter(has_text=text).get_by_role(
        "button", name=re.compile("^Actions for the message by "))


def person_menu(page: Page, nick: str) -> Locator:
    """Return the menu button beside `nick` in the online list."""
    return page.get_by_test_id("online").get_by_role("button", name=f"Actions for {nick}",
                                                     exact=True)


def choose(page: Page, menu: Locator, item: str) -> None:
    """Open a menu with a click and click one of its items."""
    menu.click()
    page.get_by_role("menuitem", name=item, exact=True).click()


def system_lines(page: Page) -> Locator:
    """Return the lines about the room in the message list."""
    return page.get_by_test_id("messages").locator(".system")


def badge(item: Locator, word: str) -> Locator:
    """Return the badge ("host", "muted") in a name's line or a message."""
    return item.locator(".badge", has_text=word)


def person(page: Page, nick: str) -> Locator:
    """Return `nick`'s line in the online list."""
    return online(page).filter(has=page.locator(".name", has_text=re.compile(f"^{nick}$")))


def test_host_link_key_leaves_the_address_bar_and_goes_over_the_socket_only(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Opening /#host=KEY keeps the key in localStorage, takes it out of the address and the
    page, and presents it after the welcome in a `host` frame, never in the socket's URL."""
    teacher = open_page()
    logged: list[str] = []
    teacher.on("console", lambda line: logged.append(line.text))
    sockets: list[str] = []
    teacher.on("websocket", lambda socket: sockets.append(socket.url))
    sent = record_frames(teacher)

    teacher.goto(f"{server.url}/#host={KEY}")
    expect(teacher).to_have_url(f"{server.url}/#general")
    assert teacher.evaluate("() => localStorage.getItem('chat.hostKey')") == KEY
    # about:blank, then the chat: the key's address was replaced, not kept to go back to.
    assert teacher.evaluate("() => history.length") == 2
    join_here(teacher, "teacher")
    expect(badge(person(teacher, "teacher"), "host")).to_be_visible()

    assert json.dumps({"type": "host", "key": KEY}, separators=(",", ":")) in sent
    assert sockets and all(KEY not in url for url in sockets)
    assert KEY not in teacher.content() and KEY not in teacher.title()
    assert all(KEY not in line for line in logged)
    teacher.reload()  # the key stays in this browser: the host link is opened once
    expect(teacher).to_have_url(f"{server.url}/#general")
    join_here(teacher, "teacher")


def test_a_host_link_can_name_a_room_too(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """#maths&host=KEY opens #maths as its host; a key pasted into an open page keeps its room."""
    teacher = open_page()
    join_as_host(teacher, server, "teacher", fragment=f"#maths&host={KEY}")
    expect(teacher).to_have_url(f"{server.url}/#maths")
    expect(teacher.get_by_test_id("room-heading")).to_have_text("#maths")

    bob = join(open_page(), server, "bob", room="art")
    expect(host_tools(bob)).to_be_hidden()
    bob.evaluate(f"() => {{ location.hash = 'host={KEY}'; }}")  # pasted into the address bar
    expect(host_tools(bob)).to_be_visible()
    expect(bob).to_have_url(f"{server.url}/#art")
    expect(badge(person(bob, "bob"), "host")).to_be_visible()
    expect(bob.get_by_role("alert")).to_be_hidden()  # "host=..." was never taken for a room


def test_everyone_sees_who_the_hosts_are(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A second page shows the host's badge in the online list and on the host's messages."""
    teacher = join_as_host(open_page(), server, "teacher")
    say(teacher, "welcome, everyone")
    bob = join(open_page(), server, "bob")
    expect(badge(person(bob, "teacher"), "host")).to_be_visible()  # from the welcome's `hosts`
    expect(badge(person(bob, "bob"), "host")).to_have_count(0)
    expect(badge(messages(bob).filter(has_text="welcome, everyone"), "host")).to_be_visible()

    carol = join(open_page(), server, "carol")
    say(carol, "hi")
    expect(badge(messages(bob).filter(has_text="hi"), "host")).to_have_count(0)
    teacher.reload()  # the host leaves and comes back: the live `hosts` events follow
    expect(badge(person(bob, "teacher"), "host")).to_have_count(0)
    join_here(teacher, "teacher")
    expect(badge(person(bob, "teacher"), "host")).to_be_visible()


def test_host_deletes_pins_sets_the_topic_and_mutes_while_others_watch(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Each of the host's acts reaches the other page as it happens; the muted page's post is
    refused and its text comes back to its composer."""
    teacher = join_as_host(open_page(), server, "teacher")
    bob = join(open_page(), server, "bob")
    for text in ("oops, wrong room", "Homework: chapter 3"):
        say(bob, text)
    expect(messages(teacher).locator(".text")).to_have_text(["oops, wrong room",
                                                              "Homework: chapter 3"])

    choose(teacher, message_menu(teacher, "oops"), "Delete")
    expect(messages(bob).locator(".text")).to_have_text(["Homework: chapter 3"])
    expect(messages(teacher).locator(".text")).to_have_text(["Homework: chapter 3"])

    choose(teacher, message_menu(teacher, "Homework"), "Pin")
    pinned = bob.get_by_test_id("pinned")
    expect(pinned).to_have_text("Pinned: bob: Homework: chapter 3")
    expect(pinned.get_by_role("button")).to_have_count(0)  # only a host may unpin
    expect(system_lines(bob).last).to_have_text("teacher pinned a message by bob")

    host_tools(teacher).get_by_label("Topic").fill("WebSockets, week 2")
    host_tools(teacher).get_by_role("button", name="Set topic").click()
    expect(bob.get_by_test_id("topic")).to_have_text("Topic: WebSockets, week 2")
    expect(system_lines(bob).last).to_have_text("teacher set the topic: WebSockets, week 2")

    choose(teacher, person_menu(teacher, "bob"), "Mute for 5 minutes")
    expect(system_lines(bob).last).to_contain_text("teacher muted bob until")
    expect(badge(person(bob, "bob"), "muted")).to_be_visible()
    expect(badge(person(teacher, "bob"), "muted")).to_be_visible()
    carol = join(open_page(), server, "carol")  # a newcomer's welcome carries the standing
    expect(badge(person(carol, "bob"), "muted")).to_be_visible()
    expect(badge(person(carol, "teacher"), "host")).to_be_visible()
    expect(carol.get_by_test_id("topic")).to_have_text("Topic: WebSockets, week 2")
    expect(carol.get_by_test_id("pinned")).to_have_text("Pinned: bob: Homework: chapter 3")

    say(bob, "but I have a question")
    expect(bob.get_by_role("alert")).to_contain_text("A host muted you")
    expect(bob.get_by_role("alert")).to_contain_text("(until ")
    expect(composer(bob)).to_have_value("but I have a question")
    expect(messages(teacher).locator(".text")).to_have_text(["Homework: chapter 3"])

    choose(teacher, person_menu(teacher, "bob"), "Unmute")  # the menu follows: muted, so Unmute
    expect(badge(person(carol, "bob"), "muted")).to_have_count(0)
    expect(badge(person(bob, "bob"), "muted")).to_have_count(0)
    composer(bob).press("Enter")
    expect(messages(teacher).locator(".text").last).to_have_text("but I have a question")

    choose(teacher, message_menu(teacher, "Homework"), "Delete")  # deleting unpins it
    expect(carol.get_by_test_id("pinned")).to_be_hidden()


def test_a_page_that_was_away_gets_the_delete(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A delete made while a page was offline removes the message when it catches up (`since`);
    a newcomer never sees the message at all."""
    teacher = join_as_host(open_page(), server, "teacher")
    bob = join(keep_sockets(open_page()), server, "bob")
    say(teacher, "keep this")
    say(teacher, "remove this")
    expect(messages(bob)).to_have_count(2)

    go_offline(bob)
    choose(teacher, message_menu(teacher, "remove this"), "Delete")
    expect(messages(teacher).locator(".text")).to_have_text(["keep this"])
    bob.context.set_offline(False)
    expect(status(bob)).to_have_text("Connected as bob", timeout=RECONNECT_TIMEOUT)
    assert "since=" in bob.evaluate("() => window.testSockets.at(-1).url")
    expect(messages(bob).locator(".text")).to_have_text(["keep this"])
    carol = join(open_page(), server, "carol")
    expect(messages(carol).locator(".text")).to_have_text(["keep this"])


def test_lock_and_slow_mode_are_shown_and_refused_posts_keep_their_text(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Locked: everyone sees it, a post is refused and comes back. Slow mode: a post sent too
    soon is held and goes by itself once the wait is over, without coming back."""
    teacher = join_as_host(open_page(), server, "teacher")
    bob = join(open_page(), server, "bob")
    host_tools(teacher).get_by_role("button", name="Lock the room").click()
    expect(bob.get_by_test_id("rules")).to_have_text("The room is locked: only hosts may post.")
    expect(host_tools(teacher).get_by_role("button", name="Unlock the room")).to_be_visible()
    say(bob, "may I?")
    expect(bob.get_by_role("alert")).to_contain_text("locked")
    expect(composer(bob)).to_have_value("may I?")
    say(teacher, "hosts still may")
    expect(messages(bob).locator(".text")).to_have_text(["hosts still may"])

    host_tools(teacher).get_by_role("button", name="Unlock the room").click()
    expect(bob.get_by_test_id("rules")).to_be_hidden()
    host_tools(teacher).get_by_label("Slow mode").select_option("10")
    host_tools(teacher).get_by_role("button", name="Set slow mode").click()
    expect(bob.get_by_test_id("rules")).to_have_text(
        "Slow mode: one message every 10 s per person.")
    host_tools(teacher).get_by_role("button", name="Lock the room").click()
    carol = join(open_page(), server, "carol")  # a newcomer's welcome carries both
    expect(carol.get_by_test_id("rules")).to_have_text(
        "The room is locked: only hosts may post. Slow mode: one message every 10 s per person.")
    host_tools(teacher).get_by_role("button", name="Unlock the room").click()
    expect(carol.get_by_test_id("rules")).to_have_text(
        "Slow mode: one message every 10 s per person.")
    composer(bob).fill("")
    say(bob, "first")
    expect(messages(teacher).locator(".text").last).to_have_text("first")
    say(bob, "second, too soon")
    expect(bob.get_by_role("alert")).to_contain_text("Slow mode")
    expect(composer(bob)).to_have_value("")  # held, not given back
    expect(messages(teacher).locator(".text").last).to_have_text("second, too soon",
                                                                timeout=SLOW_TIMEOUT)
    expect(bob.get_by_role("alert")).to_be_hidden()  # nothing waits any more


def test_kicked_page_says_why_and_stops_knocking(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A kick closes bob's page with the server's reason and the room is told; bob's page does
    not reconnect over and over into a room that refuses it."""
    # The server closes every connection from the kicked person's address but the key
    # holder's, and every page here comes from 127.0.0.1: the host's page is the witness.
    teacher = join_as_host(open_page(), server, "teacher")
    bob = keep_sockets(open_page())
    bob.clock.install()  # its timers run when the test says: a reconnect would be one
    join(bob, server, "bob")
    choose(teacher, person_menu(teacher, "bob"), "Kick for 5 minutes")
    expect(system_lines(teacher).filter(has_text="removed")).to_contain_text(
        ["teacher removed bob from the room until"])
    expect(online(teacher).locator(".name")).to_have_text(["teacher"])
    expect(status(bob)).to_have_text(
        "A host removed you from #general; you may come back in 5 minutes.")
    expect(bob.get_by_role("alert")).to_contain_text("you may come back in 5 minutes")
    bob.clock.run_for(60_000)  # longer than the longest back-off between reconnects
    assert bob.evaluate("() => window.testSockets.length") == 1


def test_a_page_that_is_no_host_shows_no_host_control(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Without the key: no room controls, no menu on names, only Reply and React on others'
    messages; Edit and Delete too on one's own messages, and Delete works."""
    teacher = join_as_host(open_page(), server, "teacher")
    say(teacher, "from the host")
    bob = join(open_page(), server, "bob")
    say(bob, "my own words")
    expect(messages(bob)).to_have_count(2)

    expect(host_tools(bob)).to_be_hidden()
    expect(bob.get_by_test_id("online").get_by_role("button")).to_have_count(0)
    message_menu(bob, "from the host").click()
    expect(bob.get_by_role("menuitem")).to_have_text(["Reply", "React…"])
    bob.keyboard.press("Escape")
    expect(message_menu(teacher, "my own words")).to_be_visible()  # the host's, for comparison
    own = message_menu(bob, "my own words")
    own.click()
    expect(bob.get_by_role("menuitem")).to_have_text(["Reply", "React…", "Edit", "Delete"])
    bob.get_by_role("menuitem", name="Delete").click()
    expect(messages(teacher).locator(".text")).to_have_text(["from the host"])


def test_a_wrong_key_is_forgotten_and_said_once(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A host link with a wrong key: the page says so once, drops the key, shows no controls."""
    guest = open_page()
    guest.goto(f"{server.url}/#host=not-the-key-but-long-enough")
    expect(guest).to_have_url(f"{server.url}/#general")
    guest.get_by_label("Your nickname").fill("guest")
    guest.get_by_role("button", name="Join").click()
    expect(guest.get_by_role("alert")).to_contain_text(KEY_REFUSED)
    assert guest.evaluate("() => localStorage.getItem('chat.hostKey')") is None
    expect(host_tools(guest)).to_be_hidden()
    expect(badge(person(guest, "guest"), "host")).to_have_count(0)

    sent = record_frames(guest)
    guest.reload()
    join(guest, server, "guest")
    say(guest, "just a guest")
    expect(messages(guest).locator(".text")).to_have_text(["just a guest"])
    assert not any('"host"' in frame for frame in sent)  # the forgotten key is never sent again
    expect(guest.get_by_role("alert")).to_be_hidden()


def test_host_stays_host_after_a_reconnect_that_takes_the_nickname_over(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """The page loses its socket but the server has not noticed: the new socket takes the
    nickname over, presents the key again, and the page keeps its controls and badge."""
    teacher = join_as_host(keep_sockets(open_page()), server, "teacher")
    bob = join(open_page(), server, "bob")
    say(bob, "still there?")
    expect(messages(teacher)).to_have_count(1)
    # The page hears its socket close; the server still holds it open (a dead network).
    teacher.evaluate(
        "() => window.testSockets.at(-1).dispatchEvent(new CloseEvent('close', { code: 1006 }))")
    expect(status(teacher)).to_have_text("Connected as teacher", timeout=RECONNECT_TIMEOUT)
    assert teacher.evaluate("() => window.testSockets.length") == 2
    expect(host_tools(teacher)).to_be_visible()
    expect(badge(person(teacher, "teacher"), "host")).to_be_visible()
    expect(badge(person(bob, "teacher"), "host")).to_be_visible()
    choose(teacher, message_menu(teacher, "still there?"), "Delete")  # only a host may
    expect(messages(bob)).to_have_count(0)
    expect(teacher.get_by_role("alert")).to_be_hidden()


def test_the_key_holder_makes_a_host_and_takes_it_back(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Made host, bob gets a host's badge and controls (not the key holder's own: no "Make
    host", no export); "Remove host" takes them away again."""
    teacher = join_as_host(open_page(), server, "teacher")
    bob = join(open_page(), server, "bob")
    carol = join(open_page(), server, "carol")
    choose(teacher, person_menu(teacher, "bob"), "Make host")
    expect(system_lines(carol).last).to_have_text("teacher made bob a host")
    expect(badge(person(carol, "bob"), "host")).to_be_visible()
    expect(host_tools(bob)).to_be_visible()
    expect(host_tools(bob).get_by_role("button", name="Markdown")).to_be_hidden()
    person_menu(bob, "carol").click()
    expect(bob.get_by_role("menuitem")).to_have_text(
        ["Mute for 5 minutes", "Mute for 1 hour", "Kick for 5 minutes", "Ban from the chat…"])
    bob.keyboard.press("Escape")
    person_menu(teacher, "bob").click()  # a host posts whatever a mute says: none offered
    expect(teacher.get_by_role("menuitem")).to_have_text(
        ["Kick for 5 minutes", "Ban from the chat…", "Remove host"])

    teacher.get_by_role("menuitem", name="Remove host").click()
    expect(system_lines(carol).last).to_have_text("teacher took host away from bob")
    expect(host_tools(bob)).to_be_hidden()
    expect(bob.get_by_test_id("online").get_by_role("button")).to_have_count(0)
    expect(badge(person(carol, "bob"), "host")).to_have_count(0)


def test_the_servers_refusal_of_a_host_command_shows_as_a_notice(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A command the server refuses (lifting a ban nobody has) says why; the page goes on."""
    teacher = join_as_host(open_page(), server, "teacher")
    host_tools(teacher).get_by_label("Lift a ban on").fill("nobody")
    host_tools(teacher).get_by_role("button", name="Unban").click()
    expect(teacher.get_by_role("alert")).to_have_text("'nobody' is not banned.")
    say(teacher, "carry on")
    expect(messages(teacher).locator(".text")).to_have_text(["carry on"])


def test_clear_asks_first(server: ChatServer, open_page: Callable[..., Page]) -> None:
    """Clear asks for confirmation: cancelled, nothing goes; confirmed, every page is emptied."""
    teacher = join_as_host(open_page(), server, "teacher")
    bob = join(open_page(), server, "bob")
    say(bob, "one")
    say(bob, "two")
    expect(messages(teacher)).to_have_count(2)
    asked: list[str] = []

    def answer(dialog: Dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    teacher.once("dialog", lambda dialog: answer(dialog, False))
    host_tools(teacher).get_by_role("button", name="Clear the room").click()
    expect(system_lines(teacher).last).to_have_text("bob joined")  # nothing happened
    assert asked == ["Clear every message of #general for everyone?"]
    expect(messages(bob)).to_have_count(2)

    teacher.once("dialog", lambda dialog: answer(dialog, True))
    host_tools(teacher).get_by_role("button", name="Clear the room").click()
    for page in (teacher, bob):
        expect(messages(page)).to_have_count(0)
        expect(system_lines(page)).to_have_text(["teacher cleared the room"])
    assert len(asked) == 2
    say(bob, "after the clear")
    expect(messages(teacher).locator(".text")).to_have_text(["after the clear"])


def test_export_downloads_the_messages_with_the_key_in_a_header(
    server: ChatServer, open_page: Callable[..., Page], tmp_path: Path
) -> None:
    """Export fetches /export with X-Host-Key (not in the URL) and saves a file of the messages."""
    teacher = join_as_host(open_page(), server, "teacher")
    bob = join(open_page(), server, "bob")
    say(bob, "first <b>line</b>")
    say(teacher, "second line")
    expect(messages(teacher)).to_have_count(2)
    requests = []
    teacher.on("request", lambda request: requests.append(request))

    for button, name in (("Markdown", "md"), ("Text", "txt")):
        with teacher.expect_download() as started:
            host_tools(teacher).get_by_role("button", name=button, exact=True).click()
        download = started.value
        dated = rf"general-\d{{4}}-\d{{2}}-\d{{2}}\.{name}"  # the room and today's date
        assert re.fullmatch(dated, download.suggested_filename)
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        text = path.read_text()
        assert "first <b>line</b>" in text and "second line" in text and "bob" in text
    exports = [request for request in requests if "/export" in request.url]
    assert [request.url.split("?")[1] for request in exports] == [
        "room=general&format=md", "room=general&format=txt"]
    assert all(request.headers["x-host-key"] == KEY for request in exports)
    assert all(KEY not in request.url for request in requests)
    expect(host_tools(bob)).to_be_hidden()  # nobody else has the button


def test_keyboard_alone_can_use_a_message_menu(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A menu opens with Enter on its button (focus on its first item), the arrows move, Escape
    closes it and gives the focus back; an item chosen with Enter acts."""
    teacher = join_as_host(open_page(), server, "teacher")
    bob = join(open_page(), server, "bob")
    say(bob, "pin me")
    say(bob, "delete me")
    expect(messages(teacher)).to_have_count(2)
    composer(teacher).focus()

    menu = message_menu(teacher, "pin me")
    teacher.get_by_test_id("messages").focus()
    tab_to(teacher, menu)
    expect(menu).to_have_attribute("aria-haspopup", "menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    teacher.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    items = teacher.get_by_role("menu").get_by_role("menuitem")
    expect(items).to_have_text(["Reply", "React…", "Delete", "Pin"])
    expect(items.first).to_be_focused()
    teacher.keyboard.press("ArrowDown")
    expect(items.nth(1)).to_be_focused()
    teacher.keyboard.press("End")
    teacher.keyboard.press("ArrowDown")  # round to the first again
    expect(items.first).to_be_focused()
    teacher.keyboard.press("Escape")
    expect(teacher.get_by_role("menu")).to_have_count(0)
    expect(menu).to_be_focused()
    expect(menu).to_have_attribute("aria-expanded", "false")

    teacher.keyboard.press("Enter")
    teacher.keyboard.press("End")
    teacher.keyboard.press("Enter")  # Pin
    expect(bob.get_by_test_id("pinned")).to_contain_text("pin me")
    expect(menu).to_be_focused()

    other = message_menu(teacher, "delete me")
    tab_to(teacher, other)
    teacher.keyboard.press("Enter")
    teacher.keyboard.press("End")
    teacher.keyboard.press("ArrowUp")
    teacher.keyboard.press("Enter")  # Delete, before Pin
    expect(messages(bob).locator(".text")).to_have_text(["pin me"])
    expect(teacher.get_by_test_id("messages")).to_be_focused()  # not lost with the message


@pytest.mark.parametrize(("scheme", "viewport"), [
    ("light", {"width": 1280, "height": 800}), ("dark", {"width": 360, "height": 740}),
], ids=["light-desktop", "dark-phone"])
def test_axe_finds_nothing_serious_on_a_hosts_page(
    server: ChatServer, open_page: Callable[..., Page], scheme: str, viewport: dict[str, int]
) -> None:
    """axe-core finds no serious violation on a host's page: badges, topic, pin, rules, the
    room's controls, and a menu open."""
    teacher = join_as_host(open_page(color_scheme=scheme, viewport=viewport), server, "teacher")
    bob = join(open_page(), server, "bob")
    say(bob, "a question")
    say(teacher, "an answer")
    choose(teacher, message_menu(teacher, "an answer"), "Pin")
    host_tools(teacher).get_by_label("Topic").fill("Week 2")
    host_tools(teacher).get_by_role("button", name="Set topic").click()
    host_tools(teacher).get_by_role("button", name="Lock the room").click()
    choose(teacher, person_menu(teacher, "bob"), "Mute for 1 hour")
    expect(badge(person(teacher, "bob"), "muted")).to_be_visible()
    expect(teacher.get_by_test_id("rules")).to_be_visible()
    expect(teacher.get_by_test_id("topic")).to_be_visible()
    assert serious_violations(teacher) == []

    message_menu(teacher, "a question").click()
    expect(teacher.get_by_role("menu")).to_be_visible()
    assert serious_violations(teacher) == []
    teacher.keyboard.press("Escape")
    person_menu(teacher, "bob").click()
    expect(teacher.get_by_role("menu")).to_be_visible()
    assert serious_violations(teacher) == []
    assert serious_violations(bob) == []  # and the others' view of it all
