"""A webhook receiver on loopback, as an app team would run one: records every POST it gets.

The demo shows what a webhook receives with it; nothing else of the stack depends on it.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ses_feedback.model.webhooks import SECRET_HEADER


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[str | None, dict[str, Any]]] = []  # (secret header, body)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                owner.received.append((self.headers.get(SECRET_HEADER), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass  # the demo prints what it received itself

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return [body for _, body in self.received]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
