"""SenderFunction: suppression-aware sending. Two doors, one use case (``wiring.sender().send``).

- ``POST /messages`` on the REST API (IAM-signed); the caller's IAM principal names the app.
- A direct ``lambda:Invoke`` whose payload is the same request; ``ClientContext.custom.app``
  names the app (Lambda does not tell a function who invoked it).

Both answer with the same body: a ``SendAnswer``, or an ``ErrorAnswer`` whose code and HTTP
status come from the error table (``errors.REFUSALS``; docs/sending.md's table lists them).
With an ``idempotency_key``, Powertools' idempotency (DynamoDB persistence) makes the same
key from the same app within the window return the first answer without sending again;
refusals (exceptions) are not remembered, so a retry after a throttle does send.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError
from ses_feedback import wiring
from ses_feedback.errors import (
    REFUSALS,
    SEND_REFUSALS,
    IdempotencyConflict,
    InvalidRequest,
    SesFeedbackError,
    SuppressedRecipientsRejected,
    is_refusal,
)
from ses_feedback.model.answers import ErrorAnswer, SendAnswer, refusal_responses
from ses_feedback.observability import logger, metrics, tracer
from ses_feedback.parsing.problems import (
    invalid_request,
    not_json,
    refuse_body_not_json,
    refuse_unknown_query,
)
from ses_feedback.parsing.request_body import checked_object, read_json_object, route_refusal, unreadable_body
from ses_feedback.parsing.send_request import SendJob, SendRequest, app_name
from ses_feedback.retry import within_remaining_time

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

# Every JSON body is read by the one request reader (duplicate keys, depth, encoding: refused).
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=read_json_object)
app.use([refuse_unknown_query, refuse_body_not_json])

_RESPONSES: dict[int, Any] = {
    200: {
        "description": "status sent, partially_suppressed or suppressed",
        "content": {"application/json": {"model": SendAnswer}},
    },
    **refusal_responses(SEND_REFUSALS),
}
# on_suppressed=reject's refusal is answered with a SendAnswer (status rejected), at its row's status.
_REJECTED = REFUSALS[SuppressedRecipientsRejected]
_RESPONSES[_REJECTED.http_status]["description"] = (
    f"status {_REJECTED.code} (on_suppressed=reject); " + _RESPONSES[_REJECTED.http_status]["description"]
)
_RESPONSES[_REJECTED.http_status]["content"]["application/json"]["model"] = SendAnswer | ErrorAnswer


@app.post(
    "/messages",
    summary="Send one message to the recipients that are not suppressed",
    responses=_RESPONSES,
    tags=["sending"],
)
def post_messages(request: Annotated[SendRequest, Body()]) -> Response[SendAnswer]:
    identity = app.current_event.request_context.identity
    # Without an UnsubscribeBaseUrl, a bulk message's links point at the API it came in on.
    context = app.current_event.request_context
    called_on = f"https://{context.domain_name}/{context.stage}" if context.domain_name else None
    answer = send(request, app_name(identity.user_arn or identity.caller), app.lambda_context, called_on)
    return Response(answer.http_status, content_types.APPLICATION_JSON, answer)


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, _openapi_json())


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
def _invalid(error: RequestValidationError) -> Response[dict[str, Any]]:
    event = app.current_event
    refusal = route_refusal(
        error.errors(), event.headers.get("content-type"), event.body, event.is_base64_encoded
    )
    return Response(refusal.http_status, content_types.APPLICATION_JSON, _refusal(refusal))


@app.exception_handler(ValueError)  # type: ignore[untyped-decorator]
def _unreadable(error: ValueError) -> Response[dict[str, Any]]:
    # Powertools reads the body before the reader does (UTF-8, a multipart boundary): its failures.
    event = app.current_event
    refusal = unreadable_body(event.headers.get("content-type"), event.body, event.is_base64_encoded)
    if refusal is None:
        raise error  # not the body's: a bug, which Lambda reports as such
    return Response(refusal.http_status, content_types.APPLICATION_JSON, _refusal(refusal))


@app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
def _not_json(error: RequestUnsupportedContentType) -> Response[dict[str, Any]]:
    # Powertools' own 415 body is not the API's error shape.
    refusal = not_json(app.current_event.headers.get("content-type"))
    return Response(refusal.http_status, content_types.APPLICATION_JSON, _refusal(refusal))


@app.exception_handler(SesFeedbackError)  # type: ignore[untyped-decorator]
def _refused(error: SesFeedbackError) -> Response[dict[str, Any]]:
    if not is_refusal(error):
        raise error  # not a refusal: a bug, which Lambda reports as such
    return Response(error.http_status, content_types.APPLICATION_JSON, _refusal(error))


def _refusal(error: SesFeedbackError) -> dict[str, Any]:
    """The one place a refusal becomes an answer body (both doors)."""
    logger.info("send refused", extra={"code": error.code, "field": error.field})
    metrics.add_metric(name="SendRefused", unit=MetricUnit.Count, value=1)
    return ErrorAnswer.of(error).model_dump(mode="json")


@cache
def _openapi_json() -> str:
    # The committed document (`make openapi` writes it): the whole REST API, not just this function.
    from importlib import resources  # noqa: PLC0415  # only GET /openapi.json reads it

    return resources.files("ses_feedback").joinpath("openapi.json").read_text()


# ---- idempotency: Powertools around the use case ------------------------------------------------
# Imported by the first request that carries an idempotency_key: a send without one (and every
# cold start) does not load Powertools' idempotency and its persistence layer.


def _replayed(response: Any, idempotent_data: DataRecord) -> Any:
    """Powertools calls this when it returns a remembered answer instead of sending."""
    metrics.add_metric(name="SendReplayed", unit=MetricUnit.Count, value=1)
    logger.info("idempotent send replayed", extra={"status": getattr(response, "status", None)})
    return response


@wiring.cached
def _idempotency_config() -> IdempotencyConfig:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig  # noqa: PLC0415

    return IdempotencyConfig(
        event_key_jmespath="[app, request.idempotency_key]",
        # The same key with a different request is a caller's bug: refuse it, don't guess.
        payload_validation_jmespath="request",
        expires_after_seconds=int(wiring.settings().idempotency_window.total_seconds()),
        response_hook=_replayed,
    )


@wiring.cached
def _idempotent_send() -> Callable[..., SendAnswer]:
    from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415
        DynamoDBPersistenceLayer,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import (  # noqa: PLC0415
        PydanticSerializer,
    )

    settings = wiring.settings()
    if not settings.idempotency_table:
        raise InvalidRequest("idempotency_key: this deployment has no idempotency table", "idempotency_key")
    # One DynamoDB client for both tables: one fewer client to build at cold start.
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table, boto3_client=wiring.local_store().client
    )

    def send_once(job: SendJob) -> SendAnswer:
        return wiring.sender().send(job.request, job.app, job.unsubscribe_base_url)

    idempotent: Callable[..., SendAnswer] = idempotent_function(
        send_once,
        data_keyword_argument="job",
        persistence_store=persistence,
        config=_idempotency_config(),
        output_serializer=PydanticSerializer(SendAnswer),
    )
    return idempotent


def send(
    request: SendRequest, app_tag: str, context: LambdaContext | None, called_on: str | None = None
) -> SendAnswer:
    """Both doors: the use case, once per idempotency key when the request has one."""
    if request.idempotency_key is None:
        return wiring.sender().send(request, app_tag, called_on)
    from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    if context is not None:
        _idempotency_config().register_lambda_context(context)
    try:
        return _idempotent_send()(job=SendJob(app=app_tag, request=request, unsubscribe_base_url=called_on))
    except IdempotencyValidationError:
        raise IdempotencyConflict(
            "idempotency_key: already used for a different request", "idempotency_key"
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise IdempotencyConflict(
            "idempotency_key: the first request with this key is still being sent; retry shortly",
            "idempotency_key",
        ) from None


# ---- the doors ------------------------------------------------------------------------------------


def invoke(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The direct-invoke door: the payload is a SendRequest, the result the API's body."""
    custom = getattr(getattr(context, "client_context", None), "custom", None) or {}
    try:
        # Lambda parsed the payload already: the reader's rules on what it holds, then the model.
        request = SendRequest.model_validate(checked_object(event))
        answer = send(request, app_name(custom.get("app") or "direct-invoke"), context)
    except ValidationError as exc:
        return _refusal(invalid_request(exc.errors()))
    except SesFeedbackError as exc:
        if not is_refusal(exc):
            raise
        return _refusal(exc)
    return answer.model_dump(mode="json")


# log_event=False, whatever POWERTOOLS_LOGGER_LOG_EVENT says: the request names every recipient in clear.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
@within_remaining_time
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if isinstance(event, dict) and "httpMethod" in event and "requestContext" in event:
        return app.resolve(event, context)
    return invoke(event, context)
