"""The feedback use case: parse → decide → apply, for a batch of SQS or SNS records.

The handler calls ``handle_event`` and nothing else. A batch is parsed first, then the
state of every recipient that the policy needs is fetched in one BatchGetItem per 100
addresses, then each record is decided and applied in order. Events that change no
suppression (Send, Open, Click, DeliveryDelay, a Delivery to an address with no soft
bounces) cost no DynamoDB request beyond that read.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ses_feedback.addresses import address_hash
from ses_feedback.errors import ConcurrentUpdate, InvalidNotification
from ses_feedback.events import FeedbackEvent, parse_ses_message, parse_sns_notification, parse_sqs_body
from ses_feedback.observability import logger, metrics
from ses_feedback.policy import AddressState, Decision, affected_addresses, decide_one
from ses_feedback.settings import Settings, get_settings
from ses_feedback.store import ApplyResult, SuppressionStore, VersionConflict

# How often one record re-reads an address that others keep changing before it gives up
# (the record then fails and SQS redelivers it later).
MAX_CONFLICT_RETRIES = 200
# The bounce types SES documents; each is a metric (BouncePermanent …), anything else BounceOther.
BOUNCE_TYPES = frozenset({"Permanent", "Transient", "Undetermined"})


def utc_now() -> datetime:
    return datetime.now(UTC)


@cache
def get_store() -> SuppressionStore:
    """The container's store; built on first use so that tests and local mode set the env first."""
    return SuppressionStore(get_settings().table_name)


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    result: ApplyResult


@dataclass
class FeedbackProcessor:
    """Applies parsed feedback to the store, remembering the states it has read or written."""

    store: SuppressionStore
    settings: Settings
    clock: Callable[[], datetime] = utc_now
    states: dict[str, AddressState] = field(default_factory=dict)

    def prefetch(self, events: Iterable[FeedbackEvent]) -> None:
        """Read, in as few requests as possible, every state these events will need."""
        missing = [a for e in events for a in affected_addresses(e) if a not in self.states]
        if missing:
            self.states.update(self.store.get_states(missing))

    def process(self, event: FeedbackEvent) -> list[Outcome]:
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
            logger.warning("unknown ses event type acknowledged", extra={"event_type": event.raw_type})
            return []
        self.prefetch([event])
        outcomes = []
        for address in affected_addresses(event):
            outcome = self._apply_one(event, address)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def _apply_one(self, event: FeedbackEvent, address: str) -> Outcome | None:
        now = self.clock()
        retention_until = now + self.settings.history_retention
        for attempt in range(MAX_CONFLICT_RETRIES):
            state = self.states.get(address) or AddressState(address=address)
            decision = decide_one(event, address, state, now, self.settings.policy)
            if decision is None:
                return None
            try:
                result = self.store.apply(decision, state, now, retention_until)
            except VersionConflict:
                # Someone else changed the address first: back off (exponential, full
                # jitter, to spread the contenders), re-read and decide again.
                time.sleep(random.uniform(0, min(0.2, 0.004 * 2 ** min(attempt, 6))))
                self.states[address] = self.store.get_state(address)
                continue
            if result.state is not None:
                self.states[address] = result.state
            self._record(decision, result.result)
            return Outcome(decision, result.result)
        raise ConcurrentUpdate(f"address {address_hash(address)} kept changing")

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


# ---- entry: the three event shapes a FeedbackFunction can be invoked with -----------------


def handle_event(event: dict[str, Any], context: LambdaContext, processor: BatchProcessor) -> dict[str, Any]:
    """An SQS batch (partial failures reported), a direct SNS event, or one bare SES event."""
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        if records[0].get("eventSource") == "aws:sqs":
            return _handle_sqs(event, context, processor)
        if records[0].get("EventSource") == "aws:sns":
            return _handle_sns(records)
    if "eventType" in event or "notificationType" in event:
        outcomes = _new_processor().process(parse_ses_message(event))
        return {"applied": len(outcomes)}
    raise InvalidNotification("not an SQS event, an SNS event or an SES notification")


def _new_processor() -> FeedbackProcessor:
    return FeedbackProcessor(store=get_store(), settings=get_settings())


def _parse_or_error(
    parse: Callable[[Any], FeedbackEvent], payload: Any
) -> FeedbackEvent | InvalidNotification:
    try:
        return parse(payload)
    except InvalidNotification as exc:
        return exc


def _reject(error: InvalidNotification, message_id: str) -> None:
    # The error text names fields, never their values, so no address reaches the log.
    logger.error("invalid feedback message", extra={"message_id": message_id, "error": str(error)})
    metrics.add_metric(name="InvalidNotification", unit=MetricUnit.Count, value=1)


def _handle_sqs(event: dict[str, Any], context: LambdaContext, processor: BatchProcessor) -> dict[str, Any]:
    feedback = _new_processor()
    parsed = {r["messageId"]: _parse_or_error(parse_sqs_body, r.get("body", "")) for r in event["Records"]}
    feedback.prefetch(p for p in parsed.values() if isinstance(p, FeedbackEvent))

    def record_handler(record: SQSRecord) -> None:
        item = parsed[record.message_id]
        if isinstance(item, InvalidNotification):
            _reject(item, record.message_id)
            raise item
        feedback.process(item)

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)


class FeedbackBatchFailed(Exception):
    """Some records of a direct SNS invocation failed; Lambda retries the event, then its DLQ."""


def _handle_sns(records: list[dict[str, Any]]) -> dict[str, Any]:
    feedback = _new_processor()
    parsed = [
        (
            r.get("Sns", {}).get("MessageId", ""),
            _parse_or_error(parse_sns_notification, r.get("Sns", {})),
        )
        for r in records
    ]
    feedback.prefetch(p for _, p in parsed if isinstance(p, FeedbackEvent))
    failed = []
    for message_id, item in parsed:
        if isinstance(item, InvalidNotification):
            _reject(item, message_id)
            failed.append(message_id)
            continue
        feedback.process(item)
    if failed:
        raise FeedbackBatchFailed(f"{len(failed)} of {len(records)} SNS records failed: {', '.join(failed)}")
    return {"applied": len(records)}
