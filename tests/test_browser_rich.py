"""Browser tests of replies, edits, reactions and mentions (docs/protocol.md, "Editing,
replying, reacting"): what each page shows, from the keyboard as from the mouse.

The real page in headless Chromium (tests/browser_pages.py) against run.py.
No sleeps: every wait is Playwright's expect().
"""

import re
from collections.abc import Callable

import pytest
from browser_pages import (
    RECONNECT_TIMEOUT,
    browser,  # noqa: F401 (a fixture)
    composer,
    control_visibility,
    count_beeps,
    go_offline,
    join,
    keep_sockets,
    messages,
    open_page,  # noqa: F401 (a fixture)
    pending,
    record_dialogs,
    record_notifications,
    say,
    serious_violations,
    set_hidden,
    start_server,  # noqa: F401 (a fixture)
    status,
    tab_to,
)
from playwright.sync_api import Locator, Page, expect
from servers import ChatServer

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"
SOUND = "Beep for new messages while this tab is hidden"
NOTIFY = "Notify me when mentioned"


@pytest.fixture
def server(start_server: Callable[..., ChatServer]) -> ChatServer:
    """A chat server with no flood limit (every page shares 127.0.0.1)."""
    return start_server("--rate", "0")


def message(page: Page, text: str) -> Locator:
    """Return the message whose own text (not a quote in it) is exactly `text`."""
    return messages(page).filter(
        has=page.locator(":scope > .text", has_text=re.compile(rf"^\s*{re.escape(text)}\s*$")))


def menu_of(page: Page, text: str) -> Locator:
    """Return the "⋯" menu button of the message with this text."""
    return message(page, text).get_by_role(
        "button", name=re.compile("^Actions for the message by "))


def choose(page: Page, menu: Locator, item: str) -> None:
    """Open a menu with a click and click one of its items."""
    menu.click()
    page.get_by_role("menuitem", name=item, exact=True).click()


def chip(page: Page, text: str, emoji: str) -> Locator:
    """Return the reaction chip of `emoji` under the message with this text."""
    return message(page, text).locator(f".reaction[data-emoji='{emoji}']")


def picker(page: Page, text: str) -> Locator:
    """Return the "☺+" button beside the reactions of the message with this text."""
    return message(page, text).get_by_role("button", name=re.compile("^Add a reaction"))


def quote(page: Page, text: str) -> Locator:
    """Return the quote above the message with this text (what it answers)."""
    return message(page, text).locator(".reply")


def composing(page: Page) -> Locator:
    """Return the line over the composer: "Replying to …" or "Editing — Esc to cancel"."""
    return page.get_by_test_id("composing")


def react(page: Page, text: str, emoji: str) -> None:
    """Choose "React…" in the message's menu and pick `emoji`, with the mouse."""
    choose(page, menu_of(page, text), "React…")
    page.get_by_role("menuitem", name=emoji, exact=True).click()


def test_edit_shows_the_new_text_marked_edited_on_every_page(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """"Edit" puts our text in the composer with "Editing — Esc to cancel"; Enter sends it,
    and both pages show it as Markdown marked "(edited)"; Escape cancels an edit."""
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")
    say(ada, "helo wrld")
    expect(message(bob, "helo wrld")).to_be_visible()
    composer(ada).fill("a draft")

    choose(ada, menu_of(ada, "helo wrld"), "Edit")
    expect(composing(ada)).to_contain_text("Editing — Esc to cancel")
    expect(composer(ada)).to_have_value("helo wrld")
    expect(composer(ada)).to_be_focused()
    composer(ada).fill("hello **world**")
    composer(ada).press("Enter")

    for page in (ada, bob):
        edited = message(page, "hello world")
        expect(edited.locator(".text strong")).to_have_text("world")
        expect(edited.locator(".edited")).to_have_text("(edited)")
        expect(edited.locator(".edited")).to_have_attribute("title", re.compile("^Edited "))
    expect(composing(ada)).to_be_hidden()
    expect(composer(ada)).to_have_value("a draft")  # what was typed before the edit is back
    expect(messages(bob)).to_have_count(1)  # an edit, not a new message

    choose(ada, menu_of(ada, "hello world"), "Edit")
    expect(composer(ada)).to_have_value("hello **world**")  # the text as typed, not as shown
    composer(ada).press("Escape")
    expect(composing(ada)).to_be_hidden()
    expect(composer(ada)).to_have_value("a draft")


def test_edit_is_only_offered_on_our_own_messages_for_ten_minutes(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Others' messages offer only "Reply" and "React…"; ours "Edit" and "Delete" too, "Edit"
    until ten minutes after they were sent."""
    ada = open_page()
    ada.clock.install()  # the page's clock runs on, and the test can move it ten minutes on
    join(ada, server, "ada")
    bob = join(open_page(), server, "bob")
    say(ada, "mine")
    say(bob, "theirs")
    expect(messages(ada)).to_have_count(2)

    menu_of(ada, "theirs").click()
    expect(ada.get_by_role("menuitem")).to_have_text(["Reply", "React…"])
    ada.keyboard.press("Escape")
    menu_of(bob, "mine").click()
    expect(bob.get_by_role("menuitem")).to_have_text(["Reply", "React…"])
    bob.keyboard.press("Escape")
    menu_of(ada, "mine").click()
    expect(ada.get_by_role("menuitem")).to_have_text(["Reply", "React…", "Edit", "Delete"])
    ada.keyboard.press("Escape")

    ada.clock.fast_forward("10:01")
    menu_of(ada, "mine").click()
    expect(ada.get_by_role("menuitem")).to_have_text(["Reply", "React…", "Delete"])


def test_an_edit_of_the_pinned_message_updates_the_pin(
    start_server: Callable[..., ChatServer], open_page: Callable[..., Page]
) -> None:
    """The pinned message, edited by its author, shows its new text at the top of the room."""
    key = "test-host-key-0123456789abcdef"
    server = start_server("--rate", "0", "--host-key", key)
    teacher = open_page()
    teacher.goto(f"{server.url}/#host={key}")
    join(teacher, server, "teacher")
    ada = join(open_page(), server, "ada")
    say(ada, "homework: page 3")
    choose(teacher, menu_of(teacher, "homework: page 3"), "Pin")
    expect(ada.get_by_test_id("pinned")).to_contain_text("homework: page 3")
    choose(ada, menu_of(ada, "homework: page 3"), "Edit")
    composer(ada).fill("homework: page 4")
    composer(ada).press("Enter")
    for page in (ada, teacher):
        expect(page.get_by_test_id("pinned")).to_contain_text("ada: homework: page 4")


def test_a_refused_edit_says_why(server: ChatServer, open_page: Callable[..., Page]) -> None:
    """An edit the server refuses (too long here) shows the server's reason, and its text comes
    back in the composer, still editing: fixed, it goes."""
    ada = join(open_page(), server, "ada")
    say(ada, "short")
    choose(ada, menu_of(ada, "short"), "Edit")
    composer(ada).fill("x" * 2001)
    composer(ada).press("Enter")
    expect(ada.get_by_role("alert")).to_contain_text("limit is 2000")
    expect(message(ada, "short")).to_be_visible()
    expect(message(ada, "short").locator(".edited")).to_have_count(0)
    expect(composer(ada)).to_have_value("x" * 2001)
    expect(composing(ada)).to_contain_text("Editing — Esc to cancel")
    composer(ada).fill("x" * 2000)
    composer(ada).press("Enter")
    expect(message(ada, "x" * 2000).locator(".edited")).to_have_text("(edited)")
    expect(messages(ada)).to_have_count(1)


def test_reply_quotes_the_original_and_leads_back_to_it(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A reply shows "ada: the question" above it on every page, and its quote scrolls to the
    original and lights it up; Escape or Cancel gives up a reply."""
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")
    say(ada, "the question")
    expect(message(bob, "the question")).to_be_visible()

    choose(bob, menu_of(bob, "the question"), "Reply")
    expect(composing(bob)).to_contain_text("Replying to ada: the question")
    expect(composer(bob)).to_be_focused()
    composer(bob).press("Escape")
    expect(composing(bob)).to_be_hidden()
    choose(bob, menu_of(bob, "the question"), "Reply")
    composing(bob).get_by_role("button", name="Cancel reply").click()
    expect(composing(bob)).to_be_hidden()

    choose(bob, menu_of(bob, "the question"), "Reply")
    say(bob, "the answer")
    expect(composing(bob)).to_be_hidden()
    for page in (ada, bob):
        expect(quote(page, "the answer")).to_have_text("In reply to ada: the question")
    for number in range(5):  # the list grows: the original scrolls out of view
        say(ada, f"more {number}")
    quote(ada, "the answer").get_by_role("button").click()
    original = message(ada, "the question")
    expect(original).to_have_class(re.compile(r"\bhighlight\b"))
    expect(original).to_be_focused()
    expect(original).to_be_in_viewport()
    expect(original).not_to_have_class(re.compile(r"\bhighlight\b"))  # for a moment only


def test_a_reply_typed_offline_waits_with_its_quote(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A reply typed while disconnected waits (pending) with its quote, and goes once back."""
    ada = join(open_page(), server, "ada")
    bob = join(keep_sockets(open_page()), server, "bob")
    say(ada, "anyone there?")
    expect(message(bob, "anyone there?")).to_be_visible()
    go_offline(bob)
    choose(bob, menu_of(bob, "anyone there?"), "Reply")
    say(bob, "me")
    waiting = pending(bob)
    expect(waiting.locator(".reply")).to_have_text("In reply to ada: anyone there?")
    bob.context.set_offline(False)
    expect(quote(ada, "me")).to_have_text("In reply to ada: anyone there?",
                                          timeout=RECONNECT_TIMEOUT)
    expect(pending(bob)).to_have_count(0)
    expect(quote(bob, "me")).to_have_text("In reply to ada: anyone there?")


def test_a_quote_of_a_message_not_loaded_says_so(
    start_server: Callable[..., ChatServer], open_page: Callable[..., Page]
) -> None:
    """A newcomer whose history starts after the message a reply answers sees the quote,
    and clicking it says "That message is no longer loaded"."""
    server = start_server("--rate", "0", "--history", "2")
    ada = join(open_page(), server, "ada")
    say(ada, "long ago")
    choose(ada, menu_of(ada, "long ago"), "Reply")
    say(ada, "about that")
    say(ada, "and now")
    expect(messages(ada)).to_have_count(3)

    bob = join(open_page(), server, "bob")
    expect(messages(bob)).to_have_count(2)
    expect(quote(bob, "about that")).to_have_text("In reply to ada: long ago")
    quote(bob, "about that").get_by_role("button").press("Enter")
    expect(bob.get_by_role("alert")).to_have_text("That message is no longer loaded.")


def test_deleting_a_message_turns_its_quotes_into_deleted_message(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A delete makes the quotes of the message say "deleted message", live and for a newcomer."""
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")
    say(ada, "regrettable")
    choose(bob, menu_of(bob, "regrettable"), "Reply")
    say(bob, "indeed")
    expect(quote(ada, "indeed")).to_have_text("In reply to ada: regrettable")

    choose(ada, menu_of(ada, "regrettable"), "Delete")
    for page in (ada, bob):
        expect(message(page, "regrettable")).to_have_count(0)
        expect(quote(page, "indeed")).to_have_text("deleted message")
    carol = join(open_page(), server, "carol")
    expect(quote(carol, "indeed")).to_have_text("deleted message")


def test_quotes_follow_the_edits_of_what_they_answer(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Editing a message changes the quotes of it on the pages that show them."""
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")
    say(ada, "teh plan")
    choose(bob, menu_of(bob, "teh plan"), "Reply")
    say(bob, "sounds good")
    expect(quote(ada, "sounds good")).to_have_text("In reply to ada: teh plan")
    choose(ada, menu_of(ada, "teh plan"), "Edit")
    composer(ada).fill("the plan")
    composer(ada).press("Enter")
    for page in (ada, bob):
        expect(quote(page, "sounds good")).to_have_text("In reply to ada: the plan")


def test_reactions_toggle_and_show_who_on_every_page(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A reaction shows as "👍 1" on both pages, pressed for whoever reacted, naming them;
    a second person's makes it 2; clicking one's own chip takes it back."""
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")
    say(bob, "good news")
    expect(message(ada, "good news")).to_be_visible()
    expect(message(ada, "good news").locator(".reaction")).to_have_count(0)

    react(ada, "good news", "👍")
    for page, pressed in ((ada, "true"), (bob, "false")):
        expect(chip(page, "good news", "👍")).to_have_text("👍 1")
        expect(chip(page, "good news", "👍")).to_have_attribute("aria-pressed", pressed)
        expect(chip(page, "good news", "👍")).to_have_attribute("aria-label", "👍 ada")

    chip(bob, "good news", "👍").click()
    for page in (ada, bob):
        expect(chip(page, "good news", "👍")).to_have_text("👍 2")
        expect(chip(page, "good news", "👍")).to_have_attribute("aria-label", "👍 ada, bob")
        expect(chip(page, "good news", "👍")).to_have_attribute("aria-pressed", "true")

    chip(ada, "good news", "👍").click()
    for page, pressed in ((ada, "false"), (bob, "true")):
        expect(chip(page, "good news", "👍")).to_have_text("👍 1")
        expect(chip(page, "good news", "👍")).to_have_attribute("aria-label", "👍 bob")
        expect(chip(page, "good news", "👍")).to_have_attribute("aria-pressed", pressed)
    chip(bob, "good news", "👍").click()
    expect(chip(ada, "good news", "👍")).to_have_count(0)


def test_who_reacted_shows_on_focus_as_on_hover(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """The names behind a chip are drawn beside it when it has the focus, and on hover."""
    ada = join(open_page(), server, "ada")
    say(ada, "look")
    react(ada, "look", "🎉")
    shown = "(chip) => getComputedStyle(chip, '::after').content"
    expect(chip(ada, "look", "🎉")).to_have_text("🎉 1")
    composer(ada).focus()
    assert chip(ada, "look", "🎉").evaluate(shown) == "none"
    tab_to(ada, chip(ada, "look", "🎉"))
    assert chip(ada, "look", "🎉").evaluate(shown) == '"🎉 ada"'
    composer(ada).focus()
    chip(ada, "look", "🎉").hover()
    assert chip(ada, "look", "🎉").evaluate(shown) == '"🎉 ada"'


def test_keyboard_alone_can_react_with_the_picker(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """"React…" in a message's menu opens the six emojis with the focus on the first; the
    arrows move, Escape closes, Enter picks; the chip then toggles with Enter and keeps focus."""
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")
    say(bob, "react to me")
    expect(message(ada, "react to me")).to_be_visible()
    ada.get_by_test_id("messages").focus()
    tab_to(ada, menu_of(ada, "react to me"))
    ada.keyboard.press("Enter")
    ada.keyboard.press("ArrowDown")
    expect(ada.get_by_role("menuitem", name="React…")).to_be_focused()
    ada.keyboard.press("Enter")
    items = ada.get_by_role("menu").get_by_role("menuitem")
    expect(items).to_have_text(["👍", "❤️", "😂", "🎉", "🤔", "👀"])
    expect(items.first).to_be_focused()
    ada.keyboard.press("ArrowRight")
    expect(items.nth(1)).to_be_focused()
    ada.keyboard.press("ArrowLeft")
    ada.keyboard.press("ArrowLeft")  # round to the last
    expect(items.last).to_be_focused()
    ada.keyboard.press("Escape")
    expect(ada.get_by_role("menu")).to_have_count(0)
    button = picker(ada, "react to me")  # the picker's own button, beside the chips to come
    expect(button).to_be_focused()

    ada.keyboard.press("Enter")
    ada.keyboard.press("ArrowRight")
    ada.keyboard.press("Enter")  # ❤️
    expect(chip(bob, "react to me", "❤️")).to_have_text("❤️ 1")
    expect(chip(ada, "react to me", "❤️")).to_have_attribute("aria-pressed", "true")
    ada.keyboard.press("Shift+Tab")  # from the picker back to the chip before it
    expect(chip(ada, "react to me", "❤️")).to_be_focused()
    ada.keyboard.press("Enter")
    expect(chip(bob, "react to me", "❤️")).to_have_count(0)
    expect(button).to_be_focused()  # its chip went: the focus is not lost


def test_reactions_replayed_from_history_count_each_person_once(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Picking 👍 twice, and taking back what another never gave, leave one 👍 per person:
    a newcomer replaying the history gets the same counts."""
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")
    say(ada, "count me")
    react(ada, "count me", "👍")
    expect(chip(bob, "count me", "👍")).to_have_text("👍 1")
    react(ada, "count me", "👍")  # the picker adds: twice is once
    react(bob, "count me", "👀")
    react(bob, "count me", "👍")
    chip(bob, "count me", "👀").click()
    expect(chip(ada, "count me", "👍")).to_have_text("👍 2")
    expect(chip(ada, "count me", "👀")).to_have_count(0)

    carol = join(open_page(), server, "carol")
    expect(chip(carol, "count me", "👍")).to_have_text("👍 2")
    expect(chip(carol, "count me", "👍")).to_have_attribute("aria-label", "👍 ada, bob")
    expect(chip(carol, "count me", "👍")).to_have_attribute("aria-pressed", "false")
    expect(message(carol, "count me").locator(".reaction")).to_have_count(1)


def test_a_page_that_was_away_catches_up_on_edits_and_reactions(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Edits and reactions made while a page was offline show once it reconnects (`since`)."""
    ada = join(open_page(), server, "ada")
    bob = join(keep_sockets(open_page()), server, "bob")
    say(ada, "before")
    expect(message(bob, "before")).to_be_visible()

    go_offline(bob)
    choose(ada, menu_of(ada, "before"), "Edit")
    composer(ada).fill("after")
    composer(ada).press("Enter")
    expect(message(ada, "after")).to_be_visible()
    react(ada, "after", "🤔")
    expect(chip(ada, "after", "🤔")).to_have_text("🤔 1")
    bob.context.set_offline(False)

    expect(status(bob)).to_have_text("Connected as bob", timeout=RECONNECT_TIMEOUT)
    expect(message(bob, "after").locator(".edited")).to_have_text("(edited)")
    expect(chip(bob, "after", "🤔")).to_have_text("🤔 1")
    expect(messages(bob)).to_have_count(1)


def test_mentions_autocomplete_from_the_keyboard(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Typing "@" offers the others online in a listbox, filtered as one types; Up and Down
    move (aria-activedescendant), Enter puts "@name " in the box, Escape closes it."""
    ada = join(open_page(), server, "ada")
    join(open_page(), server, "bob")
    join(open_page(), server, "bea")
    join(open_page(), server, "carl")
    expect(ada.get_by_test_id("online").locator("li")).to_have_count(4)
    box = composer(ada)
    options = ada.get_by_role("listbox", name="Nicknames online").get_by_role("option")
    expect(box).to_have_attribute("aria-expanded", "false")

    box.press_sequentially("hi @")
    expect(options).to_have_text(["bob", "bea", "carl"])  # not ourselves
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press_sequentially("b")
    expect(options).to_have_text(["bob", "bea"])
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", options.nth(1).get_attribute("id"))
    box.press("Enter")  # takes bea, sends nothing
    expect(box).to_have_value("hi @bea ")
    expect(box).to_have_attribute("aria-expanded", "false")

    box.press_sequentially("and @C")
    expect(options).to_have_text(["carl"])
    box.press("Escape")
    expect(options).to_have_count(0)
    expect(box).to_have_value("hi @bea and @C")
    box.press_sequentially("a")
    box.press("Tab")
    expect(box).to_have_value("hi @bea and @carl ")
    expect(box).to_be_focused()
    box.press("Enter")
    expect(message(ada, "hi @bea and @carl")).to_be_visible()


def test_a_message_that_mentions_you_is_highlighted_for_you(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """"@Bob" (any case, a whole name) highlights the message on bob's page, with "mentions you"
    for screen readers; not "@bobby" or "bob@example.org", not on ada's page, not ada's own."""
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")
    say(ada, "hey @Bob, look")
    say(ada, "@bobby is someone else, as is bob@example.org")
    say(bob, "thanks @ada")
    expect(messages(bob)).to_have_count(3)
    expect(message(bob, "hey @Bob, look")).to_have_class(re.compile(r"\bmentions-me\b"))
    expect(message(bob, "hey @Bob, look").locator(".mention-note")).to_have_text(" mentions you")
    expect(message(bob, "@bobby is someone else, as is bob@example.org")).not_to_have_class(
        re.compile(r"\bmentions-me\b"))
    expect(message(bob, "thanks @ada")).not_to_have_class(re.compile(r"\bmentions-me\b"))
    expect(message(ada, "hey @Bob, look")).not_to_have_class(re.compile(r"\bmentions-me\b"))
    expect(message(ada, "thanks @ada")).to_have_class(re.compile(r"\bmentions-me\b"))

    carol = join(open_page(), server, "carol")
    expect(messages(carol)).to_have_count(3)
    expect(carol.locator(".mentions-me")).to_have_count(0)
    say(bob, "welcome @carol")
    expect(message(carol, "welcome @carol")).to_have_class(re.compile(r"\bmentions-me\b"))


def test_a_mention_while_hidden_notifies_once_asked_for(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """With "Notify me when mentioned" ticked (the permission asked on that click, not on load),
    a mention reaching the hidden tab shows a notification; none for other messages, our own,
    a visible tab, or a mention that comes in the history of a reconnect."""
    bob = keep_sockets(control_visibility(record_notifications(open_page())))
    join(bob, server, "bob")
    ada = join(open_page(), server, "ada")
    assert bob.evaluate("() => window.testPermissionAsked") == 0  # never on load
    toggle = bob.get_by_label(NOTIFY)
    expect(toggle).not_to_be_checked()
    say(ada, "@bob not yet asked for")
    expect(message(bob, "@bob not yet asked for")).to_be_visible()
    toggle.check()
    expect(toggle).to_be_checked()
    assert bob.evaluate("() => window.testPermissionAsked") == 1

    say(ada, "@bob while you look")
    expect(message(bob, "@bob while you look")).to_be_visible()
    set_hidden(bob, True)
    say(ada, "nothing for bob")
    say(bob, "@bob talking to myself")
    say(ada, "@bob are you there?")
    expect(bob).to_have_title("(2) Chat")
    expect(message(bob, "@bob are you there?")).to_be_visible()
    notified = bob.evaluate("() => window.testNotifications")
    assert notified == [{"title": "ada mentioned you in #general", "body": "@bob are you there?"}]

    go_offline(bob)
    say(ada, "@bob while you were away")
    bob.context.set_offline(False)
    expect(message(bob, "@bob while you were away")).to_be_visible(timeout=RECONNECT_TIMEOUT)
    assert len(bob.evaluate("() => window.testNotifications")) == 1
    bob.reload()
    expect(bob.get_by_label(NOTIFY)).to_be_checked()  # remembered


def test_a_mention_while_hidden_beeps_without_notifications(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Without notifications, a mention to the hidden tab plays the beep (when sound is on)."""
    bob = join(count_beeps(control_visibility(open_page())), server, "bob")
    ada = join(open_page(), server, "ada")
    bob.get_by_label(SOUND).check()
    set_hidden(bob, True)
    say(ada, "@bob ping")
    expect(bob).to_have_title("(1) Chat")
    assert bob.evaluate("() => window.testBeeps") == 1


def test_an_edit_or_a_quote_never_runs_what_it_holds(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """HTML in an edit's text and in a reply's quote stays text: no element, no script."""
    bob = open_page()
    dialogs = record_dialogs(bob)
    join(bob, server, "bob")
    ada = join(open_page(), server, "ada")
    say(ada, XSS)
    expect(message(bob, XSS)).to_be_visible()
    choose(bob, menu_of(bob, XSS), "Reply")
    say(bob, "quoted")
    say(ada, "fine")
    choose(ada, menu_of(ada, "fine"), "Edit")
    composer(ada).fill(f"edited {XSS}")
    composer(ada).press("Enter")

    for page in (ada, bob):
        expect(quote(page, "quoted")).to_have_text(f"In reply to ada: {XSS}")
        expect(message(page, f"edited {XSS}").locator(".edited")).to_be_visible()
        expect(page.get_by_test_id("messages").locator("img, script")).to_have_count(0)
    choose(ada, menu_of(ada, f"edited {XSS}"), "Reply")
    expect(composing(ada)).to_contain_text(f"Replying to ada: edited {XSS}")
    assert ada.locator("#composing img").count() == 0
    assert dialogs == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_with_replies_reactions_and_mentions(
    server: ChatServer, open_page: Callable[..., Page], scheme: str
) -> None:
    """axe-core finds no serious violation with quotes, reactions, a mention, an edit, the
    composer replying, the "@" list open and the reaction picker open."""
    ada = join(open_page(color_scheme=scheme), server, "ada")
    bob = join(open_page(), server, "bob")
    say(bob, "hello @ada")
    choose(ada, menu_of(ada, "hello @ada"), "Reply")
    say(ada, "hi")
    react(bob, "hi", "👍")
    react(ada, "hi", "😂")
    choose(ada, menu_of(ada, "hi"), "Edit")
    composer(ada).fill("hi there")
    composer(ada).press("Enter")
    expect(chip(ada, "hi there", "👍")).to_have_text("👍 1")
    expect(message(ada, "hello @ada")).to_have_class(re.compile(r"\bmentions-me\b"))
    choose(ada, menu_of(ada, "hello @ada"), "Reply")
    composer(ada).press_sequentially("@b")
    expect(ada.get_by_role("option")).to_have_text(["bob"])
    assert serious_violations(ada) == []
    composer(ada).press("Escape")
    picker(ada, "hi there").click()
    expect(ada.get_by_role("menu")).to_be_visible()
    assert serious_violations(ada) == []
    ada.keyboard.press("Escape")
    menu_of(ada, "hello @ada").click()
    expect(ada.get_by_role("menu")).to_be_visible()
    assert serious_violations(ada) == []



def test_the_pinned_message_is_rendered_as_markdown_and_runs_nothing(
    start_server: Callable[..., ChatServer], open_page: Callable[..., Page]
) -> None:
    """A pinned code block is highlighted and scrolls in its box; a pinned payload stays text."""
    key = "test-host-key-0123456789abcdef"
    server = start_server("--rate", "0", "--host-key", key)
    teacher = open_page()
    teacher.goto(f"{server.url}/#host={key}")
    join(teacher, server, "teacher")
    bob = join(open_page(), server, "bob")
    dialogs = record_dialogs(bob)
    say(bob, "**Homework** `page 3`\n\n```python\n" + "print('x')\n" * 30 + "```\n\n"
        "<img src=x onerror=alert(1)>")
    choose(teacher, messages(teacher).filter(has_text="Homework").get_by_role(
        "button", name=re.compile("^Actions for the message by ")), "Pin")
    pinned = bob.get_by_test_id("pinned")
    expect(pinned.locator("strong")).to_have_text("Homework")
    expect(pinned.locator("pre code.hljs")).to_have_count(1)
    assert pinned.locator(".text").evaluate("(box) => box.scrollHeight > box.clientHeight")
    expect(pinned).to_contain_text("<img src=x onerror=alert(1)>")
    assert dialogs == []
