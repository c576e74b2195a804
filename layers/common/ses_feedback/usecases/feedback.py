"""The feedback use case: decide → apply, for parsed SES events.

FeedbackFunction's handler parses a batch, hands every parsed event to ``prefetch`` (the
state of every recipient that the policy needs, in one BatchGetItem per 100 addresses),
then each to ``process`` in order; batch processing and partial responses are its own. Events that change no
suppression (Send, Open, Click, DeliveryDelay, a Delivery to an address with no soft
bounces) cost no DynamoDB request beyond that read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from ses_feedback.errors import EventsNotPublished, InvalidNotification
from ses_feedback.model.outbound import BusEvent
from ses_feedback.model.policy import PolicySettings
from ses_feedback.model.state import AddressState, ApplyResult, Decision
from ses_feedback.observability import logger, metrics
from ses_feedback.parsing.addresses import address_hash, loggable
from ses_feedback.parsing.events import FeedbackEvent
from ses_feedback.rules.outbound import list_change, message_events, recipients_of
from ses_feedback.rules.policy import affected_addresses, decide_one, read_recipients
from ses_feedback.usecases.write_path import WritePath

if TYPE_CHECKING:
    from ses_feedback.usecases.events_out import EventPublisher

# The bounce types SES documents; each is a metric (BouncePermanent …), anything else BounceOther.
BOUNCE_TYPES = frozenset({"Permanent", "Transient", "Undetermined"})


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    result: ApplyResult


@dataclass
class FeedbackProcessor:
    """Applies parsed feedback to the store, remembering the states it has read or written."""

    writes: WritePath
    policy: PolicySettings
    states: dict[str, AddressState] = field(default_factory=dict)
    # The stack's event bus (None: this deployment publishes no events); events wait here,
    # per record, until ``publish_events`` sends the whole batch's together.
    publisher: EventPublisher | None = None
    pending: dict[str, list[BusEvent]] = field(default_factory=dict)

    def prefetch(self, events: Iterable[FeedbackEvent]) -> None:
        """Read, in as few requests as possible, every state these events will need."""
        if self._tells_events():
            # Every recipient an event will name, with the erasure keys: an erased address is
            # published nowhere (two keys an address, still one BatchGetItem per 50).
            wanted = [a for e in events for a in recipients_of(e) if a not in self.states]
            if wanted:
                self.states.update(self.writes.store.get_states(wanted, tombstones=True))
            return
        missing = [a for e in events for a in affected_addresses(e) if a not in self.states]
        if missing:
            # Without the erasure keys: feedback only writes, and every write checks them itself.
            self.states.update(self.writes.store.get_states(missing, tombstones=False))

    def _tells_events(self) -> bool:
        return self.publisher is not None and self.writes.store.tombstone_of is not None

    def process(self, event: FeedbackEvent, record: str = "") -> list[Outcome]:
        """Apply one notification; ``record``: its SQS message id, to fail it if its events cannot
        be published."""
        metrics.add_metric(
            name=_metric_name("Feedback", event.raw_type if event.type else "Unknown"),
            unit=MetricUnit.Count,
            value=1,
        )
        if event.bounce is not None:
            # Bounces by type for the dashboard; a type SES has not documented counts as Other.
            kind = event.bounce.bounce_type if event.bounce.bounce_type in BOUNCE_TYPES else "Other"
            metrics.add_metric(name=f"Bounce{kind}", unit=MetricUnit.Count, value=1)
        if event.type is None:
            # SES may add event types; acknowledge them rather than fail the batch.
            # The type is the body's own text: log it with any address in it hashed.
            logger.warning(
                "unknown ses event type acknowledged", extra={"event_type": loggable(event.raw_type)}
            )
            return []
        self.prefetch([event])
        outcomes = []
        addresses, unreadable = read_recipients(event)
        changes: list[BusEvent] = []
        for address in addresses:
            before = self.states.get(address) or AddressState(address=address)
            outcome = self._apply_one(event, address)
            if outcome is not None:
                outcomes.append(outcome)
                change = list_change(event, outcome.decision, before, outcome.result is ApplyResult.DUPLICATE)
                if change is not None:
                    changes.append(change)
        if self.publisher is not None:
            self.pending.setdefault(record, []).extend([*message_events(event), *changes])
        if unreadable:
            # The others are applied (a retry finds them done); this one must reach a person: the DLQ.
            positions = ", ".join(str(position) for position in unreadable)
            raise InvalidNotification(
                f"recipients at {positions} are no email address this service can store; "
                f"the {len(addresses)} others were applied"
            )
        return outcomes

    def publish_events(self) -> list[str]:
        """Publish the events of every record processed since the last call, together; the
        records whose events the bus would not take (to be failed, and redelivered by SQS)."""
        pending, self.pending = self.pending, {}
        if self.publisher is None or not pending:
            return []
        events = [e for batch in pending.values() for e in batch]
        erased = self._erased({e.address for e in events if e.address})
        try:
            self.publisher.publish([e for e in events if e.address not in erased])
        except EventsNotPublished as exc:
            left = set(exc.ids)
            failed = [record for record, events in pending.items() if any(e.id in left for e in events)]
            logger.error("events not published", extra={"records": failed, "events": len(left)})
            return failed
        return []

    def _erased(self, addresses: set[str]) -> set[str]:
        """Which of these addresses are erased: their events would carry them in clear to the bus
        and the timeline, which an erasure forbids (``prefetch`` read them with their tombstones)."""
        if not self._tells_events():
            return set()
        unknown = [a for a in addresses if a not in self.states]
        if unknown:
            self.states.update(self.writes.store.get_states(unknown, tombstones=True))
        return {a for a in addresses if self.states[a].erased}

    def _apply_one(self, event: FeedbackEvent, address: str) -> Outcome | None:
        # Prefetched addresses start from the state read for the whole batch; a conflict
        # makes the write path re-read (ConcurrentUpdate after its last attempt: the record
        # fails and SQS redelivers it later).
        written = self.writes.write(
            address,
            lambda state, now: decide_one(event, address, state, now, self.policy),
            self.states.get(address) or AddressState(address=address),
        )
        self.states[address] = written.state
        if written.decision is None or written.result is None:
            return None
        self._record(written.decision, written.result)
        return Outcome(written.decision, written.result)

    def _record(self, decision: Decision, result: ApplyResult) -> None:
        if result is ApplyResult.DUPLICATE:
            metrics.add_metric(name="DuplicateFeedback", unit=MetricUnit.Count, value=1)
        else:
            metrics.add_metric(name=_metric_name("Decision", decision.action), unit=MetricUnit.Count, value=1)
            if decision.reason is not None and decision.new_state is not None:
                metrics.add_metric(
                    name=_metric_name("Suppressed", decision.reason), unit=MetricUnit.Count, value=1
                )
        logger.info(
            "feedback applied",
            extra={
                "event_type": decision.event_type,
                "detail": decision.detail,
                "action": decision.action.value,
                "result": result.value,
                "address_hash": address_hash(decision.address),
            },
        )


def _metric_name(prefix: str, name: str) -> str:
    return prefix + "".join(
        part.capitalize() if part.islower() else part for part in name.replace("_", " ").split()
    )
