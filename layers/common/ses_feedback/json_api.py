"""The JSON APIs' refusals, in one place: every way a request can fail before or inside a route
becomes the API's error shape (``ErrorAnswer``) with the error table's HTTP status.

Every REST function registers these on its resolver (suppressions, batches, webhooks, messages,
and the sender); each says what it serves, for the one log line a refusal writes (never the
address: code and field only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from ses_feedback.errors import SesFeedbackError, is_refusal
from ses_feedback.model.answers import ErrorAnswer
from ses_feedback.observability import logger
from ses_feedback.parsing.problems import not_json
from ses_feedback.parsing.request_body import route_refusal, unreadable_body


def answer_refusals_as_json(
    app: APIGatewayRestResolver,
    what: str,
    body: Callable[[SesFeedbackError], dict[str, Any]] | None = None,
) -> None:
    """Register the four refusal handlers on ``app``; ``what`` names its requests in the log.

    ``body``: a function's own way to log a refusal and make its answer body (the sender's, which
    its direct-invoke door shares); by default, one log line and ``ErrorAnswer``.
    """

    refused_line = f"{what} request refused"

    def logged(error: SesFeedbackError) -> dict[str, Any]:
        logger.info(refused_line, extra={"code": error.code, "field": error.field})
        return ErrorAnswer.of(error).model_dump(mode="json")

    answer_body = body or logged

    def refusal(error: SesFeedbackError) -> Response[dict[str, Any]]:
        return Response(error.http_status, content_types.APPLICATION_JSON, answer_body(error))

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
    def _invalid(error: RequestValidationError) -> Response[dict[str, Any]]:
        event = app.current_event
        content_type = event.headers.get("content-type")
        return refusal(route_refusal(error.errors(), content_type, event.body, event.is_base64_encoded))

    @app.exception_handler(ValueError)  # type: ignore[untyped-decorator]
    def _unreadable(error: ValueError) -> Response[dict[str, Any]]:
        # Powertools reads the body before the reader does (UTF-8, a multipart boundary): its failures.
        event = app.current_event
        found = unreadable_body(event.headers.get("content-type"), event.body, event.is_base64_encoded)
        if found is None:
            raise error  # not the body's: a bug, which Lambda reports as such
        return refusal(found)

    @app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
    def _not_json(error: RequestUnsupportedContentType) -> Response[dict[str, Any]]:
        # Powertools' own 415 body is not the API's error shape.
        return refusal(not_json(app.current_event.headers.get("content-type")))

    @app.exception_handler(SesFeedbackError)  # type: ignore[untyped-decorator]
    def _refused(error: SesFeedbackError) -> Response[dict[str, Any]]:
        if not is_refusal(error):
            raise error  # not a refusal: a bug, which Lambda reports as such
        return refusal(error)
