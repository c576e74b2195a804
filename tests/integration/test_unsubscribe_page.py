"""The preference page in a real browser: headless Chromium loads it and a person uses it by keyboard.

A tiny HTTP server on loopback plays API Gateway: it turns each request into the REST proxy
event API Gateway would send and calls UnsubscribeFunction's handler in-process (on the
template's resources in moto); Chromium (Debian's ``chromium``) is driven over the
DevTools protocol (``tests.support.browser``). The page's own scripts are switched off in the
browser: everything here works without JavaScript. The catalogue is the one shipped with the
function (newsletter, product-updates).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from ses_feedback import wiring
from ses_feedback.model.reasons import Reason
from ses_feedback.model.streams import ALL_BULK_UNSUBSCRIBED
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.template import REPO_ROOT

from tests.integration.conftest import Stack
from tests.support import ses_events
from tests.support.browser import Page, chromium_page

ADDRESS = "jane@example.org"
RESULT = "document.querySelector('#result') && document.querySelector('#result').innerText"


def serve(handler: Any) -> ThreadingHTTPServer:
    template = json.loads((REPO_ROOT / "events" / "unsubscribe" / "get_page.json").read_text())
    lock = threading.Lock()  # one invocation at a time, as one Lambda instance runs them

    class Gateway(BaseHTTPRequestHandler):
        def _invoke(self) -> None:
            token = self.path.split("?", 1)[0].removeprefix("/unsubscribe/")
            length = int(self.headers.get("Content-Length") or 0)
            event = json.loads(json.dumps(template))
            event.update(
                httpMethod=self.command,
                path=f"/unsubscribe/{token}",
                pathParameters={"token": token},
                headers=dict(self.headers.items()),
                multiValueHeaders={k: [v] for k, v in self.headers.items()},
                body=self.rfile.read(length).decode() if length else None,
            )
            event["requestContext"]["httpMethod"] = self.command
            with lock:
                response = handler(event, LocalContext("UnsubscribeFunction"))
            body = response["body"].encode()
            self.send_response(response["statusCode"])
            headers = {**(response.get("headers") or {})}
            headers.update({k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items()})
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _invoke

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the request line holds the token."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class Site:
    url: str
    feedback: Any  # FeedbackFunction's handler: SES's notifications arrive through it

    def complaint_about(self, stream: str) -> None:
        message = ses_events.complaint([ADDRESS])
        message["mail"]["tags"]["stream"] = [stream]
        answer = self.feedback(ses_events.sqs_event(message), LocalContext("FeedbackFunction"))
        assert answer == {"batchItemFailures": []}


@pytest.fixture
def site(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    for function in ("FeedbackFunction", "UnsubscribeFunction"):
        for name, value in stack.local.function_environment(function).items():
            monkeypatch.setenv(name, value)
    feedback = load_handler(stack.local, "FeedbackFunction")
    handler = load_handler(stack.local, "UnsubscribeFunction")
    server = serve(handler)
    token = wiring.key_ring().issue(ADDRESS, "newsletter")
    try:
        yield Site(f"http://127.0.0.1:{server.server_address[1]}/unsubscribe/{token}", feedback)
    finally:
        server.shutdown()
        server.server_close()


def without_scripts(page: Page) -> None:
    """The page must work with JavaScript off: the browser runs none of the page's."""
    page.call("Emulation.setScriptExecutionDisabled", value=True)


def press_by_keyboard(page: Page, selector: str, result: str) -> None:
    """Tab to the button, press Enter, and wait for the page that answers with ``result``."""
    page.tab_to(selector)
    # The focus is visible (the page's own outline, allowed by the CSP's style hash).
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.press("Enter")
    assert page.wait_for(f"({RESULT}) === {json.dumps(result)} && {RESULT}") == result


def scoped(stack_address: str = ADDRESS) -> set[tuple[str, str]]:
    return {(e.scope, e.reason.value) for e in wiring.store().get_state(stack_address).scoped}


def test_the_page_lists_the_catalogue_and_changes_nothing(site: Site) -> None:
    with chromium_page() as page:
        without_scripts(page)
        # When a person opens the link
        page.open(site.url)
        # Then one h1, a heading per stream of the catalogue, the address masked, nothing changed
        assert page.evaluate("document.querySelectorAll('h1').length") == 1
        streams = page.evaluate("[...document.querySelectorAll('h3')].map(h => h.innerText)")
        assert streams == ["Newsletter", "Product updates"]
        text = page.evaluate("document.body.innerText")
        assert "j***@example.org" in text and ADDRESS not in text
        assert "News of the month, once a month." in text
    assert scoped() == set()


def test_leaving_one_leaving_all_and_rejoining_work_by_keyboard(site: Site) -> None:
    with chromium_page() as page:
        without_scripts(page)
        page.open(site.url)
        # Leave one stream
        press_by_keyboard(page, "#leave-product-updates", "You left Product updates.")
        assert scoped() == {("product-updates", "unsubscribed")}
        # The answer leads the title: what a screen reader announces first
        title = page.evaluate("document.title")
        assert title.startswith("You left Product updates.") and title.endswith("Your mail preferences")
        assert page.evaluate("location.href") == site.url  # no redirect: the link's own URL
        # Leave every stream
        press_by_keyboard(page, "#leave-all", "You left every list. Mail about your account still comes.")
        assert scoped() == {("product-updates", "unsubscribed"), (ALL_BULK_UNSUBSCRIBED, "unsubscribed")}
        # Rejoin the lists, then the one left on its own
        press_by_keyboard(page, "#rejoin-all", "You rejoined the lists, except those you left one by one.")
        assert scoped() == {("product-updates", "unsubscribed")}
        press_by_keyboard(page, "#rejoin-product-updates", "You rejoined Product updates.")
        assert scoped() == set()
        # Each button says what it does to which stream (screen readers read the name alone)
        names = page.evaluate("[...document.querySelectorAll('button')].map(b => b.innerText)")
        assert names == ["Leave Newsletter", "Leave Product updates", "Leave every list"]


def test_rejoining_after_a_complaint_is_refused_with_the_pages_words(site: Site) -> None:
    with chromium_page() as page:
        without_scripts(page)
        page.open(site.url)
        press_by_keyboard(page, "#leave-newsletter", "You left Newsletter.")
        # Then one of the newsletters is reported as spam
        site.complaint_about("newsletter")
        page.open(site.url)
        held = page.evaluate("document.querySelector('#held').innerText")
        assert "reported as spam" in held
        # When she tries to rejoin, by keyboard
        page.tab_to("#rejoin-newsletter")
        page.press("Enter")
        refusal = page.wait_for(f"({RESULT} || '').includes('cannot be rejoined') && {RESULT}")
        # Then the page says why in its own words, as an alert, and the complaint stays
        assert refusal.startswith("Newsletter cannot be rejoined.") and "reported as spam" in refusal
        assert page.evaluate("document.querySelector('#result').getAttribute('role')") == "alert"
    assert ("*bulk", Reason.COMPLAINT.value) in scoped() and ("newsletter", "unsubscribed") in scoped()


def test_the_japanese_page_is_served_for_accept_language_ja(site: Site) -> None:
    with chromium_page() as page:
        without_scripts(page)
        page.ask_for_language("ja")
        page.open(site.url)
        assert page.evaluate("document.documentElement.lang") == "ja"
        assert page.evaluate("document.querySelector('h1').innerText") == "メール配信の設定"
        assert page.evaluate("[...document.querySelectorAll('h3')].map(h => h.innerText)") == [
            "ニュースレター",
            "製品の最新情報",
        ]
        press_by_keyboard(page, "#leave-newsletter", "ニュースレターの配信を停止しました。")
    assert scoped() == {("newsletter", "unsubscribed")}


def test_the_page_fits_a_phones_width(site: Site) -> None:
    with chromium_page() as page:
        without_scripts(page)
        page.phone(width=320)
        page.ask_for_language("ja")  # the longer button labels
        page.open(site.url)
        # Nothing scrolls sideways, and every button is within the screen and big enough to touch
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        boxes = page.evaluate(
            "[...document.querySelectorAll('button')].map(b => { const r = b.getBoundingClientRect();"
            " return [r.left, r.right, r.height]; })"
        )
        assert boxes and all(left >= 0 and right <= 320 and height >= 44 for left, right, height in boxes)


def test_a_forged_link_in_a_browser_shows_that_it_does_not_work(site: Site) -> None:
    forged = site.url[:-6] + "AAAAAA"
    with chromium_page() as page:
        without_scripts(page)
        page.open(forged)
        assert page.wait_for(RESULT) == "This link does not work"
        assert page.evaluate("document.querySelector('form')") is None
    assert scoped() == set()


def _luminance(rgb: list[float]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in rgb[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_every_text_on_the_page_has_enough_contrast(site: Site) -> None:
    # Given a page showing every kind of text: a notice, a result, each status, each kind of button
    site.complaint_about("transactional")
    with chromium_page() as page:
        without_scripts(page)
        page.open(site.url)
        pairs = page.evaluate(
            "(() => { const rgb = c => c.match(/[\\d.]+/g).map(Number);"
            " const back = e => { for (; e; e = e.parentElement) {"
            " const c = rgb(getComputedStyle(e).backgroundColor);"
            " if (c.length < 4 || c[3] > 0) return c; } return [255, 255, 255]; };"
            " return [...document.querySelectorAll('h1, h2, h3, p, button, a')]"
            ".map(e => [e.tagName, rgb(getComputedStyle(e).color), back(e)]); })()"
        )
    # Then each is at least WCAG 2's AA ratio for normal text, 4.5:1
    assert {tag for tag, _, _ in pairs} >= {"H1", "H2", "H3", "P"}
    for tag, color, background in pairs:
        light, dark = sorted((_luminance(color), _luminance(background)), reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, (tag, color, background)
