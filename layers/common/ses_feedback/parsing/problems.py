"""pydantic's error list → one ``InvalidRequest`` naming every wrong field (every door uses it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ses_feedback.errors import InvalidRequest
from ses_feedback.model.streams import (
    STREAM_PATTERN,
    STREAM_RULE,
    UNSUBSCRIBE_SCOPE_PATTERN,
    UNSUBSCRIBE_SCOPE_RULE,
)

# Where Powertools' route validation says a parameter came from.
_REQUEST_PARTS = {("body",), ("query",), ("path",)}
# Patterns said in words: a caller is not expected to read a regular expression.
_PATTERN_WORDS = {STREAM_PATTERN: STREAM_RULE, UNSUBSCRIBE_SCOPE_PATTERN: UNSUBSCRIBE_SCOPE_RULE}


def invalid_request(errors: Iterable[Mapping[str, Any]]) -> InvalidRequest:
    """One ``InvalidRequest`` from pydantic's error list (the request, or Powertools' validation
    of a route: its locations start with the part of the request, which is dropped)."""
    problems: list[tuple[str | None, str]] = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if loc[:1] in _REQUEST_PARTS:
            loc = loc[1:]
        if error.get("type") == "json_invalid":
            problems.append((None, "the body is not valid JSON"))
            continue
        field = field_name(loc) or (error.get("ctx") or {}).get("field")
        pattern = (
            (error.get("ctx") or {}).get("pattern")
            if error.get("type") == "string_pattern_mismatch"
            else None
        )
        problems.append((field, _PATTERN_WORDS.get(pattern or "") or str(error.get("msg", "is not valid"))))
    if not problems:
        problems.append((None, "the request is not valid"))
    field, message = problems[0]
    return InvalidRequest(f"{field}: {message}" if field else message, field, problems)


def field_name(loc: Sequence[str | int]) -> str | None:
    """``("to", 3)`` → ``to[3]``; ``("tags", "x", "[key]")`` → ``tags.x``."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part != "[key]":
            name += f".{part}" if name else part
    return name or None


def body_not_json(content_type: str | None, body: str | None) -> InvalidRequest | None:
    """A body sent as anything but JSON, refused as such; None for JSON (or no Content-Type).

    `curl -d '{…}'` without `-H 'Content-Type: application/json'` sends a form: parsed as one,
    the request's fields all look missing and the JSON text itself is an unknown field.
    """
    if not body or _media_type(content_type) in ("", "application/json"):
        return None
    return not_json(content_type)


def unknown_query(given: Iterable[str], known: Iterable[str]) -> InvalidRequest | None:
    """A query parameter the route does not take, refused by name; None when there is none.

    Ignoring it would answer another question than the one asked: ``?reasn=hard_bounce``
    would list every reason, ``DELETE …?strem=news`` lift every stream's suppression.
    """
    unknown = sorted(set(given) - set(known))
    if not unknown:
        return None
    takes = ", ".join(sorted(known)) or "no query parameters"
    return InvalidRequest.of(unknown[0][:100], f"not a query parameter of this route (it takes {takes})")


def refuse_unknown_query(app: Any, next_middleware: Callable[[Any], Any]) -> Any:
    """Powertools middleware (``app.use``): ``unknown_query`` against the matched route's parameters."""
    route = app.context.get("_route")  # Powertools puts the matched route there
    if route is not None:
        known = [param.alias for param in route.dependant.query_params]
        refusal = unknown_query((app.current_event.query_string_parameters or {}).keys(), known)
        if refusal is not None:
            raise refusal
    return next_middleware(app)


def not_json(content_type: str | None) -> InvalidRequest:
    return InvalidRequest(
        "Content-Type: the body must be JSON, sent with Content-Type: application/json "
        f"(not {_media_type(content_type)[:100] or 'none'})",
        "Content-Type",
    )


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()
