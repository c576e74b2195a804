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
# pydantic's error types → our sentences: each says what is wanted, after the field's name
# (``to[0]: must be a string``). ``{…}`` names come from the error's ``ctx``. A type not in
# the table is one of our own rules (``PydanticCustomError``), whose message is already ours.
WORDS: dict[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request (check its spelling)",
    "string_type": "must be a string",
    "string_unicode": "must be text",
    "string_too_short": "must be at least {min_length} character(s) long",
    "string_too_long": "must be at most {max_length} characters long",
    "string_pattern_mismatch": "must match the pattern {pattern}",
    "list_type": "must be a list (a JSON array)",
    "too_short": "must hold at least {min_length} item(s)",
    "too_long": "must hold at most {max_length} items",
    "dict_type": "must be a JSON object ({...})",
    "model_type": "must be a JSON object ({...})",
    "model_attributes_type": "must be a JSON object ({...})",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "greater_than": "must be more than {gt}",
    "less_than": "must be less than {lt}",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
    "json_invalid": "the body is not valid JSON",
}


def words_for(error: Mapping[str, Any]) -> str:
    """One pydantic error in our words (``WORDS``); a rule of our own keeps its message."""
    kind = str(error.get("type", ""))
    ctx = dict(error.get("ctx") or {})
    if kind in ("too_short", "too_long") and isinstance(error.get("input"), str):
        kind = f"string_{kind}"  # a length rule on text (Powertools' path parameters) is about characters
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in _PATTERN_WORDS:
        return _PATTERN_WORDS[ctx["pattern"]]
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])  # a validator's own sentence, without pydantic's "Value error, "
    template = WORDS.get(kind)
    if template is None:
        return str(error.get("msg") or "is not valid")
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template.split(" {", 1)[0]


def invalid_request(errors: Iterable[Mapping[str, Any]]) -> InvalidRequest:
    """One ``InvalidRequest`` from pydantic's error list (the request, or Powertools' validation
    of a route: its locations start with the part of the request, which is dropped)."""
    problems: list[tuple[str | None, str]] = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if loc[:1] in _REQUEST_PARTS:
            loc = loc[1:]
        if error.get("type") == "json_invalid":
            problems.append((None, WORDS["json_invalid"]))
            continue
        field = field_name(loc) or (error.get("ctx") or {}).get("field")
        problems.append((field, words_for(error)))
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


def refuse_body_not_json(app: Any, next_middleware: Callable[[Any], Any]) -> Any:
    """Powertools middleware (``app.use``): a route that takes a JSON body refuses one sent as
    another media type (Powertools reads ``application/jsonp`` and the like as JSON)."""
    route = app.context.get("_route")
    if route is not None and route.dependant.body_params:
        refusal = body_not_json(app.current_event.headers.get("content-type"), app.current_event.body)
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
