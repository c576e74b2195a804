"""A recipient's status on a message's timeline: the strongest outcome so far. Pure."""

from __future__ import annotations

from collections.abc import Iterable

from ses_feedback.model.timeline import SENT, STATUS_ORDER, SUPPRESSED

# message.* event type → the outcome it stands for (opens, clicks and list changes are no outcome).
_OUTCOME = {
    "message.complained": "complained",
    "message.bounced": "bounced",
    "message.rejected": "rejected",
    "message.rendering_failed": "rejected",
    "message.delivered": "delivered",
    "message.delayed": "delayed",
    "message.suppressed": SUPPRESSED,
}


def status_of(initial: str, event_types: Iterable[str]) -> str:
    """``initial``: what the send recorded (``sent`` or ``suppressed``)."""
    if initial == SUPPRESSED:
        return SUPPRESSED
    outcomes = {_OUTCOME[kind] for kind in event_types if kind in _OUTCOME}
    if SUPPRESSED in outcomes and len(outcomes) == 1:
        return SUPPRESSED
    return next((status for status in STATUS_ORDER if status in outcomes), SENT)
