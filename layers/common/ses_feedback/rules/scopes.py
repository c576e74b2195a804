"""What each reason blocks: the scope table (docs/sending.md, "What each reason blocks").

| reason | about a message on | blocks |
| --- | --- | --- |
| hard_bounce, soft_bounce, manual, erased | any stream | every stream |
| complaint | a bulk stream | every bulk stream |
| complaint | a transactional stream, or unknown (identity notifications carry no tags) | every stream |
| unsubscribed | a stream | that stream |
| unsubscribed (the recipient left every bulk stream) | — | every bulk stream, later ones too |

Pure: the stream catalogue is passed in.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import Action, AddressState, Decision, Source
from ses_feedback.model.streams import ALL_BULK, ALL_BULK_UNSUBSCRIBED, EVERY, ScopedSuppression, Streams


def scope_of(reason: Reason, stream: str | None, streams: Streams) -> str:
    """The scope a suppression for ``reason``, caused by mail on ``stream``, covers."""
    if reason is Reason.UNSUBSCRIBED:
        if stream is None:
            raise ValueError("an unsubscribe names its stream")
        return stream
    if reason is Reason.COMPLAINT and stream is not None and streams.is_bulk(stream):
        return ALL_BULK
    return EVERY


def suppress_scoped(state: AddressState, scope: str, reason: Reason, now: datetime) -> AddressState:
    """The state with a suppression of ``scope`` added (unchanged when one already covers it).

    An unsubscribe is kept even under an every-stream suppression: it is the person's wish,
    and must outlive a lifted bounce.
    """
    if reason is not Reason.UNSUBSCRIBED and state.holds_against(reason, now):
        return state  # already suppressed on every stream at least as strongly
    if any(entry.scope == scope for entry in state.scoped):
        return state
    return replace(state, scoped=(*state.scoped, ScopedSuppression(scope, reason, now)))


UNSUBSCRIBE_EVENT = "Unsubscribe"


def unsubscribe_decision(
    state: AddressState, scope: str, now: datetime, key: str, how: str = "one-click unsubscribe"
) -> Decision | None:
    """The recipient leaves ``scope`` (a stream, or ``ALL_BULK_UNSUBSCRIBED``); None when they
    already have (idempotent). ``how``: the door, for the history."""
    unsubscribed = suppress_scoped(state, scope, Reason.UNSUBSCRIBED, now)
    if unsubscribed is state:
        return None
    return Decision(
        address=state.address,
        action=Action.SUPPRESS,
        event_type=UNSUBSCRIBE_EVENT,
        detail=f"{scope_words(scope)}: {how}",
        dedupe_key=key,
        occurred_at=now,
        new_state=unsubscribed,
        reason=Reason.UNSUBSCRIBED,
        source=Source.RECIPIENT,
    )


def scope_words(scope: str) -> str:
    """A scope as the history and the logs say it."""
    if scope == ALL_BULK_UNSUBSCRIBED:
        return "every bulk stream (left by the recipient)"
    if scope == ALL_BULK:
        return "every bulk stream"
    return "every stream" if scope == EVERY else f"stream {scope}"
