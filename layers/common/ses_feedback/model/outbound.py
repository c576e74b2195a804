"""The events the stack publishes to app teams (docs/events.md): one versioned shape per type.

Each event is the ``detail`` of one EventBridge event on the stack's own bus (``source``
``ses-feedback``, ``detail-type`` = ``type``) and the JSON body of each webhook delivery.
Every shape carries the same envelope fields (``id``, ``type``, ``version``, ``occurred_at``,
``app``, ``message_id``, ``stream``, ``tags``, ``address``) and its type's own fields. The
committed JSON schemas (``schemas/events/<type>.json``) are generated from these models;
a test fails while they differ. A change that is not additive bumps ``version``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ses_feedback.model.reasons import Reason

SOURCE = "ses-feedback"
VERSION: Literal[1] = 1


class BusEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_serialization_defaults_required=True)

    type: str = Field(
        description="What happened: message.*, recipient.* or batch.*; the EventBridge detail-type"
    )
    id: str = Field(
        description="Unique per event, and the same when the stack publishes an event again: "
        "de-duplicate on it"
    )
    version: Literal[1] = Field(
        default=VERSION, description="The shape's version; bumped by a change that is not additive"
    )
    occurred_at: datetime = Field(description="When it happened (SES's timestamp for feedback), ISO 8601 UTC")
    app: str | None = Field(
        default=None, description="The app that sent the message (or whose message caused the list change)"
    )
    message_id: str | None = Field(default=None, description="SES's message id, when a message is involved")
    stream: str | None = Field(default=None, description="The stream the message was sent on, when known")
    tags: dict[str, str] = Field(default_factory=dict, description="The send's own tags")
    address: str | None = Field(
        description="The recipient (normalised); null in recipient.erased and batch.done"
    )


class MessageDelivered(BusEvent):
    type: Literal["message.delivered"] = "message.delivered"
    smtp_response: str | None = None


class MessageBounced(BusEvent):
    type: Literal["message.bounced"] = "message.bounced"
    bounce_type: str = Field(description="SES's bounceType: Permanent, Transient or Undetermined")
    bounce_subtype: str = Field(description="SES's bounceSubType, e.g. General, NoEmail, MailboxFull")
    diagnostic_code: str | None = Field(default=None, description="The receiving server's words, when given")


class MessageComplained(BusEvent):
    type: Literal["message.complained"] = "message.complained"
    feedback_type: str | None = Field(
        default=None, description="The ARF feedback type (abuse, fraud, not-spam, …); null without a report"
    )


class MessageDelayed(BusEvent):
    type: Literal["message.delayed"] = "message.delayed"
    delay_type: str | None = None
    diagnostic_code: str | None = None


class MessageRejected(BusEvent):
    type: Literal["message.rejected"] = "message.rejected"
    reason: str | None = Field(default=None, description="SES's reason, e.g. Bad content")


class MessageRenderingFailed(BusEvent):
    type: Literal["message.rendering_failed"] = "message.rendering_failed"
    error_message: str | None = None
    template_name: str | None = None


class MessageOpened(BusEvent):
    type: Literal["message.opened"] = "message.opened"


class MessageClicked(BusEvent):
    type: Literal["message.clicked"] = "message.clicked"
    link: str | None = None


class MessageSuppressed(BusEvent):
    type: Literal["message.suppressed"] = "message.suppressed"
    reason: Reason = Field(description="Why the send dropped or refused this recipient")
    since: datetime | None = None


class RecipientSuppressed(BusEvent):
    type: Literal["recipient.suppressed"] = "recipient.suppressed"
    reason: Reason
    scope: str = Field(
        description="What it blocks: '*' every stream, '*bulk' every bulk stream, or one stream"
    )
    expires_at: datetime | None = Field(default=None, description="null: until lifted")


class RecipientLifted(BusEvent):
    type: Literal["recipient.lifted"] = "recipient.lifted"
    reason: Reason | None = Field(default=None, description="The suppression that was lifted")


class RecipientUnsubscribed(BusEvent):
    type: Literal["recipient.unsubscribed"] = "recipient.unsubscribed"
    scope: str = Field(description="The stream left, or '*bulk-unsubscribed': every bulk stream")


class RecipientResubscribed(BusEvent):
    type: Literal["recipient.resubscribed"] = "recipient.resubscribed"
    scope: str = Field(description="The stream rejoined, or '*bulk-unsubscribed': every bulk stream")


class RecipientErased(BusEvent):
    type: Literal["recipient.erased"] = "recipient.erased"
    address_hash: str = Field(description="The erased address's hash (the same hash the logs carry)")


class BatchDone(BusEvent):
    """A batch is over: every recipient it queued has its outcome, so the counts are final.

    No address: a batch's failed recipients are listed by ``GET /batches/{batch_id}``."""

    type: Literal["batch.done"] = "batch.done"
    batch_id: str
    state: Literal["done", "cancelled"] = Field(
        description="done: sent to the end; cancelled: cancelled, and its last pending recipient settled"
    )
    total: int = Field(description="recipients in the request, refused ones included")
    sent: int
    suppressed: int = Field(description="suppressed at send time: not mailed")
    failed: int = Field(
        description="refused by SES, interrupted or not queued: GET /batches/{batch_id} lists them"
    )
    refused: int = Field(description="refused when the batch was accepted (invalid)")
    cancelled: int
    created_at: datetime
    finished_at: datetime = Field(description="when the last recipient was settled, or when it was cancelled")


class WebhookTest(BusEvent):
    """What ``webhooks test ID`` sends: only to that webhook, to check that it receives."""

    type: Literal["webhook.test"] = "webhook.test"
    webhook_id: str


OutboundEvent = Annotated[
    MessageDelivered
    | MessageBounced
    | MessageComplained
    | MessageDelayed
    | MessageRejected
    | MessageRenderingFailed
    | MessageOpened
    | MessageClicked
    | MessageSuppressed
    | RecipientSuppressed
    | RecipientLifted
    | RecipientUnsubscribed
    | RecipientResubscribed
    | RecipientErased
    | BatchDone
    | WebhookTest,
    Field(discriminator="type"),
]

EVENT_MODELS: tuple[type[BusEvent], ...] = (
    MessageDelivered,
    MessageBounced,
    MessageComplained,
    MessageDelayed,
    MessageRejected,
    MessageRenderingFailed,
    MessageOpened,
    MessageClicked,
    MessageSuppressed,
    RecipientSuppressed,
    RecipientLifted,
    RecipientUnsubscribed,
    RecipientResubscribed,
    RecipientErased,
    BatchDone,
    WebhookTest,
)


def type_of(model: type[BusEvent]) -> str:
    return str(model.model_fields["type"].default)


EVENT_TYPES: tuple[str, ...] = tuple(type_of(model) for model in EVENT_MODELS)
# What a webhook may subscribe to (a test goes to the one webhook it tests, whatever it chose).
SUBSCRIBABLE: tuple[str, ...] = tuple(kind for kind in EVENT_TYPES if kind != "webhook.test")


def json_schemas() -> dict[str, dict[str, object]]:
    """Each type's JSON schema (draft 2020-12), as committed in docs/events/ (``make event-schemas``)."""
    schemas: dict[str, dict[str, object]] = {}
    for model in EVENT_MODELS:
        kind = type_of(model)
        schema = model.model_json_schema(mode="serialization")
        schemas[kind] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:ses-feedback:event:{kind}:v{VERSION}",
            **schema,
        }
    return schemas
