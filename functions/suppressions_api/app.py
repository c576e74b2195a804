"""SuppressionsApiFunction: read and change the suppression list over the REST API (AWS_IAM auth).

Every route is one call into ``SuppressionAdmin``; refusals become answers in one place
(``_refusal``), through the error table, in the sender's error shape (``ErrorAnswer``: a
stable code, the message and the field). Manual changes record the caller's IAM principal
as actor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BeforeValidator
from ses_feedback import wiring
from ses_feedback.errors import (
    ComplaintLiftNeedsForce,
    ConcurrentUpdate,
    ErasureLiftNeedsForce,
    InvalidRequest,
    NotSuppressed,
    SesFeedbackError,
    StreamsNotConfigured,
)
from ses_feedback.json_api import answer_refusals_as_json
from ses_feedback.model.answers import (
    ErasureAnswer,
    HistoryPageModel,
    ManualChange,
    StreamStatus,
    StreamSuppressionPage,
    SuppressionDetail,
    SuppressionPage,
    refusal_responses,
)
from ses_feedback.model.moments import iso_z
from ses_feedback.model.reasons import Reason
from ses_feedback.model.streams import STREAM_PATTERN, UNSUBSCRIBE_SCOPE_PATTERN
from ses_feedback.observability import logger, metrics, tracer
from ses_feedback.parsing.operator_input import (
    ADDRESSES,
    HISTORY,
    NOTE_MAX,
    RECENT_HISTORY,
    ErasureRequest,
    ManualSuppressionRequest,
)
from ses_feedback.parsing.problems import refuse_body_not_json, refuse_unknown_query
from ses_feedback.parsing.request_body import read_json_object
from ses_feedback.retry import within_remaining_time

# Every JSON body is read by the one request reader (duplicate keys, depth, encoding: refused).
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=read_json_object)
app.use([refuse_unknown_query, refuse_body_not_json])

# API Gateway (REST) hands the path over still percent-encoded, and the resolver matches on it:
# decode the segment once, or jo%2Bx@example.com would be taken for another address.
AddressPath = Annotated[
    str,
    BeforeValidator(unquote),
    Path(min_length=3, max_length=320, description="an email address", examples=["jane@example.org"]),
]
Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page")]
# Page sizes: the one table (parsing/operator_input.py) gives each its default and its most.
AddressesLimit = Annotated[int, Query(ge=1, le=ADDRESSES.most)]
HistoryLimit = Annotated[int, Query(ge=1, le=HISTORY.most)]


def _responses(answer: Any, *refusals: type[SesFeedbackError]) -> dict[int, Any]:
    """The OpenAPI responses of a route: its answer, and the refusals it can give."""
    return {
        200: {"description": "OK", "content": {"application/json": {"model": answer}}},
        **refusal_responses(refusals),
    }


def _actor() -> str:
    """The IAM principal API Gateway authenticated (AWS_IAM auth), as the history's actor."""
    identity = app.current_event.request_context.identity
    return identity.user_arn or identity.caller or identity.user or "unknown"


def _now() -> datetime:
    return datetime.now(UTC)


@app.get(
    "/suppressions",
    summary="Suppressed addresses, newest first, a page at a time: every-stream suppressions; "
    "with ?stream=, every address that stream's mail may not go to",
    responses=_responses(SuppressionPage | StreamSuppressionPage, InvalidRequest),
    tags=["suppressions"],
)
def list_suppressions(
    reason: Annotated[
        Reason | None, Query(description="only this reason (with a stream: the reason on that stream)")
    ] = None,
    limit: AddressesLimit = ADDRESSES.default,
    cursor: Cursor = None,
    stream: Annotated[
        str | None,
        Query(
            pattern=STREAM_PATTERN,
            description="this stream's listing: every-stream suppressions, then the unsubscribes and "
            "bulk complaints that cover it",
        ),
    ] = None,
) -> SuppressionPage | StreamSuppressionPage:
    if stream is not None:
        page = wiring.admin().list_on_stream(stream, wiring.settings().streams, reason, limit, cursor)
        return StreamSuppressionPage.of(page, _now())
    return SuppressionPage.of(wiring.admin().list_suppressed(reason, limit, cursor), _now())


@app.get(
    "/suppressions/<address>",
    summary="One address: its state and its newest history entries; with ?stream=, that stream's answer",
    responses=_responses(SuppressionDetail | StreamStatus, InvalidRequest),
    tags=["suppressions"],
)
def get_suppression(
    address: AddressPath,
    history: Annotated[int, Query(ge=1, le=RECENT_HISTORY.most)] = RECENT_HISTORY.default,
    stream: Annotated[
        str | None,
        Query(pattern=STREAM_PATTERN, description="answer for this stream: suppressed, reason, since"),
    ] = None,
) -> SuppressionDetail | StreamStatus:
    if stream is not None:
        verdict = wiring.admin().on_stream(address, stream, wiring.settings().streams)
        return StreamStatus(
            address=verdict.address,
            stream=verdict.stream,
            suppressed=verdict.suppressed,
            reason=verdict.reason,
            since=iso_z(verdict.since),
        )
    state, entries = wiring.admin().get(address, history_limit=history)
    return SuppressionDetail.of(state, entries, _now())


@app.get(
    "/suppressions/<address>/events",
    summary="One address's history, newest first, a page at a time",
    responses=_responses(HistoryPageModel, InvalidRequest),
    tags=["suppressions"],
)
def list_events(
    address: AddressPath, limit: HistoryLimit = HISTORY.default, cursor: Cursor = None
) -> HistoryPageModel:
    return HistoryPageModel.of(wiring.admin().history(address, limit, cursor))


@app.put(
    "/suppressions/<address>",
    summary="Suppress an address by hand (reason manual), with a note; the caller is recorded",
    responses=_responses(ManualChange, InvalidRequest, ConcurrentUpdate),
    tags=["suppressions"],
)
def put_suppression(
    address: AddressPath, request: Annotated[ManualSuppressionRequest, Body()]
) -> ManualChange:
    return ManualChange.of(wiring.admin().suppress(address, request.note, _actor()), _now())


@app.delete(
    "/suppressions/<address>",
    summary="Lift an address's suppression, or with ?stream= its unsubscribe from that stream "
    "(a complaint or an erasure needs force=true); the caller is recorded",
    responses=_responses(
        ManualChange,
        InvalidRequest,
        NotSuppressed,
        ComplaintLiftNeedsForce,
        ErasureLiftNeedsForce,
        ErasureLiftNeedsForce,
        ConcurrentUpdate,
    ),
    tags=["suppressions"],
)
def delete_suppression(
    address: AddressPath,
    note: Annotated[str, Query(min_length=1, max_length=NOTE_MAX, description="why; kept in the history")],
    force: Annotated[bool, Query(description="needed to lift a complaint or an erasure")] = False,
    stream: Annotated[
        str | None,
        Query(
            pattern=UNSUBSCRIBE_SCOPE_PATTERN,
            description="lift the unsubscribe from this stream (nothing else); '*bulk-unsubscribed': the "
            "recipient's leave of every bulk stream",
        ),
    ] = None,
) -> ManualChange:
    return ManualChange.of(wiring.admin().lift(address, note, _actor(), force, stream), _now())


@app.post(
    "/suppressions/<address>/erasure",
    summary="Erase an address (GDPR art. 17): delete every item holding it; a keyed tombstone keeps it "
    "suppressed on every stream",
    responses=_responses(ErasureAnswer, InvalidRequest, StreamsNotConfigured),
    tags=["suppressions"],
)
def erase_address(address: AddressPath, request: Annotated[ErasureRequest, Body()]) -> ErasureAnswer:
    erased = wiring.admin().erase(address, request.note, _actor())
    return ErasureAnswer(erased=True, deleted_items=erased.deleted_items, since=iso_z(erased.since))


# ---- refusals → answers, in one place ---------------------------------------------------------


answer_refusals_as_json(app, "suppression")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@within_remaining_time
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
