"""UnsubscribeFunction: one-click unsubscribe (RFC 8058) on public routes of the REST API (no IAM).

- ``POST /unsubscribe/{token}`` with ``List-Unsubscribe=One-Click`` (form-urlencoded, as mail
  clients send it, or multipart/form-data) unsubscribes the token's address from the
  token's stream: 200, never a redirect, the same answer every time (idempotent).
- ``GET /unsubscribe/{token}`` only shows a page whose button POSTs that same form: link
  scanners and mail filters fetch GETs, so a GET never unsubscribes.

A token this stack did not sign (forged, truncated, of an unknown key) is 400
``invalid_token`` and changes nothing. Answers are HTML for people (``Accept: application/json``
gets the JSON bodies); no answer and no log carries the address (the page masks it).
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from ses_feedback import wiring
from ses_feedback.errors import (
    UNSUBSCRIBE_REFUSALS,
    InvalidRequest,
    InvalidToken,
    SesFeedbackError,
    is_refusal,
)
from ses_feedback.model.answers import ErrorAnswer, refusal_responses
from ses_feedback.observability import logger, metrics, tracer
from ses_feedback.parsing.request_body import body_bytes, read_form
from ses_feedback.usecases.unsubscribe import Unsubscribed, UnsubscribeLink

app = APIGatewayRestResolver(enable_validation=True)

Token = Annotated[str, Path(min_length=1, max_length=1024, description="the token of the unsubscribe link")]
# RFC 8058's one form field (the reader caps a form's size: a big one is not a mail client's).
ONE_CLICK = ("List-Unsubscribe", "One-Click")

# The token is in the URL: no referrer leaves the page, nothing caches or indexes it.
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def _page_responses(description: str) -> dict[int, Any]:
    refusals = refusal_responses(UNSUBSCRIBE_REFUSALS)
    for refusal in refusals.values():
        # A person's browser gets the refusal as a page; Accept: application/json, as ErrorAnswer.
        refusal["content"] = {"text/html": {}, **refusal["content"]}
    return {
        200: {"description": description, "content": {"text/html": {}, "application/json": {}}},
        **refusals,
    }


@app.get(
    "/unsubscribe/<token>",
    summary="The unsubscribe page: shows the stream and a button that POSTs; never unsubscribes",
    responses=_page_responses("an HTML page with a form that POSTs List-Unsubscribe=One-Click"),
    tags=["unsubscribe"],
    security=[],
)
def show_page(token: Token) -> Response[str]:
    link = wiring.unsubscriber().inspect(token)
    return _html(200, _confirm_page(link))


@app.post(
    "/unsubscribe/<token>",
    summary="One-click unsubscribe (RFC 8058): body List-Unsubscribe=One-Click; idempotent, no redirect",
    responses=_page_responses("unsubscribed (also when the address already was)"),
    tags=["unsubscribe"],
    security=[],
)
def one_click(token: Token) -> Response[Any]:
    event = app.current_event
    fields = read_form(body_bytes(event.body, event.is_base64_encoded), event.headers.get("content-type"))
    if ONE_CLICK not in fields:
        raise InvalidRequest.of(
            "List-Unsubscribe", "the body must be List-Unsubscribe=One-Click (RFC 8058), form-encoded"
        )
    done = wiring.unsubscriber().unsubscribe(token)
    if _wants_json():
        body = {"unsubscribed": True, "stream": done.stream, "changed": done.changed}
        return Response(200, content_types.APPLICATION_JSON, body, headers=_PAGE_HEADERS)
    return _html(200, _done_page(done))


def _wants_json() -> bool:
    accept = (app.current_event.headers.get("accept") or "").lower()
    return "application/json" in accept and "text/html" not in accept


# ---- pages ------------------------------------------------------------------------------------

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}"
    "button{font-size:1rem;padding:.6rem 1.2rem;border:0;border-radius:.3rem;background:#b3261e;color:#fff;"
    "cursor:pointer}"
)


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def _confirm_page(link: UnsubscribeLink) -> str:
    # The form posts to this same URL (no action attribute): what a mail client's one click sends.
    return _document(
        "Unsubscribe",
        f"<h1>Unsubscribe</h1><p>Stop <strong>{escape(link.stream)}</strong> mail to "
        f"<strong>{escape(link.masked_address)}</strong>? Other mail (receipts, password resets) "
        "still comes.</p>"
        f'<form method="post"><input type="hidden" name="{ONE_CLICK[0]}" value="{ONE_CLICK[1]}">'
        '<button type="submit" id="unsubscribe">Unsubscribe</button></form>',
    )


def _done_page(done: Unsubscribed) -> str:
    return _document(
        "Unsubscribed",
        f'<h1 id="result">You are unsubscribed</h1><p>No more <strong>{escape(done.stream)}</strong> '
        "mail will be sent to this address.</p>",
    )


# The page's own sentences, by refusal code: a recipient reads these, never a validator's text
# ("token: String should have at most 1024 characters"). The JSON answer keeps the details.
_REFUSAL_PAGES = {
    "invalid_token": (
        "This link does not work",
        "This is not an unsubscribe link we sent, or part of it is missing. Nothing was changed. "
        "Use the link of the latest message you received.",
    ),
    "invalid_request": (
        "This request does not work",
        "This page only answers the Unsubscribe button of the page the link opens. Nothing was "
        "changed. Open the link of the latest message you received and press the button.",
    ),
    "streams_not_configured": (
        "Unsubscribing is not available",
        "This service cannot unsubscribe addresses yet. Nothing was changed. Reply to the message "
        "to ask the sender to stop.",
    ),
    "concurrent_update": (
        "Please try again",
        "Your address was being changed by another request. Nothing was lost: press the button again "
        "in a moment.",
    ),
}


def _html(status: int, page: str) -> Response[str]:
    return Response(status, content_types.TEXT_HTML + "; charset=utf-8", page, headers=_PAGE_HEADERS)


# ---- refusals → answers, in one place ---------------------------------------------------------


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
def _invalid(error: RequestValidationError) -> Response[Any]:
    # The token is the routes' one parameter: one that breaks its length is not a link we made.
    answer: Response[Any] = _refused(InvalidToken())
    return answer


@app.exception_handler(SesFeedbackError)  # type: ignore[untyped-decorator]
def _refused(error: SesFeedbackError) -> Response[Any]:
    if not is_refusal(error):
        raise error  # not a refusal: a bug, which Lambda reports as such
    logger.info("unsubscribe refused", extra={"code": error.code, "field": error.field})
    if _wants_json():
        body = ErrorAnswer.of(error).model_dump(mode="json")
        return Response(error.http_status, content_types.APPLICATION_JSON, body, headers=_PAGE_HEADERS)
    title, sentence = _REFUSAL_PAGES.get(error.code, _REFUSAL_PAGES["invalid_request"])
    page = _document(title, f'<h1 id="result">{escape(title)}</h1><p>{escape(sentence)}</p>')
    return _html(error.http_status, page)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
