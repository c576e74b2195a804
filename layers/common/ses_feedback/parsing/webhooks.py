"""What an app asks for when it adds a webhook: a URL and the event types it wants, validated.

A deployed stack accepts only ``https://`` URLs (EventBridge's API destinations call only
HTTPS); local mode (``WEBHOOK_LOOPBACK_HTTP``) also takes ``http://`` to a loopback address,
so a developer's receiver on 127.0.0.1 works. A URL is refused, never rewritten.
"""

from __future__ import annotations

from ipaddress import ip_address
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ses_feedback.errors import InvalidRequest
from ses_feedback.model.outbound import SUBSCRIBABLE

# EventBridge's limit on an API destination's InvocationEndpoint.
MAX_URL = 2048
LOOPBACK_HOSTS = frozenset({"localhost"})


class WebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL)] = Field(
        description="where each event's detail is POSTed (https://)"
    )
    events: list[str] = Field(
        default_factory=lambda: list(SUBSCRIBABLE),
        description="the event types to receive (default: every type)",
    )
    app: str | None = Field(default=None, description="only an operator may name another app, or '*'")


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, loopback_http: bool) -> str:
    """The URL, if a webhook may be delivered there; else ``InvalidRequest`` naming ``url``."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if loopback_http and parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return url
    wanted = "an https:// URL" + (" (or http:// to a loopback address, locally)" if loopback_http else "")
    raise InvalidRequest.of("url", f"must be {wanted}")


def check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(SUBSCRIBABLE))
    if unknown or not events:
        raise InvalidRequest.of(
            "events",
            f"must name at least one of {', '.join(SUBSCRIBABLE)}"
            + (f"; not {', '.join(unknown)}" if unknown else ""),
        )
    return list(dict.fromkeys(events))
