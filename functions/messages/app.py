"""MessagesFunction: each message's timeline over the REST API (AWS_IAM auth), each app its own.

``GET /messages/{message_id}`` and ``GET /messages?idempotency_key=K`` answer what the sender
recorded and every event since (``Timelines``); the caller's IAM principal names the app, as
it does for ``POST /messages``, and another app's message is 404 as an unknown one is.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BeforeValidator
from ses_feedback import wiring
from ses_feedback.errors import MESSAGES_REFUSALS, MessageNotFound, SesFeedbackError
from ses_feedback.json_api import answer_refusals_as_json
from ses_feedback.model.answers import refusal_responses
from ses_feedback.model.timeline import Timeline, TimelineList
from ses_feedback.observability import logger, metrics, tracer
from ses_feedback.parsing.problems import refuse_unknown_query
from ses_feedback.parsing.send_request import app_name
from ses_feedback.retry import within_remaining_time

app = APIGatewayRestResolver(enable_validation=True)
app.use([refuse_unknown_query])

MessageIdPath = Annotated[str, BeforeValidator(unquote), Path(min_length=1, max_length=256)]


def _caller() -> str:
    identity = app.current_event.request_context.identity
    return app_name(identity.user_arn or identity.caller)


def _responses(
    answer: Any, refusals: tuple[type[SesFeedbackError], ...] = MESSAGES_REFUSALS
) -> dict[int, Any]:
    return {
        200: {"description": "OK", "content": {"application/json": {"model": answer}}},
        **refusal_responses(refusals),
    }


@app.get(
    "/messages/<message_id>",
    summary="One message's timeline: what was sent, to whom, each recipient's status and events",
    responses=_responses(Timeline),
    tags=["messages"],
)
def get_message(message_id: MessageIdPath) -> Timeline:
    return wiring.timelines().show(message_id, _caller())


@app.get(
    "/messages",
    summary="The caller's messages sent with one idempotency key, with their timelines",
    # A search: no message with the key is an empty list, never 404.
    responses=_responses(TimelineList, tuple(r for r in MESSAGES_REFUSALS if r is not MessageNotFound)),
    tags=["messages"],
)
def find_messages(
    idempotency_key: Annotated[
        str, Query(min_length=1, max_length=256, description="the send's idempotency_key")
    ],
) -> TimelineList:
    return wiring.timelines().find(idempotency_key, _caller())


answer_refusals_as_json(app, "messages")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@within_remaining_time
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
