"""Browser tests of files in the chat, the live region and the dark theme.

Files: picked with the attach button, pasted, dropped; shown as a thumbnail or
a download link; refused by the server with its reason (docs/protocol.md,
"Files"). The real page in headless Chromium against run.py in a subprocess
(browser_pages.py). No sleeps: every wait is Playwright's expect() or a
condition the page reaches (wait_for_function).
"""

import base64
import io
import json
import re
from collections.abc import Callable

import pytest
from browser_pages import (
    browser,  # noqa: F401 (a fixture)
    composer,
    join,
    messages,
    open_page,  # noqa: F401 (a fixture)
    pending,
    record_dialogs,
    say,
    serious_violations,
    start_server,  # noqa: F401 (a fixture)
    tab_to,
)
from PIL import Image
from playwright.sync_api import Locator, Page, Route, WebSocketRoute, expect
from servers import ChatServer

pytestmark = pytest.mark.browser

UPLOAD_URL = re.compile(r"^/uploads/[A-Za-z0-9_-]+/")
HOSTILE_NAME = "<img src=x onerror=alert(1)>.png"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(56)  # the start of a Linux program


@pytest.fixture
def server(start_server: Callable[..., ChatServer]) -> ChatServer:
    """A fresh chat server on a free port."""
    return start_server()


def png(width: int = 40, height: int = 30) -> bytes:
    """Return a small, valid PNG picture."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def pick_file(page: Page, name: str, content: bytes, mime: str = "image/png") -> None:
    """Choose a file with the attach button, pressed from the keyboard."""
    with page.expect_file_chooser() as chooser:
        # Focused inside the block: the round trip lets Playwright start catching
        # file choosers before Enter opens one (or the chooser opens unseen).
        page.get_by_role("button", name="Attach a file").focus()
        page.keyboard.press("Enter")
    chooser.value.set_files(files=[{"name": name, "mimeType": mime, "buffer": content}])


def refused_upload(page: Page, name: str, content: bytes, mime: str = "image/png") -> dict:
    """Pick a file the server refuses; return its status and JSON once the page has shown it."""
    with page.expect_response(lambda response: "/upload?" in response.url) as answer:
        pick_file(page, name, content, mime)
    expect(notice(page)).to_contain_text(f"{name} was not sent: ")
    return {"status": answer.value.status, **answer.value.json()}


# The page's own events with a DataTransfer holding a File, as a paste or a
# drop from the system would bring them.
DISPATCH_FILE = """([kind, target, name, type, data]) => {
    const bytes = Uint8Array.from(atob(data), (character) => character.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type }));
    const element = document.querySelector(target);
    const init = { bubbles: true, cancelable: true, composed: true };
    if (kind === "paste") {
        element.dispatchEvent(new ClipboardEvent("paste", { ...init, clipboardData: transfer }));
        return;
    }
    for (const step of kind.split(" ")) {
        element.dispatchEvent(new DragEvent(step, { ...init, dataTransfer: transfer }));
    }
}"""


def dispatch_file(page: Page, kind: str, target: str, name: str, content: bytes) -> None:
    """Dispatch `kind` (paste, or drag events in order) with a file, on the `target` selector."""
    data = base64.b64encode(content).decode()
    page.evaluate(DISPATCH_FILE, [kind, target, name, "image/png", data])


def thumbnail(message: Locator) -> Locator:
    """Return the picture a message shows for its file."""
    return message.locator("a.attachment-image > img")


def expect_loaded(image: Locator) -> None:
    """Wait until the image has loaded from the server (a broken one has no natural width)."""
    expect(image).to_have_attribute("src", UPLOAD_URL)
    image.scroll_into_view_if_needed()  # loading="lazy": it loads once it is in view
    expect(image).to_have_js_property("complete", True)
    expect(image).not_to_have_js_property("naturalWidth", 0)


def notice(page: Page) -> Locator:
    """Return the notice, where the page shows refusals (an alert: read out at once)."""
    return page.get_by_role("alert")


def announcer(page: Page) -> Locator:
    """Return the live region that reads out new messages."""
    return page.get_by_test_id("announcer")


def test_picked_png_shows_as_a_thumbnail_for_the_others(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A PNG chosen with the attach button is posted with the caption; others see its picture."""
    reader = join(open_page(), server, "ada")
    writer = join(open_page(), server, "bob")
    composer(writer).fill("the plan")
    pick_file(writer, "plan.png", png())

    message = messages(reader).last
    expect(message.locator(".text")).to_have_text("the plan")
    image = thumbnail(message)
    expect_loaded(image)
    expect(image).to_have_attribute("alt", "plan.png")
    expect(image).to_have_attribute("loading", "lazy")
    assert image.evaluate("(element) => element.naturalWidth") == 40
    link = message.locator("a.attachment-image")
    expect(link).to_have_attribute("href", image.get_attribute("src"))
    expect(link).to_have_attribute("target", "_blank")
    assert "noopener" in link.get_attribute("rel").split()
    assert image.evaluate("(element) => element.getBoundingClientRect().height") <= 240

    expect(composer(writer)).to_have_value("")  # the caption went with the file
    expect(composer(writer)).to_be_focused()
    expect(pending(writer)).to_have_count(0)  # acknowledged like a typed message
    expect_loaded(thumbnail(messages(writer).last))
    expect(writer.get_by_test_id("upload-status")).to_have_text("")


def test_what_is_typed_during_an_upload_stays_in_the_composer(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """The caption is the text when the file was picked; what is typed meanwhile is not sent."""
    reader = join(open_page(), server, "ada")
    writer = join(open_page(), server, "bob")
    held: list[Route] = []
    writer.route("**/upload?*", lambda route: held.append(route))  # waits for the test
    composer(writer).fill("the plan")
    with writer.expect_request("**/upload?*"):
        pick_file(writer, "plan.png", png())
    expect(composer(writer)).to_have_value("")
    composer(writer).fill("half a thought")
    held[0].continue_()
    message = messages(reader).last
    expect(message.locator(".text")).to_have_text("the plan")
    expect_loaded(thumbnail(message))
    expect(messages(reader)).to_have_count(1)
    expect(pending(writer)).to_have_count(0)
    expect(composer(writer)).to_have_value("half a thought")  # unsent until Enter


def test_pasted_image_is_uploaded_and_posted(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """An image pasted into the composer is uploaded and posted, not pasted as text."""
    reader = join(open_page(), server, "ada")
    writer = join(open_page(), server, "bob")
    dispatch_file(writer, "paste", "#message-input", "image.png", png(20, 20))

    message = messages(reader).last
    expect_loaded(thumbnail(message))
    expect(thumbnail(message)).to_have_attribute("alt", "image.png")
    expect(message.locator(".text")).to_have_text("")  # an empty caption


def test_dropped_file_shows_a_hint_then_is_posted(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Dragging a file over the messages shows the drop hint; dropping it posts it."""
    reader = join(open_page(), server, "ada")
    writer = join(open_page(), server, "bob")
    hint = writer.get_by_test_id("drop-hint")
    expect(hint).to_be_hidden()
    dispatch_file(writer, "dragenter dragover", "#messages", "dropped.png", png())
    expect(hint).to_be_visible()
    expect(hint).to_have_text("Drop the file to send it to #general")

    composer(writer).fill("dropped in")
    dispatch_file(writer, "drop", "#messages", "dropped.png", png())
    expect(hint).to_be_hidden()
    message = messages(reader).last
    expect_loaded(thumbnail(message))
    expect(thumbnail(message)).to_have_attribute("alt", "dropped.png")
    expect(message.locator(".text")).to_have_text("dropped in")
    assert writer.url.startswith(server.url)  # the browser did not leave to show the file


def test_file_that_is_not_an_image_is_a_download_link(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A text file is shown as "📎 name (size)", a download link to /uploads/, no picture."""
    reader = join(open_page(), server, "ada")
    writer = join(open_page(), server, "bob")
    pick_file(writer, "notes one.txt", b"x" * 3000, "text/plain")

    message = messages(reader).last
    link = message.locator("a.attachment-file")
    expect(link).to_have_text("📎 notes one.txt (3 KB)")
    expect(link).to_have_attribute("href", UPLOAD_URL)
    expect(link).to_have_attribute("download", "notes one.txt")
    expect(message.locator("img")).to_have_count(0)
    answer = reader.request.get(server.url + link.get_attribute("href"))
    assert answer.ok and answer.body() == b"x" * 3000


def test_too_large_a_file_is_refused_with_the_servers_reason(
    start_server: Callable[..., ChatServer], open_page: Callable[..., Page]
) -> None:
    """A file over --max-upload shows the server's reason, announced, and posts nothing."""
    server = start_server("--max-upload", "1000")
    reader = join(open_page(), server, "ada")
    writer = join(open_page(), server, "bob")
    composer(writer).fill("keep me")
    refusal = refused_upload(writer, "big.png", png(400, 400) + bytes(2000))

    assert refusal["status"] == 413 and refusal["code"] == "too_large"
    expect(notice(writer)).to_have_text(f"big.png was not sent: {refusal['message']}")
    expect(composer(writer)).to_have_value("keep me")  # the caption is not lost
    expect(writer.get_by_test_id("upload-status")).to_have_text("")
    say(writer, "after")
    expect(messages(reader)).to_have_count(1)
    expect(messages(reader).locator(".text")).to_have_text(["after"])


@pytest.mark.parametrize(("options", "status"), [
    (("--uploads-per-minute", "1"), 429),
    (("--upload-quota", "4KB"), 507),
], ids=["rate", "quota"])
def test_second_upload_refused_by_the_server_says_why(
    start_server: Callable[..., ChatServer], open_page: Callable[..., Page],
    options: tuple[str, ...], status: int,
) -> None:
    """Past the upload rate or the quota, the page shows the server's reason; one file posted."""
    server = start_server(*options)
    ada = join(open_page(), server, "ada")
    pick_file(ada, "one.txt", b"1" * 3000, "text/plain")
    expect(messages(ada).locator(".attachment-file")).to_have_count(1)
    refusal = refused_upload(ada, "two.txt", b"2" * 3000, "text/plain")

    assert refusal["status"] == status
    expect(notice(ada)).to_contain_text(f"two.txt was not sent: {refusal['message']}")
    if status == 429:
        expect(notice(ada)).to_contain_text(re.compile(r"try again in \d+ s", re.IGNORECASE))
    expect(messages(ada)).to_have_count(1)


def test_a_program_named_png_is_refused_and_posts_nothing(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A Linux program named x.png is refused by its content: the server's words are shown."""
    reader = join(open_page(), server, "ada")
    writer = join(open_page(), server, "bob")
    refusal = refused_upload(writer, "x.png", ELF)

    assert refusal["status"] == 415 and refusal["code"] == "refused_type"
    expect(notice(writer)).to_have_text(f"x.png was not sent: {refusal['message']}")
    say(writer, "after")
    expect(messages(reader).locator(".text")).to_have_text(["after"])
    expect(messages(reader).locator(".attachment")).to_have_count(0)


def test_hostile_file_name_is_shown_as_text_and_never_runs(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A file named like an XSS payload is only its name: no dialog, no extra element."""
    reader = open_page()
    dialogs = record_dialogs(reader)
    join(reader, server, "ada")
    writer = join(open_page(), server, "eve")
    pick_file(writer, HOSTILE_NAME, png())
    pick_file(writer, HOSTILE_NAME.replace(".png", ".txt"), b"hello", "text/plain")

    expect(messages(reader)).to_have_count(2)
    image = thumbnail(messages(reader).first)
    expect_loaded(image)
    expect(image).to_have_attribute("alt", HOSTILE_NAME)
    expect(messages(reader).last.locator(".attachment-file")).to_have_text(
        f"📎 {HOSTILE_NAME.replace('.png', '.txt')} (5 bytes)"
    )
    expect(announcer(reader)).to_contain_text(f"eve: (image: {HOSTILE_NAME})")
    # Give a stray <img src=x> the time to fail and run its onerror: load "x" ourselves.
    reader.evaluate(
        "() => new Promise(done => { const probe = new Image();"
        " probe.onload = probe.onerror = done; probe.src = 'x'; })"
    )
    assert messages(reader).locator("img").count() == 1  # the thumbnail, nothing else
    handlers = reader.get_by_test_id("messages").evaluate(
        "(list) => [...list.querySelectorAll('*')].flatMap((node) => [...node.attributes])"
        ".filter((attribute) => attribute.name.startsWith('on')).length"
    )
    assert handlers == 0
    assert dialogs == []


def forge_file_url(route: WebSocketRoute, url: str) -> None:
    """Pass the page's socket through to the server, giving every message's file this url."""
    server = route.connect_to_server()

    def forge(frame: str | bytes) -> None:
        event = json.loads(frame)
        if event.get("type") == "message" and isinstance(event.get("file"), dict):
            event["file"]["url"] = url
        route.send(json.dumps(event))

    server.on_message(forge)


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "https://evil.example/x.png", "//evil.example/x.png",
    "/uploads/../static/chat.css", "/uploads/%2e%2e/static/chat.css",
])
def test_a_file_url_outside_uploads_is_no_link(
    server: ChatServer, open_page: Callable[..., Page], url: str
) -> None:
    """A message whose file url is not under /uploads/ shows the name, with no link or image."""
    reader = open_page()
    dialogs = record_dialogs(reader)
    reader.route_web_socket(re.compile(r"/ws\?"), lambda route: forge_file_url(route, url))
    join(reader, server, "ada")
    writer = join(open_page(), server, "eve")
    pick_file(writer, "trap.png", png())

    file = messages(reader).last.locator(".attachment")
    expect(file).to_have_text(re.compile(r"^📎 trap\.png \(\d+ bytes\)$"))
    expect(messages(reader).last.locator("a, img")).to_have_count(0)
    assert dialogs == []


def test_live_region_reads_out_new_messages_not_the_history(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """The live region says others' new messages as text, cut short; not a fresh join's history."""
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")
    say(ada, "from before")
    say(bob, "also from before")
    expect(messages(ada)).to_have_count(2)

    eve = join(open_page(), server, "eve")
    expect(messages(eve)).to_have_count(2)
    region = announcer(eve)
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_have_text("")  # the history is on screen, not read out

    say(bob, "**new** <b>one</b>\nline two")
    expect(region.locator("p")).to_have_text(["bob: **new** <b>one</b> line two"])
    say(eve, "mine")  # our own: we know what we wrote
    say(ada, "x" * 500)
    expect(region.locator("p")).to_have_text(
        ["bob: **new** <b>one</b> line two", f"ada: {'x' * 200}…"]
    )
    expect(region.locator("b")).to_have_count(0)  # text, never HTML


def test_live_region_is_quiet_about_what_a_reconnect_replays(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """After a server restart the page catches up with `since`; the replay is not read out."""
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")
    say(bob, "live")
    expect(announcer(ada).locator("p")).to_have_text(["bob: live"])
    server.stop()
    server.start()
    expect(ada.get_by_test_id("status")).to_have_text("Connected as ada", timeout=15_000)
    expect(bob.get_by_test_id("status")).to_have_text("Connected as bob", timeout=15_000)
    say(bob, "after the restart")
    expect(announcer(ada).locator("p")).to_have_text(["bob: live", "bob: after the restart"])
    expect(messages(ada).locator(".text")).to_have_text(["live", "after the restart"])


def test_files_work_with_the_keyboard_alone(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Tab reaches the attach button (with a ring), Enter opens the picker; Tab finds the image."""
    ada = join(open_page(), server, "ada")
    bob = join(open_page(), server, "bob")
    composer(ada).focus()
    with ada.expect_file_chooser() as chooser:
        tab_to(ada, ada.get_by_role("button", name="Attach a file"), limit=5)
        ada.keyboard.press("Enter")
    chooser.value.set_files(files=[{"name": "k.png", "mimeType": "image/png", "buffer": png()}])
    expect(composer(ada)).to_be_focused()  # back to typing
    expect_loaded(thumbnail(messages(bob).last))

    link = messages(bob).last.get_by_role("link", name="k.png")
    bob.get_by_test_id("messages").focus()
    tab_to(bob, link, limit=10)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_with_files(
    server: ChatServer, open_page: Callable[..., Page], scheme: str
) -> None:
    """axe finds nothing serious with files, a refusal, the drop hint, code and a menu shown."""
    ada = join(open_page(color_scheme=scheme), server, "ada")
    bob = join(open_page(), server, "bob")
    pick_file(bob, "plan.png", png())
    pick_file(bob, "notes.txt", b"notes", "text/plain")
    expect(messages(ada)).to_have_count(2)
    say(bob, "```python\nprint('hi')\n```\nand `code`, $\\badmacro$ $x^$, > quote")
    composer(ada).fill("mine, with a file")
    pick_file(ada, "mine.png", png())
    expect(messages(ada)).to_have_count(4)
    expect(messages(ada).nth(2).locator(".katex-error")).to_have_count(1)
    expect_loaded(thumbnail(messages(ada).first))
    expect_loaded(thumbnail(messages(ada).last))
    ada.get_by_role("button", name="Actions for the message by ada").click()
    expect(ada.get_by_role("menuitem", name="Reply")).to_be_focused()  # the menu's first item
    refused_upload(ada, "x.png", ELF)
    dispatch_file(ada, "dragenter", "#messages", "d.png", png())
    expect(ada.get_by_test_id("drop-hint")).to_be_visible()
    assert serious_violations(ada) == []
    if scheme == "dark":
        background = ada.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(22, 23, 27)"
