"""DmarcReportFunction: SES email receiving stored a message in the report bucket; read its
DMARC reports and store them (an unreadable message is set aside under rejected/)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SESEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from ses_feedback.model.dmarc import INCOMING_PREFIX
from ses_feedback.observability import logger, metrics, tracer
from ses_feedback.wiring import dmarc_reports


# log_event=False: the SES event names the sender and recipients in clear.
@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_source(data_class=SESEvent)
def lambda_handler(event: SESEvent, context: LambdaContext) -> dict[str, Any]:
    # The receipt rule's S3 action stored the message at its ObjectKeyPrefix + message id.
    keys = [INCOMING_PREFIX + record.ses.mail.message_id for record in event.records]
    outcomes = [dmarc_reports().ingest(key, datetime.now(UTC)) for key in keys]
    return {"messages": [outcome.as_dict() for outcome in outcomes]}
