"""SenderFunction: suppression-aware sending. Two doors, one core (``ses_feedback.sending.send``).

- ``POST /messages`` on the REST API (IAM-signed); the caller's IAM principal names the app.
- A direct ``lambda:Invoke`` whose payload is the same request; ``ClientContext.custom.app``
  names the app (Lambda does not tell a function who invoked it).

Both answer with the same body: a ``SendAnswer``, or an ``ErrorAnswer`` whose code maps to the
HTTP status below (the table is in README, "Sending").
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError
from ses_feedback.errors import (
    IdempotencyConflict,
    InvalidRequest,
    MailFromNotVerified,
    MessageRejected,
    ReputationGuard,
    SendError,
    SendingPaused,
    SendingThrottled,
    SesFailure,
)
from ses_feedback.observability import logger, metrics, tracer
from ses_feedback.send_models import ErrorAnswer, SendAnswer, SendRequest, SendStatus, invalid_request
from ses_feedback.sending import app_name, send

app = APIGatewayRestResolver(enable_validation=True)

_ERRORS: list[type[SendError]] = [
    InvalidRequest,
    IdempotencyConflict,
    MessageRejected,
    MailFromNotVerified,
    SendingThrottled,
    SendingPaused,
    ReputationGuard,
    SesFailure,
]
_RESPONSES: dict[int, Any] = {
    200: {
        "description": "status sent, partially_suppressed or suppressed",
        "content": {"application/json": {"model": SendAnswer}},
    },
    **{
        status: {
            "description": "; ".join(
                f"{e.code}: {(e.__doc__ or '').strip()}" for e in _ERRORS if e.http_status == status
            ),
            "content": {"application/json": {"model": ErrorAnswer}},
        }
        for status in sorted({e.http_status for e in _ERRORS})
    },
}
# 409 is also the answer when on_suppressed=reject refused the message: a SendAnswer, status rejected.
_RESPONSES[409]["description"] = "status rejected (on_suppressed=reject); " + _RESPONSES[409]["description"]
_RESPONSES[409]["content"]["application/json"]["model"] = SendAnswer | ErrorAnswer


@app.post(
    "/messages",
    summary="Send one message to the recipients that are not suppressed",
    responses=_RESPONSES,
    tags=["sending"],
)
def post_messages(request: Annotated[SendRequest, Body()]) -> Response[SendAnswer]:
    identity = app.current_event.request_context.identity
    answer = send(request, app_name(identity.user_arn or identity.caller), app.lambda_context)
    status = 409 if answer.status is SendStatus.REJECTED else 200
    return Response(status, content_types.APPLICATION_JSON, answer)


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, _openapi_json())


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
def _invalid(error: RequestValidationError) -> Response[dict[str, Any]]:
    refusal = invalid_request(error.errors(), prefix=("body",))
    return Response(refusal.http_status, content_types.APPLICATION_JSON, _refusal(refusal))


@app.exception_handler(SendError)  # type: ignore[untyped-decorator]
def _refused(error: SendError) -> Response[dict[str, Any]]:
    return Response(error.http_status, content_types.APPLICATION_JSON, _refusal(error))


def _refusal(error: SendError) -> dict[str, Any]:
    """The one place a refusal becomes an answer body (both doors)."""
    logger.info("send refused", extra={"code": error.code, "field": error.field})
    metrics.add_metric(name="SendRefused", unit=MetricUnit.Count, value=1)
    return ErrorAnswer.from_error(error).model_dump(mode="json")


@cache
def _openapi_json() -> str:
    # The committed document (`make openapi` writes it): the whole REST API, not just this function.
    return resources.files("ses_feedback").joinpath("openapi.json").read_text()


def invoke(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The direct-invoke door: the payload is a SendRequest, the result the API's body."""
    custom = getattr(getattr(context, "client_context", None), "custom", None) or {}
    try:
        answer = send(
            SendRequest.model_validate(event), app_name(custom.get("app") or "direct-invoke"), context
        )
    except ValidationError as exc:
        return _refusal(invalid_request(exc.errors()))
    except SendError as exc:
        return _refusal(exc)
    return answer.model_dump(mode="json")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if isinstance(event, dict) and "httpMethod" in event and "requestContext" in event:
        return app.resolve(event, context)
    return invoke(event, context)
