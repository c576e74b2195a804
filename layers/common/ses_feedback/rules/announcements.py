"""Events that say what the stack did, not what SES reported: a send's dropped recipients,
an operator's lift, an unsubscribe, an erasure, a batch's end (docs/events.md). Pure.

Apart from ``rules.outbound`` (which reads SES's notifications), so the sender and the
unsubscribe page do not load SES's event models on their cold start.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime

from ses_feedback.model.batches import BatchState, BatchStatus
from ses_feedback.model.outbound import (
    BatchDone,
    BusEvent,
    MessageSuppressed,
    RecipientErased,
    RecipientLifted,
    RecipientResubscribed,
    RecipientUnsubscribed,
)
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import Decision

# A fixed namespace: the same key gives the same id in every container and every release.
_ID_NAMESPACE = uuid.UUID("6f1c1b2e-4b1e-4c55-9d0c-5e5f2b1a7c31")


def event_id(*parts: str) -> str:
    """A stable id for an event: the same parts, the same id."""
    return str(uuid.uuid5(_ID_NAMESPACE, "|".join(parts)))


def send_suppressions(
    *,
    message_key: str,
    app: str,
    stream: str,
    tags: Mapping[str, str],
    dropped: Iterable[tuple[str, Reason, datetime | None]],
    now: datetime,
    message_id: str | None,
) -> list[BusEvent]:
    """``message.suppressed`` for each recipient a send dropped or refused.

    ``message_key``: what makes this send unique (its message id, or the request's own id
    when nothing was sent)."""
    return [
        MessageSuppressed(
            id=event_id(message_key, "message.suppressed", address),
            occurred_at=now,
            app=app,
            message_id=message_id,
            stream=stream,
            tags=dict(tags),
            address=address,
            reason=reason,
            since=since,
        )
        for address, reason, since in dropped
    ]


def lifted_event(decision: Decision, reason: Reason | None, stream: str | None = None) -> RecipientLifted:
    """``recipient.lifted``: an operator lifted ``reason`` (on ``stream``, an unsubscribe); no app:
    no message caused it."""
    return RecipientLifted(
        id=event_id(decision.dedupe_key, "recipient.lifted", decision.address),
        occurred_at=decision.occurred_at,
        address=decision.address,
        stream=stream,
        reason=reason,
    )


def recipient_change(kind: str, address: str, scope: str, occurred_at: datetime) -> BusEvent:
    """``recipient.unsubscribed`` / ``recipient.resubscribed``: the recipient's own change, from
    their link, of one stream or of every bulk stream (``scope``)."""
    model = (
        RecipientResubscribed
        if kind == RecipientResubscribed.model_fields["type"].default
        else RecipientUnsubscribed
    )
    return model(
        id=event_id(kind, address, scope, occurred_at.isoformat()),
        occurred_at=occurred_at,
        address=address,
        stream=None if scope.startswith("*") else scope,
        scope=scope,
    )


def erased_event(digest: str, now: datetime) -> RecipientErased:
    """``recipient.erased``: the address is gone; only its keyed hash (the tombstone's) is told."""
    return RecipientErased(
        id=event_id("erasure", digest, now.isoformat()),
        occurred_at=now,
        address=None,
        address_hash=digest,
    )


def batch_done(status: BatchStatus, app: str, tags: Mapping[str, str], now: datetime) -> BatchDone:
    """``batch.done``: the batch's final counts, once (its id is the batch's: a second publish of
    the same end is the same event). Its failures are left out: they hold addresses."""
    finished = datetime.fromisoformat(status.finished_at) if status.finished_at else now
    return BatchDone(
        id=event_id("batch.done", status.batch_id),
        occurred_at=now,
        app=app,
        stream=status.stream,
        tags=dict(tags),
        address=None,
        batch_id=status.batch_id,
        state="cancelled" if status.state is BatchState.CANCELLED else "done",
        total=status.total,
        sent=status.sent,
        suppressed=status.suppressed,
        failed=status.failed,
        refused=status.refused,
        cancelled=status.cancelled,
        created_at=datetime.fromisoformat(status.created_at),
        finished_at=finished,
    )
