"""Operators' changes to the suppression list, as pure rules: state + input + now → a decision.

- a manual suppression (reason ``manual``, with a note and who asked) never replaces an
  equal or stronger reason (complaint, hard bounce, manual); it replaces a soft bounce;
- lifting needs a suppressed address; lifting a complaint needs ``force``; it clears the
  soft-bounce count too (the person fixed their mailbox) and remembers when it happened:
  new feedback may suppress the address again at once, but an import or SES's list only
  with evidence dated after the lift. Without a stream, a lift clears the every-stream
  suppression and a complaint about bulk mail; an unsubscribe is lifted only by naming its
  stream (it is the person's wish, and outlives every other lift);
- an imported entry (a file, or SES's own list) suppresses unless an equal or stronger
  reason holds, a lift came after the entry's date, or a soft bounce would already be over.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum

from ses_feedback.errors import ComplaintLiftNeedsForce, NotSuppressed
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import Action, AddressState, Decision
from ses_feedback.model.streams import ALL_BULK
from ses_feedback.parsing.csv_rows import ImportEntry
from ses_feedback.rules.scopes import scope_words, suppress_scoped

MANUAL_EVENT = "Manual"  # the history's event type for changes made by an operator
IMPORT_EVENT = "Import"  # … and for entries loaded in bulk (a file, or SES's list)
ERASURE_EVENT = "Erasure"  # … and for an erasure or its lift (kept beside the tombstone, no address)


def manual_suppression(
    state: AddressState, note: str, actor: str, now: datetime, key: str
) -> Decision | None:
    """Suppress by hand; None when an equal or stronger suppression already holds."""
    if state.holds_against(Reason.MANUAL, now):
        return None
    new_state = replace(
        state.current(now), reason=Reason.MANUAL, since=now, expires_at=None, note=note, actor=actor
    )
    return Decision(
        address=state.address,
        action=Action.SUPPRESS,
        event_type=MANUAL_EVENT,
        detail="suppressed by hand",
        dedupe_key=key,
        occurred_at=now,
        new_state=new_state,
        reason=Reason.MANUAL,
        note=note,
        actor=actor,
    )


def lift_decision(
    state: AddressState, note: str, actor: str, now: datetime, *, force: bool, key: str
) -> Decision:
    """Lift the every-stream suppression and a complaint about bulk mail; complaints only with ``force``."""
    current = state.current(now)
    bulk_complaints = [entry for entry in current.scoped if entry.scope == ALL_BULK]
    lifted_reasons = [r for r in (current.reason, *(e.reason for e in bulk_complaints)) if r is not None]
    if not lifted_reasons:
        unsubscribed = sorted(e.scope for e in current.scoped if e.reason is Reason.UNSUBSCRIBED)
        hint = (
            f" (it is unsubscribed from {', '.join(unsubscribed)}: name the stream)" if unsubscribed else ""
        )
        raise NotSuppressed(f"the address is not suppressed{hint}")
    if Reason.COMPLAINT in lifted_reasons and not force:
        raise ComplaintLiftNeedsForce(
            "the address complained: lifting a complaint needs force (--force, or ?force=true)"
        )
    lifted = replace(
        current,
        reason=None,
        since=None,
        expires_at=None,
        note=None,
        actor=None,
        soft_bounce_count=0,
        soft_window_start=None,
        lifted_at=now,
        scoped=tuple(entry for entry in current.scoped if entry.scope != ALL_BULK),
    )
    what = current.reason.value if current.reason is not None else "complaint (bulk streams)"
    if current.reason is not None and bulk_complaints:
        what += " and complaint (bulk streams)"
    return Decision(
        address=state.address,
        action=Action.LIFT,
        event_type=MANUAL_EVENT,
        detail=f"lifted {what}" + (" (forced)" if force else ""),
        dedupe_key=key,
        occurred_at=now,
        new_state=lifted,
        reason=current.reason or Reason.COMPLAINT,
        note=note,
        actor=actor,
    )


def unsubscribe_lift(
    state: AddressState, stream: str, note: str, actor: str, now: datetime, *, key: str
) -> Decision:
    """Lift an unsubscribe from ``stream`` (the person subscribed again: say so in the note)."""
    kept = tuple(
        entry for entry in state.scoped if not (entry.scope == stream and entry.reason is Reason.UNSUBSCRIBED)
    )
    if len(kept) == len(state.scoped):
        raise NotSuppressed(f"the address is not unsubscribed from {scope_words(stream)}")
    return Decision(
        address=state.address,
        action=Action.LIFT,
        event_type=MANUAL_EVENT,
        detail=f"lifted unsubscribed; {scope_words(stream)}",
        dedupe_key=key,
        occurred_at=now,
        new_state=replace(state, scoped=kept),
        reason=Reason.UNSUBSCRIBED,
        note=note,
        actor=actor,
    )


def erasure_audit(address: str, note: str, actor: str, now: datetime, key: str, *, lift: bool) -> Decision:
    """The audit entry of an erasure (``lift``: of its lift); the store keeps it without the address."""
    return Decision(
        address=address,
        action=Action.LIFT if lift else Action.SUPPRESS,
        event_type=ERASURE_EVENT,
        detail="erasure lifted; the address may be mailed again"
        if lift
        else "every item holding the address deleted; tombstone kept",
        dedupe_key=key,
        occurred_at=now,
        new_state=None,
        reason=Reason.ERASED,
        note=note,
        actor=actor,
    )


def ses_only_lift(address: str, note: str, actor: str, now: datetime, key: str) -> Decision:
    """A lift that only SES's account list needed (our table had no suppression): history only."""
    return Decision(
        address=address,
        action=Action.LIFT,
        event_type=MANUAL_EVENT,
        detail="lifted on the SES account-level suppression list",
        dedupe_key=key,
        occurred_at=now,
        new_state=None,
        note=note,
        actor=actor,
    )


class Verdict(StrEnum):
    """What an import does with one entry."""

    NEW = "new"  # the table does not know the address: one batched write
    UPDATE = "update"  # it does (counters, a weaker reason, a lift): a conditional, audited write
    UNCHANGED = "unchanged"  # already suppressed for an equal or stronger reason
    LIFTED = "lifted"  # an operator lifted it after the entry's date (or the entry has none)
    EXPIRED = "expired"  # a soft bounce whose suppression would already be over


def import_verdict(
    entry: ImportEntry, state: AddressState, actor: str, now: datetime, soft_bounce_suppression: timedelta
) -> tuple[Verdict, AddressState | None]:
    """The verdict for one imported entry, and the state to write for NEW and UPDATE."""
    current = state.current(now)
    since = entry.since or now
    if entry.stream is not None:
        # An unsubscribe (one stream) is kept whatever else holds: the person's wish outlives a
        # lifted bounce. A complaint about bulk mail (every bulk stream), like any complaint,
        # is not re-imposed from evidence older than a lift.
        lifted = current.lifted_at
        older = lifted is not None and (entry.since is None or entry.since <= lifted)
        if entry.reason is not Reason.UNSUBSCRIBED and older:
            return Verdict.LIFTED, None
        scoped = suppress_scoped(current, entry.stream, entry.reason, since)
        if scoped is current:
            return Verdict.UNCHANGED, None
        if state.version == 0:
            return Verdict.NEW, replace(scoped, version=1)
        return Verdict.UPDATE, scoped
    expires_at = None
    if entry.reason is Reason.SOFT_BOUNCE:
        expires_at = since + soft_bounce_suppression
        if expires_at <= now:
            return Verdict.EXPIRED, None
    if current.holds_against(entry.reason, now):
        return Verdict.UNCHANGED, None
    if current.lifted_at is not None and (entry.since is None or entry.since <= current.lifted_at):
        return Verdict.LIFTED, None
    new_state = replace(
        current, reason=entry.reason, since=since, expires_at=expires_at, note=entry.note, actor=actor
    )
    if state.version == 0:
        return Verdict.NEW, replace(new_state, version=1)
    return Verdict.UPDATE, new_state


def import_decision(
    entry: ImportEntry, new_state: AddressState, actor: str, now: datetime, key: str
) -> Decision:
    """The audited write for an imported entry the table already knows."""
    return Decision(
        address=entry.address,
        action=Action.SUPPRESS,
        event_type=IMPORT_EVENT,
        detail=f"imported; stream {entry.stream}" if entry.stream else "imported",
        dedupe_key=key,
        occurred_at=now,
        new_state=new_state,
        reason=entry.reason,
        note=entry.note,
        actor=actor,
    )


def stronger_entry(held: ImportEntry, candidate: ImportEntry) -> ImportEntry:
    """Of two rows for one address in one batch, the one whose reason outranks (the first on a tie)."""
    return held if held.reason.at_least_as_strong_as(candidate.reason) else candidate
