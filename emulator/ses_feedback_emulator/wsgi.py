"""What the emulator's WSGI middlewares share: passing a request on to moto and reading its answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def passed_on(
    app: Callable[..., Any], environ: dict[str, Any], start_response: Callable[..., Any]
) -> tuple[str, bytes]:
    """Hand the request to ``app``, which answers the client as it would; its status and body."""
    captured: dict[str, str] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"] = status
        return start_response(status, headers, exc_info)

    body = b"".join(app(environ, capture))
    return captured.get("status", ""), body
