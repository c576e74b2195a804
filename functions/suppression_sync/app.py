"""SuppressionSyncFunction: imports SES's account-level suppression list on a schedule."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ses_feedback import wiring
from ses_feedback.observability import logger, metrics, tracer
from ses_feedback.retry import within_remaining_time


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
@within_remaining_time
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The scheduled event carries nothing we need: import SES's list, answer with the counts."""
    summary = wiring.bulk_import().sync_from_ses(wiring.ses_account_list())
    answer = summary.as_dict()
    answer.pop("rejected_rows")
    return answer
