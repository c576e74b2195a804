"""Feedback + an address's current state + now → decisions. Pure: no I/O, time passed in.

The table this implements is docs/feedback.md's; every number comes from
``PolicySettings`` (template parameters → environment → settings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from ses_feedback.errors import InvalidAddress
from ses_feedback.model.policy import PolicySettings
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import Action, AddressState, Decision
from ses_feedback.model.streams import EVERY
from ses_feedback.parsing.addresses import normalize_address
from ses_feedback.parsing.events import EventType, FeedbackEvent
from ses_feedback.rules.scopes import scope_of, suppress_scoped

# Transient bounces that say the *content* failed, not the address.
CONTENT_SUBTYPES = frozenset({"ContentRejected", "AttachmentRejected"})
NOT_SPAM = "not-spam"


def dedupe_key(event: FeedbackEvent, address: str) -> str:
    """SES's feedbackId where there is one, else message id + event type + recipient."""
    if event.feedback_id:
        return event.feedback_id
    return f"{event.mail.message_id}:{event.raw_type}:{address}"


def needs_state(event: FeedbackEvent) -> bool:
    """Whether deciding this event needs the recipients' stored state (the others cost no I/O)."""
    return event.type in {EventType.BOUNCE, EventType.COMPLAINT, EventType.DELIVERY}


def read_recipients(event: FeedbackEvent) -> tuple[list[str], list[int]]:
    """The normalised recipients whose state the event may change, and the positions of those
    that are no email address we can store (SES is less strict than the validator)."""
    if not needs_state(event):
        return [], []
    addresses: list[str] = []
    unreadable: list[int] = []
    for position, raw in enumerate(event.recipients):
        try:
            address = normalize_address(raw)
        except InvalidAddress:
            unreadable.append(position)
            continue
        if address not in addresses:
            addresses.append(address)
    return addresses, unreadable


def affected_addresses(event: FeedbackEvent) -> list[str]:
    """The normalised recipients whose state the event may change."""
    return read_recipients(event)[0]


def decide(
    event: FeedbackEvent,
    states: Mapping[str, AddressState],
    now: datetime,
    settings: PolicySettings,
) -> list[Decision]:
    """Decide what the event means for each recipient, given their states (absent = clean)."""
    decisions = []
    for address in affected_addresses(event):
        state = states.get(address, AddressState(address=address))
        decision = decide_one(event, address, state, now, settings)
        if decision is not None:
            decisions.append(decision)
    return decisions


def decide_one(
    event: FeedbackEvent, address: str, state: AddressState, now: datetime, settings: PolicySettings
) -> Decision | None:
    """The decision for one recipient (None: the event changes nothing for it)."""
    state = state.current(now)

    def make(
        action: Action, detail: str, new_state: AddressState | None, reason: Reason | None = None
    ) -> Decision:
        return Decision(
            address=address,
            action=action,
            event_type=event.raw_type,
            detail=detail,
            dedupe_key=dedupe_key(event, address),
            occurred_at=event.timestamp,
            new_state=new_state,
            reason=reason,
        )

    if event.bounce is not None:
        bounce = event.bounce
        detail = f"{bounce.bounce_type}/{bounce.bounce_sub_type}"
        if bounce.bounce_type == "Permanent":
            return make(
                Action.SUPPRESS, detail, _suppress(state, Reason.HARD_BOUNCE, now, None), Reason.HARD_BOUNCE
            )
        if bounce.bounce_sub_type in CONTENT_SUBTYPES:
            return make(Action.RECORD, detail, None)
        # Transient, Undetermined, or a bounce type SES has not documented yet: count it.
        action, new_state, reason = _count_soft_bounce(state, now, settings)
        return make(action, detail, new_state, reason)

    if event.complaint is not None:
        complaint = event.complaint
        detail = complaint.complaint_feedback_type or "no-feedback-report"
        if complaint.complaint_feedback_type == NOT_SPAM:
            return make(Action.RECORD, detail, None)
        scope = scope_of(Reason.COMPLAINT, event.stream, settings.streams)
        if scope != EVERY:
            scoped = suppress_scoped(state, scope, Reason.COMPLAINT, now)
            return make(
                Action.SUPPRESS,
                f"{detail}; stream {event.stream}, blocks bulk streams",
                scoped,
                Reason.COMPLAINT,
            )
        return make(Action.SUPPRESS, detail, _suppress(state, Reason.COMPLAINT, now, None), Reason.COMPLAINT)

    if event.delivery is not None:
        if state.soft_bounce_count == 0:
            return None  # nothing to reset: a delivery costs no write
        reset = replace(state, soft_bounce_count=0, soft_window_start=None)
        return make(Action.RESET_SOFT_BOUNCES, "delivered", reset)
    return None


def _suppress(
    state: AddressState, reason: Reason, now: datetime, expires_at: datetime | None
) -> AddressState:
    """The state after suppressing for ``reason``; a stronger existing reason stays."""
    if state.holds_against(reason, now):
        if state.reason != reason or state.expires_at is None:
            return state
        # The same temporary reason again: extend the expiry, keep the original date.
        return replace(state, expires_at=max(expires_at or now, state.expires_at))
    return replace(state, reason=reason, since=now, expires_at=expires_at, note=None, actor=None)


def _count_soft_bounce(
    state: AddressState, now: datetime, settings: PolicySettings
) -> tuple[Action, AddressState, Reason | None]:
    # The window opens at the first soft bounce and lasts soft_bounce_window; a bounce after
    # it closes opens a new one. Bounces are counted at processing time (``now``), because a
    # bounce's own timestamp is the remote ISP's clock.
    window_open = (
        state.soft_window_start is not None and now - state.soft_window_start < settings.soft_bounce_window
    )
    count = state.soft_bounce_count + 1 if window_open else 1
    start = state.soft_window_start if window_open else now
    counted = replace(state, soft_bounce_count=count, soft_window_start=start)
    if count < settings.soft_bounce_threshold:
        return Action.COUNT_SOFT_BOUNCE, counted, None
    # Threshold reached: suppress for a while and start counting afresh afterwards.
    cleared = replace(counted, soft_bounce_count=0, soft_window_start=None)
    suppressed = _suppress(cleared, Reason.SOFT_BOUNCE, now, now + settings.soft_bounce_suppression)
    return Action.SUPPRESS, suppressed, Reason.SOFT_BOUNCE
