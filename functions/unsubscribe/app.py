"""UnsubscribeFunction: the recipient's link, on public routes of the REST API (no IAM).

- ``GET /unsubscribe/{token}`` is the recipient's preference page: every bulk stream of the
  catalogue (``streams.json`` beside this file) and whether this address receives it, with a
  form per stream to leave or rejoin and one to leave every bulk stream. Link scanners and
  mail filters fetch GETs, so a GET never changes anything.
- ``POST /unsubscribe/{token}`` with ``List-Unsubscribe=One-Click`` (form-urlencoded, as mail
  clients send it, or multipart/form-data) unsubscribes the token's address from the token's
  stream: 200, never a redirect, the same answer every time (idempotent, RFC 8058).
- ``POST /unsubscribe/{token}`` with ``action=unsubscribe|resubscribe`` and ``stream=S``, or
  ``action=unsubscribe_all|resubscribe_all``: the page's forms; the answer is the page again.

A token this stack did not sign (forged, truncated, of an unknown key) is 400
``invalid_token`` and changes nothing. Answers are HTML for people, in the language
``Accept-Language`` asks for among those shipped (``Accept: application/json`` gets the JSON
bodies); the pages and their words are ``ses_feedback.pages``. No answer and no log carries
the address (the page masks it).
"""

from __future__ import annotations

import email.parser
import email.policy
import urllib.parse
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from ses_feedback import wiring
from ses_feedback.errors import (
    UNSUBSCRIBE_REFUSALS,
    InvalidRequest,
    RejoinRefused,
    SesFeedbackError,
    is_refusal,
)
from ses_feedback.model.answers import ErrorAnswer, refusal_responses
from ses_feedback.model.preferences import Catalogue
from ses_feedback.observability import logger, metrics, tracer
from ses_feedback.pages import preferences as pages
from ses_feedback.parsing.catalogue import read_catalogue
from ses_feedback.parsing.preference_form import read_preference_form
from ses_feedback.parsing.problems import invalid_request
from ses_feedback.retry import within_remaining_time

app = APIGatewayRestResolver(enable_validation=True)

Token = Annotated[
    str, PathParam(min_length=1, max_length=1024, description="the token of the unsubscribe link")
]
# RFC 8058's one form field; a body is a few dozen bytes, so a big one is not a mail client's.
ONE_CLICK = ("List-Unsubscribe", "One-Click")
MAX_BODY_BYTES = 16 * 1024
CATALOGUE_FILE = Path(__file__).with_name("streams.json")


@cache
def catalogue() -> Catalogue:
    """The stream catalogue shipped with this function, read once per container."""
    try:
        return read_catalogue(CATALOGUE_FILE.read_text(encoding="utf-8"))
    except InvalidRequest as exc:
        # The deployment's mistake, not the recipient's request: an error Lambda reports, not a 400.
        raise RuntimeError(f"{CATALOGUE_FILE.name} does not read: {exc.message}") from None


def _page_responses(description: str, *, rejoins: bool = False) -> dict[int, Any]:
    refusals = (
        UNSUBSCRIBE_REFUSALS if rejoins else tuple(r for r in UNSUBSCRIBE_REFUSALS if r is not RejoinRefused)
    )
    return {
        200: {"description": description, "content": {"text/html": {}, "application/json": {}}},
        **refusal_responses(refusals),
    }


@app.get(
    "/unsubscribe/<token>",
    summary="The recipient's preference page: each bulk stream, with forms that POST; never changes anything",
    responses=_page_responses("an HTML page whose forms POST to the same URL"),
    tags=["unsubscribe"],
    security=[],
)
def show_page(token: Token) -> Response[str]:
    view = wiring.unsubscriber().preferences(token, catalogue())
    language = _language()
    return _html(200, pages.preference_page(view, catalogue(), language), language)


@app.post(
    "/unsubscribe/<token>",
    summary="One-click unsubscribe (RFC 8058, body List-Unsubscribe=One-Click), or one of the page's forms "
    "(action=unsubscribe|resubscribe with stream=S, action=unsubscribe_all|resubscribe_all); idempotent, "
    "no redirect",
    responses=_page_responses(
        "done (also when it already was so): the one-click answer, or the page again", rejoins=True
    ),
    tags=["unsubscribe"],
    security=[],
)
def one_click(token: Token) -> Response[Any]:
    event = app.current_event
    fields = _form_fields(event.decoded_body or "", event.headers.get("content-type") or "")
    if ONE_CLICK in fields:
        done = wiring.unsubscriber().unsubscribe(token)
        if _wants_json():
            body = {"unsubscribed": True, "stream": done.stream, "changed": done.changed}
            return Response(200, content_types.APPLICATION_JSON, body, headers=pages.page_headers("en"))
        language = _language()
        return _html(200, pages.one_click_page(done.stream, catalogue(), language), language)
    if not any(name == "action" for name, _ in fields):
        raise InvalidRequest.of(
            ONE_CLICK[0],
            "the body must be List-Unsubscribe=One-Click (RFC 8058), form-encoded, or a form of the page",
        )
    return _preference_form(token, fields)


def _preference_form(token: str, fields: list[tuple[str, str]]) -> Response[Any]:
    form = read_preference_form(fields)
    language = _language()
    unsubscriber = wiring.unsubscriber()
    try:
        change = unsubscriber.change(token, form, catalogue())
    except RejoinRefused as refused:
        if _wants_json():
            raise
        view = unsubscriber.preferences(token, catalogue())
        notice = pages.refused_rejoin_notice(form.stream, refused.reason, catalogue(), language)
        return _html(
            refused.http_status, pages.preference_page(view, catalogue(), language, notice), language
        )
    if _wants_json():
        body = {"action": form.action.value, "scope": change.scope, "changed": change.changed}
        return Response(200, content_types.APPLICATION_JSON, body, headers=pages.page_headers("en"))
    notice = pages.change_notice(form.action.value, form.stream, catalogue(), language)
    return _html(200, pages.preference_page(change.view, catalogue(), language, notice), language)


def _form_fields(body: str, content_type: str) -> list[tuple[str, str]]:
    """A POST body's form fields, in order (form-urlencoded or multipart); none when too big."""
    if len(body.encode()) > MAX_BODY_BYTES:
        return []
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data":
        message = email.parser.Parser(policy=email.policy.HTTP).parsestr(
            f"Content-Type: {content_type}\r\n\r\n{body}"
        )
        if not message.is_multipart():
            return []
        fields = []
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                fields.append((name, str(part.get_content()).strip()))
        return fields
    # application/x-www-form-urlencoded, or no type at all (some clients omit it).
    return urllib.parse.parse_qsl(body, keep_blank_values=True, max_num_fields=20)


def _wants_json() -> bool:
    accept = (app.current_event.headers.get("accept") or "").lower()
    return "application/json" in accept and "text/html" not in accept


def _language() -> str:
    return pages.page_language(app.current_event.headers.get("accept-language"))


def _html(status: int, page: str, language: str) -> Response[str]:
    return Response(
        status, content_types.TEXT_HTML + "; charset=utf-8", page, headers=pages.page_headers(language)
    )


# ---- refusals → answers, in one place ---------------------------------------------------------


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
def _invalid(error: RequestValidationError) -> Response[Any]:
    answer: Response[Any] = _refused(invalid_request(error.errors()))
    return answer


@app.exception_handler(SesFeedbackError)  # type: ignore[untyped-decorator]
def _refused(error: SesFeedbackError) -> Response[Any]:
    if not is_refusal(error):
        raise error  # not a refusal: a bug, which Lambda reports as such
    logger.info("unsubscribe refused", extra={"code": error.code, "field": error.field})
    if _wants_json():
        body = ErrorAnswer.of(error).model_dump(mode="json")
        return Response(
            error.http_status, content_types.APPLICATION_JSON, body, headers=pages.page_headers("en")
        )
    # The page's own words for the refusal, never the error's text (a validator's English).
    language = _language()
    return _html(error.http_status, pages.refusal_page(error.code, language), language)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@within_remaining_time
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
