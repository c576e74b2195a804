"""The one reader of a request body, at every HTTP door: the API's JSON bodies and the unsubscribe form.

Python's ``json`` module takes more than a person means to send, and some of it breaks later:
a key given twice keeps the last one (``"to"`` twice sends to the second list), a lone
surrogate (``"\\ud800"``) is text that neither DynamoDB nor SES can encode, ``NaN`` is not
JSON, and 100,000 nested arrays raise ``RecursionError``. Each of these, bytes that are not
UTF-8, an empty body and a body that is not an object is refused here with ``InvalidRequest``
(400 ``invalid_request``) and a sentence that says what to send instead; nothing is repaired.

``checked_object`` holds a payload that arrived already parsed (the sender's direct
``lambda:Invoke``) to the same rules, so both doors refuse the same requests.
"""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from itertools import accumulate
from typing import Any

from ses_feedback.errors import InvalidRequest
from ses_feedback.parsing.problems import body_not_json, field_name, invalid_request

# Deeper than any request of this API needs (SendRequest's deepest is template.data's own
# values), and far below the interpreter's recursion limit, which 100,000 brackets reach.
MAX_DEPTH = 32
# A form body (RFC 8058's one-click POST) is a few dozen bytes; a big one is not a mail client's.
MAX_FORM_BYTES = 16 * 1024
MAX_FORM_FIELDS = 20

# A JSON string literal (escapes included), and what is left that opens or closes a level.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_LEVEL = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE = re.compile("[\ud800-\udfff]")
_KINDS = {list: "an array", str: "a string", bool: "true or false", int: "a number", float: "a number"}


class _GivenTwice:
    """What an object with a repeated key parses into, so the walk can name where it is."""

    def __init__(self, key: str) -> None:
        self.key = key


def body_bytes(body: str | None, base64_encoded: bool | None = False) -> bytes:
    """The body as sent: API Gateway hands it over as text, or as base64 (binary media types)."""
    if not body:
        return b""
    if not base64_encoded:
        return body.encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("the body is marked base64 but is not base64") from None


def body_text(raw: bytes | str | None) -> str:
    """The body as text: UTF-8, as JSON (RFC 8259) and a form of this API are sent."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(
            f"the body is not UTF-8 text (byte {exc.start + 1} is not valid): send JSON encoded as UTF-8"
        ) from None


def read_json_object(raw: bytes | str | None) -> dict[str, Any]:
    """The one reader of a JSON request body: a JSON object, or ``InvalidRequest`` saying why not."""
    text = body_text(raw)
    if not text.strip():
        raise InvalidRequest("the body is empty: send a JSON object with the request's fields")
    # Each check costs a pass over the text only when a cheaper one says it might find something:
    # a send request holds two brackets and no \u escape, and its text then is read once.
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(text) > MAX_DEPTH:
        raise InvalidRequest(f"the body nests arrays and objects more than {MAX_DEPTH} deep")
    repeated: list[str] = []
    try:
        value = json.loads(
            text, object_pairs_hook=lambda pairs: _pairs(pairs, repeated), parse_constant=_not_json_constant
        )
    except json.JSONDecodeError as exc:
        raise InvalidRequest(
            f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if repeated or "\\u" in text or (isinstance(raw, str) and _holds_surrogate(text)):
        return checked_object(value)  # walks the value to name where the problem is
    if not isinstance(value, dict):
        raise _not_an_object(value)
    return value


def checked_object(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object whose keys appear once and whose text is all characters."""
    _walk(value, ())
    if not isinstance(value, Mapping):
        raise _not_an_object(value)
    return dict(value)


def _not_an_object(value: Any) -> InvalidRequest:
    kind = "null" if value is None else _KINDS.get(type(value), type(value).__name__)
    return InvalidRequest(f"the body must be a JSON object ({{...}}), not {kind}")


def _holds_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _walk(value: Any, loc: tuple[str | int, ...]) -> None:
    if len(loc) > MAX_DEPTH:
        raise InvalidRequest(f"the body nests arrays and objects more than {MAX_DEPTH} deep")
    if isinstance(value, _GivenTwice):
        field = field_name((*loc, value.key[:100]))
        raise InvalidRequest(f"{field}: is given twice; give each key once", field)
    if isinstance(value, str):
        _refuse_surrogate(value, loc)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _refuse_surrogate(key, loc)
            _walk(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, (*loc, index))


def _refuse_surrogate(text: str, loc: tuple[str | int, ...]) -> None:
    if _SURROGATE.search(text):
        field = field_name(loc)
        message = "holds half of a UTF-16 surrogate pair (\\ud800-\\udfff alone), which is not a character"
        raise InvalidRequest(f"{field}: {message}" if field else f"the body {message}", field)


def _depth(text: str) -> int:
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_LEVEL.__getitem__, brackets)), default=0)


def _pairs(pairs: list[tuple[str, Any]], repeated: list[str]) -> dict[str, Any] | _GivenTwice:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            repeated.append(key)
            return _GivenTwice(key)
        seen.add(key)
    raise AssertionError("unreachable: fewer keys than pairs means one is repeated")


def _not_json_constant(name: str) -> Any:
    raise InvalidRequest(f"the body is not valid JSON: {name} is not a JSON number")


def body_refusal(body: str | None, base64_encoded: bool | None = False) -> InvalidRequest | None:
    """What ``read_json_object`` refuses in an API Gateway event's body; None when it reads."""
    try:
        read_json_object(body_bytes(body, base64_encoded))
    except InvalidRequest as refused:
        return refused
    return None


def unreadable_body(
    content_type: str | None, body: str | None, base64_encoded: bool | None
) -> InvalidRequest | None:
    """What is wrong with a JSON door's body (its media type, then what the reader refuses);
    None when it reads. For failures inside Powertools, which reads the body before the reader:
    bytes that are not UTF-8, a multipart body without its boundary."""
    return body_not_json(content_type, body) or body_refusal(body, base64_encoded)


def route_refusal(
    errors: Iterable[Mapping[str, Any]],
    content_type: str | None,
    body: str | None,
    base64_encoded: bool | None,
) -> InvalidRequest:
    """Powertools' validation errors of a route as one refusal: the body's own problems first.

    Powertools does not hand an empty body to the reader (it reports the body as missing), nor
    one sent as a form (it parses it as one): both are said here as the reader says them.
    """
    listed = list(errors)
    about_body = any(tuple(error.get("loc", ()))[:1] == ("body",) for error in listed)
    refused = body_not_json(content_type, body) or (
        body_refusal(body, base64_encoded) if about_body else None
    )
    return refused or invalid_request(listed)


# ---- forms ---------------------------------------------------------------------------------------


def read_form(raw: bytes, content_type: str | None) -> list[tuple[str, str]]:
    """A form body's fields in order: ``application/x-www-form-urlencoded`` (also when no type
    is given: some mail clients omit it) or ``multipart/form-data``."""
    if len(raw) > MAX_FORM_BYTES:
        raise InvalidRequest(f"the form is larger than {MAX_FORM_BYTES} bytes")
    text = body_text(raw)
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data":
        return _multipart_fields(text, content_type or "")
    try:
        fields = urllib.parse.parse_qsl(
            text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS, errors="strict"
        )
    except UnicodeDecodeError:
        raise InvalidRequest("the form's percent-encoded text is not UTF-8") from None
    except ValueError:
        raise InvalidRequest(f"the form has more than {MAX_FORM_FIELDS} fields") from None
    for name, value in fields:
        _refuse_surrogate(name + value, ())
    return fields


def _multipart_fields(text: str, content_type: str) -> list[tuple[str, str]]:
    message = email.parser.Parser(policy=email.policy.HTTP).parsestr(
        f"Content-Type: {content_type}\r\n\r\n{text}"
    )
    if not message.is_multipart():
        raise InvalidRequest("the multipart form has no parts (is its boundary right?)")
    fields: list[tuple[str, str]] = []
    for part in list(message.iter_parts())[:MAX_FORM_FIELDS]:
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str) and part.get("Content-Disposition"):
            fields.append((name, str(part.get_content()).strip()))
    return fields
