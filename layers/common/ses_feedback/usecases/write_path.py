"""The one write path every change to an address takes: read → decide → conditional apply.

Feedback, manual changes and imports all write through ``WritePath.write``: it reads the
state (or takes the one the caller already holds), asks a pure rule for a decision, and
writes it conditionally on the version it read. When another writer got there first
(``VersionConflict``) it backs off, re-reads and asks the rule again, so concurrent writers
never lose each other's update. The store's one retry policy (``ses_feedback.retry``) says how
long to wait and when to give up (``ConcurrentUpdate``: retrying later is safe).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ses_feedback.errors import AddressErased, ConcurrentUpdate, VersionConflict
from ses_feedback.model.moments import utc_now
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import AddressState, ApplyResult, Decision
from ses_feedback.parsing.addresses import address_hash
from ses_feedback.retry import RetryPolicy

if TYPE_CHECKING:
    from ses_feedback.edges.store import SuppressionStore

Rule = Callable[[AddressState, datetime], Decision | None]


@dataclass(frozen=True)
class Written:
    decision: Decision | None  # None: the rule had nothing to do
    result: ApplyResult | None  # None when nothing was written
    state: AddressState  # the state after this write (as read, when it did not change it)


@dataclass
class WritePath:
    store: SuppressionStore
    history_retention: timedelta
    clock: Callable[[], datetime] = utc_now
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def write(self, address: str, rule: Rule, state: AddressState | None = None) -> Written:
        """Apply ``rule``'s decision for ``address``; ``state``: what the caller last read, if anything."""
        attempt = 0
        while True:
            now = self.clock()
            current = state if state is not None else self.store.get_state(address)
            if current.erased:
                # Erased: only a tombstone is left, and nothing may put the address back in clear.
                return Written(None, None, current)
            decision = rule(current, now)
            if decision is None:
                return Written(None, None, current)
            try:
                applied = self.store.apply(decision, current, now, now + self.history_retention)
            except VersionConflict:
                if not self.retry.wait(attempt):
                    break
                attempt += 1
                state = None
                continue
            except AddressErased:
                # Erased since the caller's read (or read without its tombstone): nothing written.
                return Written(None, None, _erased(current))
            return Written(decision, applied.result, applied.state or current)
        raise ConcurrentUpdate(f"address {address_hash(address)} kept changing")

    def record(self, decision: Decision) -> ApplyResult:
        """Write a history entry that changes no state (only a concurrent transaction can cancel it)."""
        blank = AddressState(address=decision.address)
        attempt = 0
        while True:
            now = self.clock()
            try:
                return self.store.apply(decision, blank, now, now + self.history_retention).result
            except VersionConflict:
                if not self.retry.wait(attempt):
                    break
                attempt += 1
            except AddressErased:
                return ApplyResult.DUPLICATE  # nothing written: the erasure already holds everything back
        raise ConcurrentUpdate(f"address {address_hash(decision.address)} kept changing")


def _erased(state: AddressState) -> AddressState:
    return replace(state, reason=Reason.ERASED, erased=True, scoped=())
