"""What a recipient may change from the preference page, as pure rules: state + scope + now → a decision.

A recipient leaves a bulk stream (the one-click unsubscribe's own entry), leaves every bulk
stream (``ALL_BULK_UNSUBSCRIBED``: streams added later too) and rejoins what they left. They
lift only their own ``unsubscribed`` entries: a complaint, a bounce, a manual or an erased
entry is not theirs, and a rejoin that such an entry would still hold back is refused
(``RejoinRefused``) and changes nothing, so the page can say why instead of pretending.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ses_feedback.errors import RejoinRefused
from ses_feedback.model.preferences import PreferenceView, StreamChoice
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import Action, AddressState, Decision, Source
from ses_feedback.model.streams import ALL_BULK, ALL_BULK_UNSUBSCRIBED
from ses_feedback.rules.scopes import scope_words, unsubscribe_decision

RESUBSCRIBE_EVENT = "Resubscribe"
PAGE = "preference page"  # the door, as the history says it


def held_by(state: AddressState, stream: str | None, now: datetime) -> Reason | None:
    """What the recipient cannot lift that keeps bulk mail on ``stream`` (None: on every bulk
    stream) from the address; None when only their own unsubscribes do, or nothing."""
    if state.erased:
        return Reason.ERASED
    current = state.current(now)
    if current.reason is not None:
        return current.reason
    for entry in current.scoped:
        if entry.reason is not Reason.UNSUBSCRIBED and entry.scope in (ALL_BULK, stream):
            return entry.reason
    return None


def view(
    state: AddressState, link_stream: str, masked_address: str, shown: list[str], now: datetime
) -> PreferenceView:
    """The page for ``state``: ``shown`` (the catalogue's bulk streams) with the link's stream
    and every stream the recipient left, so that they can rejoin a stream the catalogue no
    longer names."""
    left = {e.scope for e in state.scoped if e.reason is Reason.UNSUBSCRIBED}
    streams = list(dict.fromkeys([*shown, link_stream, *sorted(left - {ALL_BULK_UNSUBSCRIBED})]))
    return PreferenceView(
        link_stream=link_stream,
        masked_address=masked_address,
        left_all=ALL_BULK_UNSUBSCRIBED in left,
        held_by=held_by(state, None, now),
        choices=tuple(
            StreamChoice(
                stream=stream,
                left=stream in left,
                left_all=ALL_BULK_UNSUBSCRIBED in left,
                held_by=held_by(state, stream, now),
            )
            for stream in streams
        ),
    )


def leave(state: AddressState, scope: str, now: datetime, key: str) -> Decision | None:
    """Leave a stream, or every bulk stream (``ALL_BULK_UNSUBSCRIBED``); None: already left."""
    return unsubscribe_decision(state, scope, now, key, how=PAGE)


def rejoin(state: AddressState, scope: str, now: datetime, key: str) -> Decision | None:
    """Lift the recipient's own unsubscribe from ``scope``; None when there is none (idempotent).

    Refused while something the recipient cannot lift holds the same mail back.
    """
    held = held_by(state, None if scope == ALL_BULK_UNSUBSCRIBED else scope, now)
    if held is not None:
        raise RejoinRefused(scope_words(scope), held.value)
    kept = tuple(e for e in state.scoped if not (e.scope == scope and e.reason is Reason.UNSUBSCRIBED))
    if len(kept) == len(state.scoped):
        return None
    return Decision(
        address=state.address,
        action=Action.LIFT,
        event_type=RESUBSCRIBE_EVENT,
        detail=f"{scope_words(scope)}: rejoined on the {PAGE}",
        dedupe_key=key,
        occurred_at=now,
        new_state=replace(state, scoped=kept),
        reason=Reason.UNSUBSCRIBED,
        source=Source.RECIPIENT,
    )
