"""`ses-feedback local mailbox`: what the local SES accepted, read from the moto server.

The local SES (``ses.py``) keeps every message SendEmail accepted, oldest first, at
``GET /_local/messages``; this module fetches it, keeps the messages to one address when
asked, and prints them for a person (or as JSON for a machine).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from ses_feedback_emulator.simulator import bare_address

MESSAGES_PATH = "/_local/messages"
# How much of a body the listing for people shows.
PREVIEW_CHARS = 200


def fetch(endpoint: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{endpoint.rstrip('/')}{MESSAGES_PATH}", timeout=timeout) as response:
        messages: list[dict[str, Any]] = json.loads(response.read())
    return messages


def accepted_in(messages: list[dict[str, Any]], region: str) -> list[dict[str, Any]]:
    """The messages the SES of ``region`` accepted (each region's SES keeps its own)."""
    return [m for m in messages if m.get("region", "us-east-1") == region]


def addressed_to(messages: list[dict[str, Any]], address: str) -> list[dict[str, Any]]:
    """The messages with ``address`` among their to, cc or bcc recipients (case-insensitive)."""
    wanted = bare_address(address).lower()
    return [
        m for m in messages if any(bare_address(r).lower() == wanted for r in [*m["to"], *m["cc"], *m["bcc"]])
    ]


def describe(message: dict[str, Any]) -> list[str]:
    lines = [
        f"{message['accepted_at']}  {message['message_id']}",
        f"  From:    {message['from']}",
    ]
    for kind in ("to", "cc", "bcc"):
        if message[kind]:
            lines.append(f"  {kind.capitalize() + ':':<8} {', '.join(message[kind])}")
    lines.append(f"  Subject: {message['subject'] if message['subject'] is not None else '-'}")
    if message["tags"]:
        lines.append("  Tags:    " + ", ".join(f"{k}={v}" for k, v in message["tags"].items()))
    for recipient in message["recipients"]:
        detail = f" ({recipient['detail']})" if recipient.get("detail") else ""
        lines.append(f"  → {recipient['address']}: {recipient['outcome']}{detail}")
    body = message["text"] if message["text"] is not None else message["html"]
    if body:
        preview = " ".join(body.split())
        lines.append("  " + (preview[:PREVIEW_CHARS] + "…" if len(preview) > PREVIEW_CHARS else preview))
    return lines
