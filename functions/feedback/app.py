"""FeedbackFunction: SES feedback from SQS (or SNS) → suppression list.

The Lambda plumbing is here: which of the three event shapes arrived (an SQS batch with
partial failures, a direct SNS event, one bare SES event), parsing each record, and
reporting the records that cannot be processed. A record that is not an SES notification,
or names a recipient that is no email address we can store, is logged (without its
content), counted and failed, so it ends in the DLQ (the other recipients are applied).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ses_feedback import wiring
from ses_feedback.errors import FeedbackBatchFailed, InvalidNotification
from ses_feedback.observability import logger, metrics, tracer
from ses_feedback.parsing.events import (
    FeedbackEvent,
    parse_ses_message,
    parse_sns_notification,
    parse_sqs_body,
)
from ses_feedback.retry import within_remaining_time

if TYPE_CHECKING:
    from ses_feedback.usecases.feedback import FeedbackProcessor

# A batch in which every record failed still answers with per-item failures (instead of
# raising), so each message is retried on its own and only poison ends in the DLQ.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
NOT_AN_EVENT = "not an SQS event, an SNS event or an SES notification"


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
@within_remaining_time
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if not isinstance(event, dict):  # a direct invoke's payload may be any JSON
        raise InvalidNotification(NOT_AN_EVENT)
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        if records[0].get("eventSource") == "aws:sqs":
            return _sqs_batch(event, context)
        if records[0].get("EventSource") == "aws:sns":
            return _sns_event(records)
    if "eventType" in event or "notificationType" in event:
        feedback = wiring.feedback_processor()
        outcomes = _handle(feedback, _parsed(parse_ses_message, event), "direct")
        _raise_unpublished(feedback.publish_events())
        return {"applied": len(outcomes)}
    raise InvalidNotification(NOT_AN_EVENT)


def _parsed(parse: Callable[[Any], FeedbackEvent], payload: Any) -> FeedbackEvent | InvalidNotification:
    try:
        return parse(payload)
    except InvalidNotification as exc:
        return exc


def _handle(
    feedback: FeedbackProcessor, item: FeedbackEvent | InvalidNotification, message_id: str
) -> list[Any]:
    """Process one parsed message with its batch's processor (which holds the states the batch
    prefetched); one that did not parse, or cannot be processed whole, is rejected (logged,
    counted) and raised."""
    try:
        if isinstance(item, InvalidNotification):
            raise item
        return feedback.process(item, message_id)
    except InvalidNotification as exc:
        _reject(exc, message_id)
        raise


def _reject(error: InvalidNotification, message_id: str) -> None:
    # The error text names fields, never their values, so no address reaches the log.
    logger.error("invalid feedback message", extra={"message_id": message_id, "error": str(error)})
    metrics.add_metric(name="InvalidNotification", unit=MetricUnit.Count, value=1)


def _sqs_batch(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    feedback = wiring.feedback_processor()
    parsed = {r["messageId"]: _parsed(parse_sqs_body, r.get("body", "")) for r in event["Records"]}
    feedback.prefetch(p for p in parsed.values() if isinstance(p, FeedbackEvent))

    def record_handler(record: SQSRecord) -> None:
        _handle(feedback, parsed[record.message_id], record.message_id)

    response = dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
    # The batch's events go out together (10 to a PutEvents); a record whose events the bus
    # would not take fails, so SQS brings it back and they are published then.
    failures: list[dict[str, str]] = response.setdefault("batchItemFailures", [])  # type: ignore[assignment]
    failed = {item["itemIdentifier"] for item in failures}
    failures.extend(
        {"itemIdentifier": record} for record in feedback.publish_events() if record not in failed
    )
    return response


def _sns_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    feedback = wiring.feedback_processor()
    parsed = [
        (r.get("Sns", {}).get("MessageId", ""), _parsed(parse_sns_notification, r.get("Sns", {})))
        for r in records
    ]
    feedback.prefetch(p for _, p in parsed if isinstance(p, FeedbackEvent))
    failed = []
    for message_id, item in parsed:
        try:
            _handle(feedback, item, message_id)
        except InvalidNotification:
            failed.append(message_id)
    failed.extend(record for record in feedback.publish_events() if record not in failed)
    if failed:
        raise FeedbackBatchFailed(f"{len(failed)} of {len(records)} SNS records failed: {', '.join(failed)}")
    return {"applied": len(records)}


def _raise_unpublished(records: list[str]) -> None:
    if records:
        raise FeedbackBatchFailed("the bus did not take this notification's events; it is safe to send again")
