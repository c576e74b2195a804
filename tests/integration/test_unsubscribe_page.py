"""The unsubscribe page in a real browser: headless Chromium loads it, presses the button, sees the answer.

A tiny HTTP server on loopback plays API Gateway: it turns each request into the REST proxy
event API Gateway would send and calls UnsubscribeFunction's handler in-process (on the
template's resources in moto); Chromium (Debian's ``chromium``) is driven over the
DevTools protocol (``tests.support.browser``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from ses_feedback import wiring
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.template import REPO_ROOT

from tests.integration.conftest import Stack
from tests.support.browser import chromium_page

ADDRESS = "jane@example.org"


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


@pytest.fixture
def page_url(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in stack.local.function_environment("UnsubscribeFunction").items():
        monkeypatch.setenv(name, value)
    handler = load_handler(stack.local, "UnsubscribeFunction")
    server = serve(handler)
    token = wiring.key_ring().issue(ADDRESS, "newsletter")
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/unsubscribe/{token}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_page_in_a_browser_unsubscribes_only_when_the_button_is_pressed(page_url: str) -> None:
    store = wiring.store()
    with chromium_page() as page:
        # When a person opens the link
        page.open(page_url)
        # Then the page names the stream and masks the address, and nothing changed yet
        text = page.evaluate("document.body.innerText")
        assert "newsletter" in text and "j***@example.org" in text
        assert store.get_state(ADDRESS).scoped == ()
        # When they press the button
        page.click("#unsubscribe")
        # Then the browser shows the answer, and the address is unsubscribed from that stream
        result = page.wait_for(
            "document.querySelector('#result') && document.querySelector('#result').innerText"
        )
        assert result == "You are unsubscribed"
        assert page.evaluate("location.href") == page_url  # no redirect
    (entry,) = store.get_state(ADDRESS).scoped
    assert (entry.scope, entry.reason.value) == ("newsletter", "unsubscribed")


def test_a_forged_link_in_a_browser_shows_that_it_does_not_work(page_url: str) -> None:
    forged = page_url[:-6] + "AAAAAA"
    with chromium_page() as page:
        page.open(forged)
        result = page.wait_for(
            "document.querySelector('#result') && document.querySelector('#result').innerText"
        )
        assert result == "This link does not work"
        assert page.evaluate("document.querySelector('form')") is None
    assert wiring.store().get_state(ADDRESS).scoped == ()
