"""DmarcReportFunction: SES email receiving stored a message in the report bucket; read its
DMARC reports and store them (an unreadable message is set aside under rejected/). An event
that names no stored message is refused with the field (Lambda retries, then the function's
dead-letter queue keeps it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ses_feedback.model.dmarc import INCOMING_PREFIX
from ses_feedback.observability import logger, metrics, tracer
from ses_feedback.parsing.receipts import received_message_ids
from ses_feedback.retry import within_remaining_time
from ses_feedback.wiring import dmarc_reports


# log_event=False: the SES event names the sender and recipients in clear.
@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
@within_remaining_time
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The receipt rule's S3 action stored the message at its ObjectKeyPrefix + message id.
    keys = [INCOMING_PREFIX + message_id for message_id in received_message_ids(event)]
    outcomes = [dmarc_reports().ingest(key, datetime.now(UTC)) for key in keys]
    return {"messages": [outcome.as_dict() for outcome in outcomes]}
