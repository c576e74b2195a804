"""SuppressionsApiFunction: read and change the suppression list over the REST API (AWS_IAM auth).

Every route is one call into ``SuppressionAdmin``; refusals become answers in one place
(``_refusal``), in the sender's error shape (``ErrorAnswer``: a stable code, the message and
the field). Manual changes record the caller's IAM principal as actor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from ses_feedback.admin import NOTE_MAX, PAGE_MAX, get_admin
from ses_feedback.admin_models import (
    HistoryItem,
    HistoryPageModel,
    ManualChange,
    ManualSuppressionRequest,
    Suppression,
    SuppressionDetail,
    SuppressionPage,
)
from ses_feedback.errors import (
    ComplaintLiftNeedsForce,
    ConcurrentUpdate,
    InvalidInput,
    NotSuppressed,
    SesFeedbackError,
)
from ses_feedback.observability import logger, metrics, tracer
from ses_feedback.policy import Reason
from ses_feedback.send_models import ErrorAnswer, ErrorDetail, invalid_request

app = APIGatewayRestResolver(enable_validation=True)

AddressPath = Annotated[str, Path(min_length=3, max_length=320, description="an email address")]
Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=PAGE_MAX)]

# Domain refusals → (HTTP status, stable code). README's suppression API table lists them.
_REFUSALS: dict[type[SesFeedbackError], tuple[HTTPStatus, str]] = {
    InvalidInput: (HTTPStatus.BAD_REQUEST, "invalid_request"),
    NotSuppressed: (HTTPStatus.NOT_FOUND, "not_suppressed"),
    ComplaintLiftNeedsForce: (HTTPStatus.CONFLICT, "complaint_needs_force"),
    ConcurrentUpdate: (HTTPStatus.SERVICE_UNAVAILABLE, "concurrent_update"),
}


def _responses(answer: type[Any], *statuses: HTTPStatus) -> dict[int, Any]:
    """The OpenAPI responses of a route: its answer, and the refusals it can give."""
    refusals = {status: [code for s, code in _REFUSALS.values() if s == status] for status in statuses}
    return {
        200: {"description": "OK", "content": {"application/json": {"model": answer}}},
        **{
            int(status): {
                "description": ", ".join(codes),
                "content": {"application/json": {"model": ErrorAnswer}},
            }
            for status, codes in refusals.items()
        },
    }


def _actor() -> str:
    """The IAM principal API Gateway authenticated (AWS_IAM auth), as the history's actor."""
    identity = app.current_event.request_context.identity
    return identity.user_arn or identity.caller or identity.user or "unknown"


def _now() -> datetime:
    return datetime.now(UTC)


@app.get(
    "/suppressions",
    summary="Suppressed addresses, newest first, a page at a time",
    responses=_responses(SuppressionPage, HTTPStatus.BAD_REQUEST),
    tags=["suppressions"],
)
def list_suppressions(
    reason: Annotated[Reason | None, Query(description="only this reason (default: all)")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> SuppressionPage:
    return SuppressionPage.of(get_admin().list_suppressed(reason, limit, cursor), _now())


@app.get(
    "/suppressions/<address>",
    summary="One address: its state and its newest history entries",
    responses=_responses(SuppressionDetail, HTTPStatus.BAD_REQUEST),
    tags=["suppressions"],
)
def get_suppression(
    address: AddressPath, history: Annotated[int, Query(ge=1, le=100)] = 20
) -> SuppressionDetail:
    state, entries = get_admin().get(address, history_limit=history)
    lifted = state.lifted_at.astimezone(UTC).isoformat().replace("+00:00", "Z") if state.lifted_at else None
    return SuppressionDetail(
        suppression=Suppression.of(state, _now()),
        soft_bounce_count=state.soft_bounce_count,
        lifted_at=lifted,
        history=[HistoryItem.of(e) for e in entries],
    )


@app.get(
    "/suppressions/<address>/events",
    summary="One address's history, newest first, a page at a time",
    responses=_responses(HistoryPageModel, HTTPStatus.BAD_REQUEST),
    tags=["suppressions"],
)
def list_events(address: AddressPath, limit: Limit = 50, cursor: Cursor = None) -> HistoryPageModel:
    return HistoryPageModel.of(get_admin().history(address, limit, cursor))


@app.put(
    "/suppressions/<address>",
    summary="Suppress an address by hand (reason manual), with a note; the caller is recorded",
    responses=_responses(ManualChange, HTTPStatus.BAD_REQUEST, HTTPStatus.SERVICE_UNAVAILABLE),
    tags=["suppressions"],
)
def put_suppression(
    address: AddressPath, request: Annotated[ManualSuppressionRequest, Body()]
) -> ManualChange:
    return ManualChange.of(get_admin().suppress(address, request.note, _actor()), _now())


@app.delete(
    "/suppressions/<address>",
    summary="Lift an address's suppression (a complaint needs force=true); the caller is recorded",
    responses=_responses(
        ManualChange,
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.NOT_FOUND,
        HTTPStatus.CONFLICT,
        HTTPStatus.SERVICE_UNAVAILABLE,
    ),
    tags=["suppressions"],
)
def delete_suppression(
    address: AddressPath,
    note: Annotated[str, Query(min_length=1, max_length=NOTE_MAX, description="why; kept in the history")],
    force: Annotated[bool, Query(description="needed to lift a complaint")] = False,
) -> ManualChange:
    return ManualChange.of(get_admin().lift(address, note, _actor(), force=force), _now())


# ---- refusals → answers, in one place ---------------------------------------------------------


def _answer(status: HTTPStatus, detail: ErrorDetail) -> Response[dict[str, Any]]:
    logger.info("suppression request refused", extra={"code": detail.code, "field": detail.field})
    body = ErrorAnswer(error=detail).model_dump(mode="json")
    return Response(int(status), content_types.APPLICATION_JSON, body)


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
def _invalid(error: RequestValidationError) -> Response[dict[str, Any]]:
    # Locations come as ("query", "limit") or ("body", "note"): name the parameter alone.
    errors = [
        {**e, "loc": tuple(e.get("loc", ()))[1:]}
        if tuple(e.get("loc", ()))[:1] in {("query",), ("path",), ("body",)}
        else e
        for e in error.errors()
    ]
    refusal = invalid_request(errors)
    detail = ErrorDetail(code=refusal.code, message=refusal.message, field=refusal.field)
    return _answer(HTTPStatus.BAD_REQUEST, detail)


@app.exception_handler(SesFeedbackError)  # type: ignore[untyped-decorator]
def _refusal(error: SesFeedbackError) -> Response[dict[str, Any]]:
    for kind, (status, code) in _REFUSALS.items():
        if isinstance(error, kind):
            return _answer(
                status, ErrorDetail(code=code, message=str(error), field=getattr(error, "field", None))
            )
    raise error  # not a refusal: a bug, which Lambda reports as such


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
