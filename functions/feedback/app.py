"""FeedbackFunction: SES feedback from SQS (or SNS) → suppression list."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.typing import LambdaContext
from ses_feedback.feedback import handle_event
from ses_feedback.observability import logger, metrics, tracer

# A batch in which every record failed still answers with per-item failures (instead of
# raising), so each message is retried on its own and only poison ends in the DLQ.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_event(event, context, processor)
