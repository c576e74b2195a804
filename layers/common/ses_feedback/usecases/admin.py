"""Operating the suppression list: read it, suppress by hand, lift.

``SuppressionAdmin`` is the use case both the suppressions API and the CLI call. Input is
checked by ``parsing.operator_input``, decisions come from ``rules.manual``, and every change
goes through the one write path (one transaction per change, conditional on the version
read, so neither feedback nor another operator loses an update).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from ses_feedback.errors import ErasureLiftNeedsForce, InvalidRequest, NotSuppressed, StreamsNotConfigured
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import (
    Action,
    AddressState,
    ApplyResult,
    Decision,
    HistoryEntry,
    HistoryPage,
    ManualOutcome,
    StatePage,
    StreamStatePage,
)
from ses_feedback.observability import logger, metrics
from ses_feedback.parsing.addresses import address_hash, loggable
from ses_feedback.parsing.operator_input import (
    ADDRESSES,
    EXPORT,
    HISTORY,
    RECENT_HISTORY,
    address_field,
    clean_actor,
    clean_erasure_note,
    clean_note,
    stream_field,
    unsubscribe_scope_field,
)
from ses_feedback.rules.announcements import erased_event, lifted_event
from ses_feedback.rules.manual import (
    erasure_audit,
    lift_decision,
    manual_suppression,
    ses_only_lift,
    unsubscribe_lift,
)
from ses_feedback.rules.stats import HistoryCounts, count_history
from ses_feedback.usecases.write_path import WritePath

if TYPE_CHECKING:
    from ses_feedback.edges.ses_account import SesSuppressionList
    from ses_feedback.edges.timeline import TimelineStore
    from ses_feedback.model.streams import Streams
    from ses_feedback.usecases.events_out import EventPublisher


@dataclass(frozen=True)
class OnStream:
    """Whether mail on one stream may go to an address, and if not, why and since when."""

    address: str
    stream: str
    suppressed: bool
    reason: Reason | None
    since: datetime | None


@dataclass(frozen=True)
class Erased:
    deleted_items: int  # items that held the address in clear (state, history)
    since: datetime | None  # when the address was first erased


def _check_listable(reason: Reason | None, stream: str | None) -> None:
    """Refuse a listing that could only ever be empty, saying why."""
    if reason is Reason.ERASED:
        raise InvalidRequest.of(
            "reason", "erased addresses are kept only as a keyed hash: they are not listed"
        )
    if reason is Reason.UNSUBSCRIBED and stream is None:
        raise InvalidRequest.of("reason", "unsubscribes are per stream: list them with a stream")


@dataclass
class SuppressionAdmin:
    writes: WritePath
    ses: SesSuppressionList | None = None  # set when lifts also lift SES's list
    # Events out (docs/events.md): recipient.lifted and recipient.erased on the stack's bus,
    # and the message timelines an erasure rewrites under the address's keyed hash.
    events: EventPublisher | None = None
    timeline: TimelineStore | None = None

    @property
    def now(self) -> datetime:
        return self.writes.clock()

    # ---- reads -----------------------------------------------------------------------------

    def get(
        self, raw_address: str, history_limit: int = RECENT_HISTORY.default
    ) -> tuple[AddressState, list[HistoryEntry]]:
        """The state and the newest history entries (``SuppressionDetail.of`` renders them)."""
        return self.writes.store.get_with_history(
            address_field(raw_address), RECENT_HISTORY.clean(history_limit)
        )

    def on_stream(self, raw_address: str, raw_stream: str, streams: Streams) -> OnStream:
        """Whether ``stream``'s mail may go to the address: the sender's own check, for operators."""
        address, stream = address_field(raw_address), stream_field(raw_stream)
        verdict = self.writes.store.get_state(address).suppression_on(
            stream, streams.is_bulk(stream), self.now
        )
        reason, since = verdict if verdict is not None else (None, None)
        return OnStream(address, stream, verdict is not None, reason, since)

    def erase(self, raw_address: str, note: str | None, actor: str | None) -> Erased:
        """Forget the address (GDPR art. 17) and keep it suppressed on every stream.

        Every item that holds it in clear is deleted; a tombstone named by a keyed hash of
        it stays, with an audit entry (note, actor, never the address). Idempotent.
        """
        address, why, who = address_field(raw_address), clean_erasure_note(note), clean_actor(actor)
        store = self.writes.store
        if store.tombstone_of is None:
            raise StreamsNotConfigured("erasure needs the stack's streams secret (STREAMS_SECRET_ID)")
        now = self.now
        audit = erasure_audit(address, why, who, now, f"erasure:{uuid.uuid4().hex}", lift=False)
        deleted = store.erase(address, audit, now, now + self.writes.history_retention)
        digest = store.tombstone_of(address)
        if self.timeline is not None:
            deleted += self.timeline.erase(address, digest)
        if self.events is not None:
            self.events.announce([erased_event(digest, now)])
        metrics.add_metric(name="AddressesErased", unit=MetricUnit.Count, value=1)
        # The log names the tombstone (a keyed hash), not the address nor its plain hash.
        logger.info(
            "address erased",
            extra={
                "tombstone": store.tombstone_of(address)[:16],
                "deleted_items": deleted,
                "actor": loggable(who),
            },
        )
        return Erased(deleted_items=deleted, since=store.get_state(address).since)

    def history(
        self, raw_address: str, limit: int = HISTORY.default, cursor: str | None = None
    ) -> HistoryPage:
        return self.writes.store.history(address_field(raw_address), HISTORY.clean(limit), cursor)

    def list_suppressed(
        self, reason: Reason | None = None, limit: int = ADDRESSES.default, cursor: str | None = None
    ) -> StatePage:
        _check_listable(reason, None)
        return self.writes.store.list_suppressed(reason, ADDRESSES.clean(limit), cursor, self.now)

    def iter_suppressed(
        self, reason: Reason | None = None, page_size: int = EXPORT.default
    ) -> Iterator[AddressState]:
        """Every suppressed address, page by page (export): memory stays one page."""
        _check_listable(reason, None)
        return self.writes.store.iter_suppressed(reason, self.now, EXPORT.clean(page_size))

    def list_on_stream(
        self,
        raw_stream: str,
        streams: Streams,
        reason: Reason | None = None,
        limit: int = ADDRESSES.default,
        cursor: str | None = None,
    ) -> StreamStatePage:
        """The addresses mail on ``stream`` may not go to now: every-stream suppressions, then the
        scoped ones that cover the stream; ``reason`` is the reason that applies on the stream."""
        stream = stream_field(raw_stream)
        _check_listable(reason, stream)
        bulk = streams.is_bulk(stream)
        page = self.writes.store.list_suppressed(
            reason, ADDRESSES.clean(limit), cursor, self.now, stream=stream, bulk=bulk
        )
        return StreamStatePage(stream, bulk, page.items, page.next_cursor)

    def iter_on_stream(
        self,
        raw_stream: str,
        streams: Streams,
        reason: Reason | None = None,
        page_size: int = EXPORT.default,
    ) -> Iterator[AddressState]:
        """Every address suppressed on ``stream``, page by page (export): memory stays one page."""
        stream = stream_field(raw_stream)
        _check_listable(reason, stream)
        return self.writes.store.iter_suppressed(
            reason, self.now, EXPORT.clean(page_size), stream=stream, bulk=streams.is_bulk(stream)
        )

    def count_history(self, since: datetime | None) -> HistoryCounts:
        """Feedback and changes recorded since ``since``, by event type and action (a table Scan)."""
        return count_history(self.writes.store.scan_history(since))

    def count_suppressed(self) -> dict[Reason, int]:
        return self.writes.store.count_suppressed(self.now)

    # ---- manual changes -------------------------------------------------------------------------

    def suppress(self, raw_address: str, note: str | None, actor: str | None) -> ManualOutcome:
        address, why, who = address_field(raw_address), clean_note(note), clean_actor(actor)
        key = f"manual:{uuid.uuid4().hex}"
        written = self.writes.write(address, lambda state, now: manual_suppression(state, why, who, now, key))
        if written.decision is None:
            return ManualOutcome(written.state.current(self.now), changed=False)
        self._log(written.decision)
        return ManualOutcome(written.state, changed=written.result is ApplyResult.APPLIED)

    def lift(
        self,
        raw_address: str,
        note: str | None,
        actor: str | None,
        force: bool = False,
        raw_stream: str | None = None,
    ) -> ManualOutcome:
        """Lift a suppression: the every-stream one (and a bulk complaint), or with a stream its unsubscribe.

        An erased address is lifted only with ``force``: its tombstone is deleted and it
        comes back clean (its data went with the erasure).
        """
        address, why, who = address_field(raw_address), clean_note(note), clean_actor(actor)
        stream = unsubscribe_scope_field(raw_stream) if raw_stream is not None else None
        now = self.now
        state = self.writes.store.get_state(address)
        if state.erased:
            if stream is not None:
                raise InvalidRequest.of(
                    "stream", "the address is erased, its unsubscribes with it: lift the erasure, no stream"
                )
            return self._lift_erasure(address, why, who, force)
        if stream is not None:
            return self._lift_unsubscribe(state, stream, why, who)
        key = f"lift:{uuid.uuid4().hex}"
        try:
            lift_decision(state, why, who, now, force=force, key=key)  # refuse before touching SES
        except NotSuppressed:
            if self.ses is None or not self.ses.remove(address):
                raise
            # Only SES had it (our sync had not imported it yet): lifted there, say so here.
            decision = ses_only_lift(address, why, who, now, key)
            self.writes.record(decision)
            self._log(decision)
            return ManualOutcome(state.current(now), changed=True, ses_removed=True)
        # SES first: if it fails, nothing changed here and the lift can simply be retried.
        ses_removed = self.ses.remove(address) if self.ses is not None else None
        written = self.writes.write(
            address, lambda s, at: lift_decision(s, why, who, at, force=force, key=key), state
        )
        if written.decision is not None:
            self._log(written.decision)
        outcome = ManualOutcome(written.state, changed=written.result is ApplyResult.APPLIED)
        if outcome.changed and self.events is not None and written.decision is not None:
            self.events.announce([lifted_event(written.decision, state.reason)])
        return replace(outcome, ses_removed=ses_removed)

    def _lift_unsubscribe(self, state: AddressState, stream: str, why: str, who: str) -> ManualOutcome:
        key = f"lift:{stream}:{uuid.uuid4().hex}"
        unsubscribe_lift(state, stream, why, who, self.now, key=key)  # refuse before writing anything
        written = self.writes.write(
            state.address, lambda s, at: unsubscribe_lift(s, stream, why, who, at, key=key), state
        )
        if written.decision is not None:
            self._log(written.decision)
        outcome = ManualOutcome(written.state, changed=written.result is ApplyResult.APPLIED)
        if outcome.changed and self.events is not None and written.decision is not None:
            self.events.announce([lifted_event(written.decision, Reason.UNSUBSCRIBED, stream)])
        return outcome

    def _lift_erasure(self, address: str, why: str, who: str, force: bool) -> ManualOutcome:
        store = self.writes.store
        assert store.tombstone_of is not None  # an erased state is only read with it
        if not force:
            raise ErasureLiftNeedsForce(
                "the address is erased: lifting an erasure needs force (--force, or ?force=true)"
            )
        now = self.now
        audit = erasure_audit(address, why, who, now, f"erasure-lift:{uuid.uuid4().hex}", lift=True)
        if not store.lift_erasure(address, audit, now, now + self.writes.history_retention):
            raise NotSuppressed("the address is not erased (any more)")
        metrics.add_metric(name="SuppressionsLifted", unit=MetricUnit.Count, value=1)
        logger.info(
            "erasure lifted",
            extra={"tombstone": store.tombstone_of(address)[:16], "actor": loggable(who), "forced": True},
        )
        return ManualOutcome(AddressState(address=address), changed=True)

    @staticmethod
    def _log(decision: Decision) -> None:
        # The operations dashboard's "Suppressions added, and lifted" widget draws these.
        if decision.action is Action.LIFT:
            metrics.add_metric(name="SuppressionsLifted", unit=MetricUnit.Count, value=1)
        elif decision.reason is Reason.MANUAL:
            metrics.add_metric(name="SuppressedManual", unit=MetricUnit.Count, value=1)
        logger.info(
            "suppression changed by hand",
            extra={
                "action": decision.action.value,
                "detail": decision.detail,
                "reason": decision.reason.value if decision.reason else None,
                "actor": loggable(decision.actor),
                "address_hash": address_hash(decision.address),
            },
        )
