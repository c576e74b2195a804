"""SuppressionsApiFunction: read and change the suppression list over the REST API (AWS_IAM auth).

Every route is one call into ``SuppressionAdmin``; domain errors become answers in one place
(the exception handlers below). Manual changes record the caller's IAM principal as actor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from ses_feedback.admin import PAGE_MAX, get_admin
from ses_feedback.admin_models import (
    ErrorAnswer,
    HistoryItem,
    HistoryPageModel,
    ManualChange,
    ManualSuppressionRequest,
    Suppression,
    SuppressionDetail,
    SuppressionPage,
)
from ses_feedback.errors import ComplaintLiftNeedsForce, ConcurrentUpdate, InvalidInput, NotSuppressed
from ses_feedback.observability import logger, metrics, tracer
from ses_feedback.policy import Reason

app = APIGatewayRestResolver(enable_validation=True)

AddressPath = Annotated[str, Path(min_length=3, max_length=320, description="an email address")]
Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=PAGE_MAX)]


def _actor() -> str:
    """The IAM principal API Gateway authenticated (AWS_IAM auth), as the history's actor."""
    identity = app.current_event.request_context.identity
    return identity.user_arn or identity.caller or identity.user or "unknown"


def _now() -> datetime:
    return datetime.now(UTC)


@app.get("/suppressions", summary="Suppressed addresses, newest first, a page at a time")
def list_suppressions(
    reason: Annotated[Reason | None, Query()] = None, limit: Limit = 100, cursor: Cursor = None
) -> SuppressionPage:
    return SuppressionPage.of(get_admin().list_suppressed(reason, limit, cursor), _now())


@app.get("/suppressions/<address>", summary="One address: its state and its newest history entries")
def get_suppression(
    address: AddressPath, history: Annotated[int, Query(ge=1, le=100)] = 20
) -> SuppressionDetail:
    state, entries = get_admin().get(address, history_limit=history)
    return SuppressionDetail(
        suppression=Suppression.of(state, _now()),
        soft_bounce_count=state.soft_bounce_count,
        lifted_at=state.lifted_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if state.lifted_at
        else None,
        history=[HistoryItem.of(e) for e in entries],
    )


@app.get("/suppressions/<address>/events", summary="One address's history, newest first, a page at a time")
def list_events(address: AddressPath, limit: Limit = 50, cursor: Cursor = None) -> HistoryPageModel:
    return HistoryPageModel.of(get_admin().history(address, limit, cursor))


@app.put("/suppressions/<address>", summary="Suppress an address by hand (reason manual), with a note")
def put_suppression(
    address: AddressPath, request: Annotated[ManualSuppressionRequest, Body()]
) -> ManualChange:
    return ManualChange.of(get_admin().suppress(address, request.note, _actor()), _now())


@app.delete("/suppressions/<address>", summary="Lift an address's suppression; complaints need force=true")
def delete_suppression(
    address: AddressPath,
    note: Annotated[str, Query(min_length=1, max_length=1000, description="why; kept in the history")],
    force: Annotated[bool, Query(description="needed to lift a complaint")] = False,
) -> ManualChange:
    return ManualChange.of(get_admin().lift(address, note, _actor(), force=force), _now())


# ---- domain errors → answers, in one place --------------------------------------------------


def _error(status: HTTPStatus, message: str, field: str | None = None) -> Response[str]:
    body = ErrorAnswer(error=message, field=field).model_dump_json(exclude_none=True)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _invalid_input(exc: InvalidInput) -> Response[str]:
    return _error(HTTPStatus.BAD_REQUEST, str(exc), exc.field)


def _not_suppressed(exc: NotSuppressed) -> Response[str]:
    return _error(HTTPStatus.NOT_FOUND, str(exc))


def _complaint_needs_force(exc: ComplaintLiftNeedsForce) -> Response[str]:
    return _error(HTTPStatus.CONFLICT, str(exc), "force")


def _concurrent_update(exc: ConcurrentUpdate) -> Response[str]:
    return _error(HTTPStatus.SERVICE_UNAVAILABLE, "the address kept changing; retry")


# (Registered by call: Powertools' decorator is untyped, which strict mypy refuses.)
app.exception_handler(InvalidInput)(_invalid_input)
app.exception_handler(NotSuppressed)(_not_suppressed)
app.exception_handler(ComplaintLiftNeedsForce)(_complaint_needs_force)
app.exception_handler(ConcurrentUpdate)(_concurrent_update)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
