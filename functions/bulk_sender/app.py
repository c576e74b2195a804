"""BulkSenderFunction: sends the batch queue's chunks at the account's rate (``BulkWorker``).

Each SQS record is one chunk of a batch. The worker puts back what it could not send yet
(throttled, waiting for the quota, out of time) as a new message, so a record that returns
has been dealt with; a record that raises (a bug, DynamoDB unreachable) is reported as a
batch item failure, received again, and after ``BatchMaxReceiveCount`` receives lands in the
batch DLQ. Its recipients were claimed before SES was called, so a second receive mails
nobody twice.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ses_feedback import wiring
from ses_feedback.observability import logger, metrics, tracer
from ses_feedback.parsing.batch_request import Chunk
from ses_feedback.retry import within_remaining_time

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
_context: dict[str, LambdaContext] = {}


def _seconds_left() -> float:
    context = _context.get("current")
    return context.get_remaining_time_in_millis() / 1000 if context is not None else float("inf")


def _record(record: SQSRecord) -> None:
    chunk = Chunk.model_validate_json(record.body)
    report = wiring.bulk_worker().process(chunk, _seconds_left)
    for name, value in (
        ("BatchSent", report.sent),
        ("BatchSuppressed", report.suppressed),
        ("BatchFailed", report.failed),
    ):
        if value:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


# log_event=False: a chunk names its recipients in clear.
@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@within_remaining_time
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _context["current"] = context
    try:
        response = process_partial_response(
            event=event, record_handler=_record, processor=processor, context=context
        )
        return dict(response)
    finally:
        _context.pop("current", None)
