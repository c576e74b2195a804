"""What the suppression list knows of an address, what a decision does to it, and pages of both."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from ses_feedback.model.reasons import Reason
from ses_feedback.model.streams import EVERY, ScopedSuppression


class Action(StrEnum):
    """What a decision does to an address; also the metric names' suffix."""

    SUPPRESS = "suppress"  # the address is (now) suppressed for this reason
    COUNT_SOFT_BOUNCE = "count_soft_bounce"  # one more soft bounce in the window
    RESET_SOFT_BOUNCES = "reset_soft_bounces"  # a delivery cleared the soft-bounce count
    RECORD = "record"  # kept in the address's history, state unchanged
    LIFT = "lift"  # an operator lifted the suppression


class Source(StrEnum):
    """Who made a change, when it was neither SES's feedback nor an operator (who has ``actor``)."""

    RECIPIENT = "recipient"  # the address's own person: one-click unsubscribe, the preference page


@dataclass(frozen=True)
class AddressState:
    """What the store knows of one address. ``version`` guards every write (optimistic locking)."""

    address: str
    reason: Reason | None = None
    since: datetime | None = None
    expires_at: datetime | None = None
    soft_bounce_count: int = 0
    soft_window_start: datetime | None = None
    note: str | None = None
    actor: str | None = None
    version: int = 0
    # When an operator last lifted a suppression: bulk imports and the SES sync do not
    # re-impose one from evidence older than that (new feedback always may).
    lifted_at: datetime | None = None
    # Suppressions of one stream or of every bulk stream (``reason`` above covers every stream).
    scoped: tuple[ScopedSuppression, ...] = ()
    # Read from an erasure's tombstone: ``address`` is only the caller's; nothing may be written.
    erased: bool = False

    def suppression_on(self, stream: str, bulk: bool, now: datetime) -> tuple[Reason, datetime | None] | None:
        """Why (and since when) mail on ``stream`` may not go to this address; None: it may."""
        applying = self.scope_on(stream, bulk, now)
        return None if applying is None else applying[1:]

    def scope_on(self, stream: str, bulk: bool, now: datetime) -> tuple[str, Reason, datetime | None] | None:
        """The suppression that applies on ``stream``: its scope (``EVERY``, ``ALL_BULK`` or the
        stream), reason and since; None: mail on ``stream`` may go to this address."""
        if self.is_suppressed(now):
            assert self.reason is not None
            return EVERY, self.reason, self.since
        for entry in self.scoped:
            if entry.covers(stream, bulk):
                return entry.scope, entry.reason, entry.since
        return None

    def is_suppressed(self, now: datetime) -> bool:
        """Expired suppressions count as lifted even before DynamoDB's TTL deletes them."""
        return self.reason is not None and (self.expires_at is None or self.expires_at > now)

    def current(self, now: datetime) -> AddressState:
        """This state with an expired suppression cleared."""
        if self.reason is not None and not self.is_suppressed(now):
            return replace(self, reason=None, since=None, expires_at=None, note=None, actor=None)
        return self

    def holds_against(self, reason: Reason, now: datetime) -> bool:
        """Whether a current suppression is at least as strong as ``reason`` (so it stays)."""
        held = self.current(now).reason
        return held is not None and held.at_least_as_strong_as(reason)


@dataclass(frozen=True)
class Decision:
    """The outcome of one event (feedback, or an operator's change) for one address."""

    address: str
    action: Action
    event_type: str
    detail: str  # subtype / feedback type, for the history and the logs
    dedupe_key: str  # the same event always yields the same key
    occurred_at: datetime
    new_state: AddressState | None  # None: the state is not written
    reason: Reason | None = None
    note: str | None = None  # why, for a manual change
    actor: str | None = None  # who, for a manual change: an IAM principal or operator
    source: Source | None = None  # the recipient, for their own changes


@dataclass(frozen=True)
class HistoryEntry:
    occurred_at: datetime
    event_type: str
    action: str
    detail: str
    reason: str | None
    dedupe_key: str
    note: str | None = None
    actor: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class StatePage:
    """One page of suppressed addresses; ``next_cursor`` is None on the last page."""

    items: list[AddressState]
    next_cursor: str | None


@dataclass(frozen=True)
class StreamStatePage:
    """One page of a stream's listing: the addresses mail on ``stream`` may not go to now."""

    stream: str
    bulk: bool
    items: list[AddressState]
    next_cursor: str | None


@dataclass(frozen=True)
class HistoryPage:
    """One page of an address's history, newest first; ``next_cursor`` is None on the last page."""

    items: list[HistoryEntry]
    next_cursor: str | None


class ApplyResult(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Applied:
    result: ApplyResult
    state: AddressState | None = None  # the state as written, when this write changed it


@dataclass(frozen=True)
class ManualOutcome:
    """What an operator's suppress or lift did."""

    state: AddressState
    changed: bool  # False: nothing to do (already suppressed as strongly, say)
    ses_removed: bool | None = None  # whether SES's list had it; None when the sync is off


class AlarmState(StrEnum):
    """CloudWatch's alarm states, spelled as CloudWatch spells them."""

    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
