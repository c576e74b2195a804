"""A message as SES will get it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingMessage:
    """A message as SES will get it: addresses already checked against the suppression list."""

    sender: str
    to: Sequence[str] = ()
    cc: Sequence[str] = ()
    bcc: Sequence[str] = ()
    reply_to: Sequence[str] = ()
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    template_name: str | None = None
    template_data: str | None = None  # JSON text, as SES takes it
    tags: Mapping[str, str] = field(default_factory=dict)
    # Extra headers (SES v2 Content.*.Headers): List-Unsubscribe & co. on bulk streams only.
    headers: Mapping[str, str] = field(default_factory=dict)
