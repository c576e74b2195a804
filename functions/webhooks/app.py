"""WebhooksFunction: an app's webhooks over the REST API (AWS_IAM auth), on EventBridge.

``POST /webhooks`` answers the new webhook with its secret (once), ``GET /webhooks`` the
caller's webhooks, ``DELETE /webhooks/{webhook_id}`` removes one and
``POST /webhooks/{webhook_id}/test`` sends it a ``webhook.test``. The caller's IAM principal
names the app, as for ``POST /messages``: an app adds, sees and removes its own only.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from ses_feedback import wiring
from ses_feedback.errors import WEBHOOKS_REFUSALS, InvalidRequest, SesFeedbackError
from ses_feedback.json_api import answer_refusals_as_json
from ses_feedback.model.answers import refusal_responses
from ses_feedback.model.outbound import WebhookTest
from ses_feedback.model.webhooks import NewWebhook, WebhookList
from ses_feedback.observability import logger, metrics, tracer
from ses_feedback.parsing.problems import refuse_body_not_json, refuse_unknown_query
from ses_feedback.parsing.request_body import read_json_object
from ses_feedback.parsing.send_request import app_name
from ses_feedback.parsing.webhooks import WebhookRequest
from ses_feedback.retry import within_remaining_time

# Every JSON body is read by the one request reader (duplicate keys, depth, encoding: refused).
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=read_json_object)
app.use([refuse_unknown_query, refuse_body_not_json])

WebhookId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9]+$")]


def _caller() -> str:
    identity = app.current_event.request_context.identity
    return app_name(identity.user_arn or identity.caller)


def _responses(
    answer: Any, status: int = 200, refusals: tuple[type[SesFeedbackError], ...] = WEBHOOKS_REFUSALS
) -> dict[int, Any]:
    return {
        status: {"description": "OK", "content": {"application/json": {"model": answer}}},
        **refusal_responses(refusals),
    }


# The routes that name no webhook cannot answer webhook_not_found.
_NO_ID = (InvalidRequest,)


@app.post(
    "/webhooks",
    summary="Add a webhook for the caller's events; the answer holds its secret, this once",
    responses=_responses(NewWebhook, 201, _NO_ID),
    tags=["webhooks"],
)
def add_webhook(request: Annotated[WebhookRequest, Body()]) -> Response[NewWebhook]:
    return Response(201, content_types.APPLICATION_JSON, wiring.webhooks().add(request, _caller()))


@app.get(
    "/webhooks",
    summary="The caller's webhooks",
    responses=_responses(WebhookList, refusals=_NO_ID),
    tags=["webhooks"],
)
def list_webhooks() -> WebhookList:
    return wiring.webhooks().list(_caller())


@app.delete(
    "/webhooks/<webhook_id>",
    summary="Remove one of the caller's webhooks",
    responses=_responses(None, 204),
    tags=["webhooks"],
)
def remove_webhook(webhook_id: WebhookId) -> Response[None]:
    wiring.webhooks().remove(webhook_id, _caller())
    return Response(204, content_types.APPLICATION_JSON, None)


@app.post(
    "/webhooks/<webhook_id>/test",
    summary="Send one of the caller's webhooks a webhook.test event",
    responses=_responses(WebhookTest),
    tags=["webhooks"],
)
def test_webhook(webhook_id: WebhookId) -> WebhookTest:
    return wiring.webhooks().test(webhook_id, _caller())


answer_refusals_as_json(app, "webhooks")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@within_remaining_time
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
