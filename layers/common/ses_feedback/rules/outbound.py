"""Which events app teams hear of, from what the stack learned (docs/events.md). Pure.

A notification becomes one ``message.*`` event per recipient it names, and a change to the
list becomes a ``recipient.*`` event. Every event's ``id`` is derived from the exactly-once
key of what caused it (``rules.policy.dedupe_key``; opens and clicks add their own time and
link, because SES gives them no feedback id), so the same notification always yields the
same ids: the timeline finds the ones it already published, and a receiver can de-duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ses_feedback.errors import InvalidAddress
from ses_feedback.model.outbound import (
    BusEvent,
    MessageBounced,
    MessageClicked,
    MessageComplained,
    MessageDelayed,
    MessageDelivered,
    MessageOpened,
    MessageRejected,
    MessageRenderingFailed,
    RecipientSuppressed,
)
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import Action, AddressState, Decision
from ses_feedback.model.streams import EVERY, STREAM_TAG
from ses_feedback.parsing.addresses import normalize_address
from ses_feedback.parsing.events import BouncedRecipient, DelayedRecipient, EventType, FeedbackEvent
from ses_feedback.parsing.send_request import APP_TAG
from ses_feedback.rules.announcements import event_id
from ses_feedback.rules.policy import dedupe_key

# Tags SES adds itself (ses:operation, ses:source-ip, …) are not the send's.
_SES_TAG_PREFIX = "ses:"


def send_tags(tags: Mapping[str, list[str]] | None) -> dict[str, str]:
    """The send's own tags from SES's ``mail.tags`` (without app, stream and SES's own)."""
    return {
        name: values[0]
        for name, values in (tags or {}).items()
        if values and name not in (APP_TAG, STREAM_TAG) and not name.startswith(_SES_TAG_PREFIX)
    }


def app_of(event: FeedbackEvent) -> str | None:
    values = (event.mail.tags or {}).get(APP_TAG) or []
    return values[0] if values else None


def recipients_of(event: FeedbackEvent) -> list[str]:
    """The event's recipients, normalised; one SES could not have delivered to is left out
    (the feedback use case fails such a record when the policy needs it)."""
    addresses: list[str] = []
    for raw in event.recipients:
        try:
            address = normalize_address(raw)
        except InvalidAddress:
            continue
        if address not in addresses:
            addresses.append(address)
    return addresses


def message_events(event: FeedbackEvent) -> list[BusEvent]:
    """One ``message.*`` event per recipient of a notification (none for Send and Subscription:
    the sender's own record says what was sent)."""
    if event.type is None:
        return []
    common: dict[str, Any] = {
        "message_id": event.mail.message_id,
        "app": app_of(event),
        "stream": event.stream,
        "tags": send_tags(event.mail.tags),
    }
    built: list[BusEvent] = []
    for address in recipients_of(event):
        key = dedupe_key(event, address)
        fields = {**common, "address": address}
        item = _one(event, address, key, fields)
        if item is not None:
            built.append(item)
    return built


def _one(event: FeedbackEvent, address: str, key: str, fields: dict[str, Any]) -> BusEvent | None:
    def ident(kind: str, *extra: str) -> str:
        return event_id(key, kind, address, *extra)

    at = event.timestamp
    if event.bounce is not None:
        bounce = event.bounce
        return MessageBounced(
            id=ident("message.bounced"),
            occurred_at=at,
            bounce_type=bounce.bounce_type,
            bounce_subtype=bounce.bounce_sub_type,
            diagnostic_code=_diagnostic(bounce.bounced_recipients, address),
            **fields,
        )
    if event.complaint is not None:
        return MessageComplained(
            id=ident("message.complained"),
            occurred_at=at,
            feedback_type=event.complaint.complaint_feedback_type,
            **fields,
        )
    if event.delivery is not None:
        return MessageDelivered(
            id=ident("message.delivered"),
            occurred_at=at,
            smtp_response=event.delivery.smtp_response,
            **fields,
        )
    if event.delivery_delay is not None:
        delay = event.delivery_delay
        return MessageDelayed(
            id=ident("message.delayed", _iso(delay.timestamp)),
            occurred_at=delay.timestamp or at,
            delay_type=delay.delay_type,
            diagnostic_code=_diagnostic(delay.delayed_recipients, address),
            **fields,
        )
    if event.type is EventType.REJECT:
        reason = event.reject.reason if event.reject else None
        return MessageRejected(id=ident("message.rejected"), occurred_at=at, reason=reason, **fields)
    if event.type is EventType.RENDERING_FAILURE:
        failure = event.failure
        return MessageRenderingFailed(
            id=ident("message.rendering_failed"),
            occurred_at=at,
            error_message=failure.error_message if failure else None,
            template_name=failure.template_name if failure else None,
            **fields,
        )
    if event.type is EventType.OPEN:
        opened = event.open.timestamp if event.open else None
        return MessageOpened(id=ident("message.opened", _iso(opened)), occurred_at=opened or at, **fields)
    if event.type is EventType.CLICK:
        click = event.click
        clicked = click.timestamp if click else None
        link = click.link if click else None
        return MessageClicked(
            id=ident("message.clicked", _iso(clicked), link or ""),
            occurred_at=clicked or at,
            link=link,
            **fields,
        )
    return None  # Send, Subscription


def _diagnostic(recipients: Iterable[BouncedRecipient | DelayedRecipient], address: str) -> str | None:
    """The receiving server's words about ``address``, when SES passed them on."""
    return next(
        (r.diagnostic_code for r in recipients if r.diagnostic_code and _same(r.email_address, address)), None
    )


def _same(raw: str, address: str) -> bool:
    try:
        return normalize_address(raw) == address
    except InvalidAddress:
        return False


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def list_change(
    event: FeedbackEvent, decision: Decision, before: AddressState, duplicate: bool
) -> RecipientSuppressed | None:
    """``recipient.suppressed`` when feedback's decision suppressed the address.

    A first application publishes only when the suppression is new (a second hard bounce to a
    hard-bounced address changes nothing). A repeated one (``duplicate``) yields the event
    again with the same id, so an event whose first publication failed is published by the
    redelivery, and one that was published is found in the timeline and not published twice.
    """
    after = decision.new_state
    if decision.action is not Action.SUPPRESS or decision.reason is None or after is None:
        return None
    held = _held(after, decision.reason)
    if held is None:
        return None  # a stronger suppression stays; this one changed nothing
    if not duplicate and _held(before, decision.reason) == held:
        return None  # already suppressed so, since the same moment, until the same expiry
    scope = held[0]
    return RecipientSuppressed(
        id=event_id(decision.dedupe_key, "recipient.suppressed", decision.address),
        occurred_at=decision.occurred_at,
        app=app_of(event),
        message_id=event.mail.message_id,
        stream=event.stream,
        tags=send_tags(event.mail.tags),
        address=decision.address,
        reason=decision.reason,
        scope=scope,
        expires_at=after.expires_at if scope == EVERY else None,
    )


def _held(state: AddressState, reason: Reason) -> tuple[str, datetime | None, datetime | None] | None:
    """The suppression for ``reason`` that ``state`` holds: its scope, since and expiry."""
    if state.reason is reason:
        return EVERY, state.since, state.expires_at
    return next(((e.scope, e.since, None) for e in state.scoped if e.reason is reason), None)
