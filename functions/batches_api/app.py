"""BatchesApiFunction: bulk sending over the REST API (AWS_IAM auth), for app teams.

- ``POST /batches``: a message and up to 10,000 recipients; 202 with what was queued and
  which recipients were refused (validated as ``POST /messages`` validates a message).
- ``GET /batches/{batch_id}``: its state and exact counts; ``DELETE`` cancels what is not yet sent.

The caller's IAM principal names the app, as for ``POST /messages``; an app sees only its own
batches. The sending itself is BulkSenderFunction's (``functions/bulk_sender``).
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from ses_feedback import wiring
from ses_feedback.errors import (
    BatchNotFound,
    BatchNotQueued,
    InvalidRequest,
    SesFeedbackError,
    StreamsNotConfigured,
)
from ses_feedback.json_api import answer_refusals_as_json
from ses_feedback.model.answers import refusal_responses
from ses_feedback.model.batches import BatchAccepted, BatchStatus
from ses_feedback.observability import logger, metrics, tracer
from ses_feedback.parsing.batch_request import BatchRequest
from ses_feedback.parsing.problems import refuse_body_not_json, refuse_unknown_query
from ses_feedback.parsing.request_body import read_json_object
from ses_feedback.parsing.send_request import app_name
from ses_feedback.retry import within_remaining_time

# Every JSON body is read by the one request reader (duplicate keys, depth, encoding: refused).
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=read_json_object)
app.use([refuse_unknown_query, refuse_body_not_json])

BatchId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$")]


def _responses(
    status: int, answer: Any, description: str, *refusals: type[SesFeedbackError]
) -> dict[int, Any]:
    """A route's OpenAPI responses: its answer, and the refusals it can give."""
    return {
        status: {"description": description, "content": {"application/json": {"model": answer}}},
        **refusal_responses(refusals),
    }


def _app() -> str:
    identity = app.current_event.request_context.identity
    return app_name(identity.user_arn or identity.caller)


@app.post(
    "/batches",
    summary="Queue one message for many recipients, sent at the account's rate",
    responses=_responses(
        202,
        BatchAccepted,
        "queued; refused recipients are listed",
        InvalidRequest,
        StreamsNotConfigured,
        BatchNotQueued,
    ),
    tags=["batches"],
)
def post_batches(request: Annotated[BatchRequest, Body()]) -> Response[BatchAccepted]:
    context = app.current_event.request_context
    called_on = f"https://{context.domain_name}/{context.stage}" if context.domain_name else None
    accepted = wiring.batches().create(request, _app(), called_on)
    return Response(202, content_types.APPLICATION_JSON, accepted)


@app.get(
    "/batches/<batch_id>",
    summary="A batch's state and exact counts",
    responses=_responses(200, BatchStatus, "the batch", InvalidRequest, BatchNotFound),
    tags=["batches"],
)
def get_batch(batch_id: BatchId) -> BatchStatus:
    return wiring.batches().status(batch_id, _app())


@app.delete(
    "/batches/<batch_id>",
    summary="Cancel what is not yet sent",
    responses=_responses(
        200, BatchStatus, "the batch, cancelled (or already done)", InvalidRequest, BatchNotFound
    ),
    tags=["batches"],
)
def delete_batch(batch_id: BatchId) -> BatchStatus:
    return wiring.batches().cancel(batch_id, _app())


answer_refusals_as_json(app, "batch")


# log_event=False: the request names every recipient in clear.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@within_remaining_time
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
