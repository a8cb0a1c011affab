"""Browser tests of Markdown in messages: code, maths, and text that must never run.

The real page in headless Chromium against run.py in a subprocess (browser_pages.py).
No sleeps: every wait is Playwright's expect() or an event the page fires.
"""

from collections.abc import Callable

import pytest
from browser_pages import (
    browser,  # noqa: F401 (a fixture)
    composer,
    join,
    messages,
    open_page,  # noqa: F401 (a fixture)
    record_dialogs,
    say,
    start_server,  # noqa: F401 (a fixture)
)
from playwright.sync_api import Page, expect
from servers import ChatServer

pytestmark = pytest.mark.browser

XSS_PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "![x](javascript:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    r"$\href{javascript:alert(1)}{x}$",
    '<a href="https://example.org" onclick="alert(1)">hi</a>',
    "<a href=javascript:alert(1)>js</a>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    r"$\htmlData{onclick=alert(1)}{x}$ $\url{javascript:alert(1)}$",
]


@pytest.fixture
def server(start_server: Callable[..., ChatServer]) -> ChatServer:
    """A fresh chat server on a free port."""
    return start_server()


def active_content(page: Page) -> dict[str, list[str]]:
    """Return what in the message list could run or load something: scripts, on*, bad URLs."""
    return page.get_by_test_id("messages").evaluate(
        """(list) => {
            const all = [...list.querySelectorAll("*")];
            return {
                scripts: all.filter((node) => ["SCRIPT", "IFRAME", "OBJECT", "EMBED", "IMG",
                    "FORM", "INPUT", "STYLE", "LINK", "META"].includes(node.nodeName.toUpperCase()))
                    .map((node) => node.outerHTML),
                handlers: all.flatMap((node) => [...node.attributes]
                    .filter((attribute) => attribute.name.toLowerCase().startsWith("on"))
                    .map((attribute) => `${node.nodeName} ${attribute.name}`)),
                addresses: all.flatMap((node) => ["href", "src", "xlink:href", "action"]
                    .map((name) => node.getAttribute(name))
                    .filter((value) => value !== null
                        && !/^(?:https?:|mailto:)/i.test(value.trim()))),
            };
        }"""
    )


def test_code_fence_is_highlighted_with_a_copy_button(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """A fenced block with a language shows highlighted in <pre><code>; its button copies it."""
    reader = open_page(permissions=["clipboard-read", "clipboard-write"])
    join(reader, server, "ada")
    writer = join(open_page(), server, "bob")
    code = "def greet(name):\n    return f'hello {name}'  " + "# a long line " * 30

    say(writer, f"look:\n```python\n{code}\n```\nand `inline` **bold** ~~gone~~")
    message = messages(reader).last
    block = message.locator("pre > code.hljs.language-python")
    expect(block).to_have_count(1)
    expect(block.locator(".hljs-keyword").first).to_have_text("def")
    expect(message.locator(":not(pre) > code")).to_have_text("inline")
    expect(message.locator("strong")).to_have_text("bold")
    expect(message.locator("del")).to_have_text("gone")

    # The long line scrolls inside its block; the page does not grow sideways.
    assert block.evaluate(
        "(element) => element.scrollWidth > element.clientWidth"
        " && getComputedStyle(element).overflowX === 'auto'"
    )
    assert reader.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )

    button = message.get_by_role("button", name="Copy code")
    button.click()
    expect(button).to_have_text("Copied")
    assert reader.evaluate("() => navigator.clipboard.readText()") == code


def test_code_theme_follows_the_colour_scheme(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Code is drawn with github's light theme in light mode and github-dark's in dark mode."""
    backgrounds = {}
    for scheme in ("light", "dark"):
        page = join(open_page(color_scheme=scheme), server, scheme)
        say(page, "```js\nconst x = 1;\n```")
        code = messages(page).last.locator("pre > code.hljs")
        expect(code).to_have_count(1)
        backgrounds[scheme] = code.evaluate(
            "(element) => getComputedStyle(element).backgroundColor"
        )
    assert backgrounds == {"light": "rgb(255, 255, 255)", "dark": "rgb(13, 17, 23)"}


def test_dollar_maths_is_typeset_by_katex_with_its_fonts(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """$x^2$ and $$...$$ render with KaTeX, whose fonts load from static/vendor/katex/fonts."""
    reader = open_page()
    fonts: list[tuple[str, int]] = []
    reader.on(
        "response",
        lambda response: fonts.append((response.url, response.status))
        if ".woff" in response.url else None,
    )
    join(reader, server, "ada")
    writer = join(open_page(), server, "bob")

    say(writer, "area $x^2$ and\n$$\\frac{a}{b}$$\nbut $5 and $6 stay")
    message = messages(reader).last
    expect(message.locator(".katex")).to_have_count(2)
    expect(message.locator(".katex-display .mfrac")).to_have_count(1)
    expect(message.locator("annotation")).to_have_text(["x^2", "\\frac{a}{b}"])
    expect(message).to_contain_text("but $5 and $6 stay")
    reader.evaluate("() => document.fonts.ready")
    assert reader.evaluate("() => document.fonts.check('1em KaTeX_Main')")
    assert fonts, "no KaTeX font was fetched"
    for url, status in fonts:
        assert f"{server.url}/static/vendor/katex/fonts/KaTeX_" in url and status == 200


def test_composer_code_button_wraps_the_selection(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """The code button fences the selected text; Shift+Enter is a newline and Enter sends."""
    ada = join(open_page(), server, "ada")
    box = composer(ada)
    box.fill("see print(1)")
    box.evaluate("(element) => element.setSelectionRange(4, 12)")
    ada.get_by_role("button", name="Code block").click()
    expect(box).to_have_value("see \n```\nprint(1)\n```")
    box.press("Shift+Enter")
    box.press_sequentially("done")
    expect(box).to_have_value("see \n```\nprint(1)\ndone\n```")  # the caret stayed inside

    box.fill("see print(1)")
    box.evaluate("(element) => element.setSelectionRange(4, 12)")
    ada.get_by_role("button", name="Code block").click()
    box.press("Enter")
    expect(messages(ada).last.locator("pre > code")).to_have_text("print(1)")
    expect(box).to_have_value("")


def test_xss_payloads_from_another_page_never_run(
    server: ChatServer, open_page: Callable[..., Page]
) -> None:
    """Classic XSS payloads sent by someone else open no dialog and leave nothing active."""
    reader = open_page()
    dialogs = record_dialogs(reader)
    join(reader, server, "ada")
    writer = join(open_page(), server, "eve")

    for payload in XSS_PAYLOADS:
        say(writer, payload)
    say(writer, "the end")
    expect(messages(reader)).to_have_count(len(XSS_PAYLOADS) + 1)
    expect(messages(reader).last.locator(".text")).to_have_text("the end")
    # Raw HTML stays the text that was typed.
    expect(messages(reader).nth(0).locator(".text")).to_have_text(XSS_PAYLOADS[0])
    expect(messages(reader).nth(2).locator(".text")).to_have_text(XSS_PAYLOADS[2])

    # Click every link there is (a javascript: one would alert), then give an
    # <img src=x> the time to fail and run its onerror: load "x" ourselves.
    for link in messages(reader).locator("a").all():
        link.click(modifiers=["Control"])  # a new tab for a real address, as a reader would
    reader.evaluate(
        "() => new Promise(done => { const probe = new Image();"
        " probe.onload = probe.onerror = done; probe.src = 'x'; })"
    )
    assert active_content(reader) == {"scripts": [], "handlers": [], "addresses": []}
    for link in messages(reader).locator("a[href]").all():
        assert link.get_attribute("target") == "_blank"
        assert set(link.get_attribute("rel").split()) == {"noopener", "noreferrer", "nofollow"}
    assert dialogs == []
