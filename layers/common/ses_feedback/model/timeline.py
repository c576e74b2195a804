"""A message's timeline: what was sent, to whom, and each event since (GET /messages/{id})."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# A recipient's status: the strongest outcome so far, strongest first; ``suppressed``: the send
# dropped the recipient (nothing was sent to it), so no other outcome can follow.
STATUS_ORDER = ("complained", "bounced", "rejected", "delivered", "delayed", "sent")
SUPPRESSED = "suppressed"
SENT = "sent"


class TimelineEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    type: str = Field(description="The event's type (message.bounced, recipient.suppressed, …)")
    at: datetime
    id: str


class TimelineRecipient(BaseModel):
    model_config = ConfigDict(frozen=True)

    address: str = Field(description="The recipient, or after an erasure the address's hash")
    status: str = Field(
        description="complained > bounced > rejected > delivered > delayed > sent; or suppressed"
    )
    events: list[TimelineEvent] = Field(default_factory=list, description="Oldest first")


class Timeline(BaseModel):
    model_config = ConfigDict(frozen=True)

    message_id: str
    app: str | None
    stream: str | None
    tags: dict[str, str] = Field(default_factory=dict)
    sent_at: datetime | None = Field(
        description="null: the stack heard of the message only from SES's feedback"
    )
    idempotency_key: str | None = None
    recipients: list[TimelineRecipient]


class TimelineList(BaseModel):
    """The messages one idempotency key was used for (at most one per idempotency window)."""

    messages: list[Timeline]


def event_fields(detail: dict[str, Any]) -> dict[str, Any]:
    """An event's own fields, as the timeline keeps them (the envelope is the message's)."""
    envelope = {"id", "type", "version", "occurred_at", "app", "message_id", "stream", "tags", "address"}
    return {name: value for name, value in detail.items() if name not in envelope and value is not None}
