"""Every HTTP door under hostile bodies (issue 23): a 400 in words a person reads, never a 5xx,
nothing sent or written. Each door is its real handler, called in-process as Lambda calls it,
on the template's resources in moto.

Doors: ``POST /messages`` (and the sender's direct invoke), ``PUT /suppressions/{a}``,
``POST /suppressions/{a}/erasure`` and the public ``POST /unsubscribe/{token}``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.template import REPO_ROOT

from tests.integration.conftest import Stack
from tests.support.api_events import rest_event
from tests.support.sender_calls import record_sender_calls

Handler = Callable[[dict[str, Any], Any], Any]
ADDRESS = "jane@example.org"
# Words that are pydantic's or Python's, not ours: none may reach a caller.
NOT_OURS = (
    "Input should",
    "Value should",
    "String should",
    "Field required",
    "after validation",
    "Traceback",
    "Internal server error",
)


@dataclass
class Doors:
    stack: Stack
    handlers: dict[str, Handler]
    send_email_calls: list[dict[str, Any]]

    def call(self, function: str, event: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        response = self.handlers[function](event, LocalContext(function))
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        headers.update({k.lower(): v[0] for k, v in (response.get("multiValueHeaders") or {}).items()})
        return response["statusCode"], headers, response["body"]

    def json_door(self, door: str, body: bytes | str | None, base64_encoded: bool = False) -> tuple[int, Any]:
        function, event = _door_event(door)
        event["body"], event["isBase64Encoded"] = _encoded(body, base64_encoded)
        status, _, text = self.call(function, event)
        return status, json.loads(text)

    def unsubscribe(
        self,
        body: bytes | str | None,
        base64_encoded: bool = False,
        content_type: str = "application/x-www-form-urlencoded",
        token: str | None = None,
        method: str = "POST",
        accept: str | None = None,
    ) -> tuple[int, str]:
        name = "get_page.json" if method == "GET" else "post_one_click.json"
        event = json.loads((REPO_ROOT / "events" / "unsubscribe" / name).read_text())
        if token is not None:
            event["path"] = f"/unsubscribe/{token}"
            event["pathParameters"] = {"token": token}
        event["body"], event["isBase64Encoded"] = _encoded(body, base64_encoded)
        event["headers"]["Content-Type"] = content_type
        event["multiValueHeaders"]["Content-Type"] = [content_type]
        if accept is not None:
            event["headers"]["Accept"] = accept
            event["multiValueHeaders"]["Accept"] = [accept]
        status, _, text = self.call("UnsubscribeFunction", event)
        return status, text

    def items(self) -> int:
        """How many items the suppression table holds."""
        return len(self.stack.store.client.scan(TableName=self.stack.store.table_name)["Items"])


def _encoded(body: bytes | str | None, base64_encoded: bool) -> tuple[str | None, bool]:
    if isinstance(body, bytes):
        return base64.b64encode(body).decode(), True  # bytes that are not text: as API Gateway sends them
    return body, base64_encoded


def _door_event(door: str) -> tuple[str, dict[str, Any]]:
    if door == "POST /messages":
        event = json.loads((REPO_ROOT / "events" / "sender" / "api_post_messages.json").read_text())
        return "SenderFunction", event
    method, path = door.split(" ", 1)
    return "SuppressionsApiFunction", rest_event(method, path.replace("{a}", ADDRESS))


@pytest.fixture
def doors(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Doors]:
    functions = ("SenderFunction", "SuppressionsApiFunction", "UnsubscribeFunction")
    for function in functions:
        for name, value in stack.local.function_environment(function).items():
            monkeypatch.setenv(name, value)
    calls, _ = record_sender_calls()
    yield Doors(stack, {name: load_handler(stack.local, name) for name in functions}, calls)


JSON_DOORS = ["POST /messages", "PUT /suppressions/{a}", "POST /suppressions/{a}/erasure"]
DEEP = 100_000
# (case, body, what the message must say): each bad body of the issue, at every JSON door.
BAD_BODIES: list[tuple[str, bytes | str, str]] = [
    ("not-utf8", b'{"note": "caf\xe9"}', "the body is not UTF-8 text (byte 14 is not valid)"),
    ("lone-surrogate", '{"note": "\\ud800"}', "note: holds half of a UTF-16 surrogate pair"),
    ("lone-surrogate-key", '{"\\udfff": 1}', "the body holds half of a UTF-16 surrogate pair"),
    ("nested-100000-arrays", "[" * DEEP + "]" * DEEP, "the body nests arrays and objects more than 32 deep"),
    (
        "nested-100000-in-a-field",
        '{"note": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}",
        "the body nests arrays and objects more than 32 deep",
    ),
    ("duplicate-key", '{"note": "first", "note": "second"}', "note: is given twice; give each key once"),
    ("empty", "", "the body is empty: send a JSON object with the request's fields"),
    ("blank", "  \n", "the body is empty: send a JSON object with the request's fields"),
    ("array", "[]", "the body must be a JSON object ({...}), not an array"),
    ("string", '"note"', "the body must be a JSON object ({...}), not a string"),
    ("number", "42", "the body must be a JSON object ({...}), not a number"),
    ("null", "null", "the body must be a JSON object ({...}), not null"),
    ("nan", '{"note": NaN}', "the body is not valid JSON: NaN is not a JSON number"),
    ("truncated", '{"note": "a', "the body is not valid JSON: Unterminated string"),
]


@pytest.mark.parametrize("door", JSON_DOORS)
@pytest.mark.parametrize(("case", "body", "says"), BAD_BODIES, ids=[case for case, _, _ in BAD_BODIES])
def test_every_bad_body_is_400_invalid_request_in_words_at_every_json_door(
    doors: Doors, door: str, case: str, body: bytes | str, says: str
) -> None:
    # When
    status, answer = doors.json_door(door, body)
    # Then: 400, the reader's sentence, nothing sent, nothing written
    assert status == 400, answer
    assert answer["error"]["code"] == "invalid_request"
    assert answer["error"]["message"].startswith(says), answer["error"]["message"]
    assert not any(words in json.dumps(answer) for words in NOT_OURS)
    assert doors.send_email_calls == []
    assert doors.items() == 0


def test_a_key_given_twice_is_refused_not_the_last_one_sent(doors: Doors) -> None:
    # Given: "to" twice; json.loads would keep the second list and send to it
    body = (
        '{"from": "noreply@example.com", "to": ["jane@example.org"], "to": ["bob@example.org"], '
        '"subject": "Hi", "text": "Hello"}'
    )
    # When
    status, answer = doors.json_door("POST /messages", body)
    # Then
    assert status == 400
    assert (answer["error"]["field"], answer["error"]["message"]) == (
        "to",
        "to: is given twice; give each key once",
    )
    assert doors.send_email_calls == []


def test_a_key_given_twice_deep_in_the_body_is_named_by_its_path(doors: Doors) -> None:
    body = (
        '{"from": "noreply@example.com", "to": ["jane@example.org"], '
        '"template": {"name": "welcome", "data": {"name": "A", "name": "B"}}}'
    )
    status, answer = doors.json_door("POST /messages", body)
    assert status == 400
    assert answer["error"]["field"] == "template.data.name"


def test_the_direct_invoke_door_holds_the_same_rules(doors: Doors) -> None:
    # Given: Lambda parsed the payload already; a lone surrogate survives json.loads
    payload = {"from": "noreply@example.com", "to": ["jane@example.org"], "subject": "\ud800", "text": "Hi"}
    # When
    answer = doors.handlers["SenderFunction"](payload, LocalContext("SenderFunction"))
    # Then
    assert answer["error"]["code"] == "invalid_request"
    assert answer["error"]["field"] == "subject"
    assert doors.send_email_calls == []


@pytest.mark.parametrize(
    ("body", "kind"),
    [("[1]", "an array"), ("null", "null"), ('"text"', "a string")],
)
def test_the_direct_invoke_door_refuses_a_payload_that_is_not_an_object(
    doors: Doors, body: str, kind: str
) -> None:
    answer = doors.handlers["SenderFunction"](json.loads(body), LocalContext("SenderFunction"))
    assert answer["error"]["message"] == f"the body must be a JSON object ({{...}}), not {kind}"


# ---- the public unsubscribe door: form bodies, and the page's own words ------------------------------


UNSUBSCRIBE_BODIES: list[tuple[str, bytes | str, str]] = [
    ("not-utf8", b"List-Unsubscribe=One-Click\xff", "application/x-www-form-urlencoded"),
    ("percent-not-utf8", "List-Unsubscribe=One-Click%FF", "application/x-www-form-urlencoded"),
    ("lone-surrogate", "List-Unsubscribe=One-Click%ED%A0%80", "application/x-www-form-urlencoded"),
    ("too-many-fields", "&".join(f"f{i}=x" for i in range(50)), "application/x-www-form-urlencoded"),
    ("too-large", "List-Unsubscribe=One-Click&pad=" + "x" * 20_000, "application/x-www-form-urlencoded"),
    ("empty", "", "application/x-www-form-urlencoded"),
    ("json", '{"List-Unsubscribe": "One-Click"}', "application/json"),
    ("multipart-without-boundary", "List-Unsubscribe=One-Click", "multipart/form-data"),
    ("deep-json", "[" * DEEP + "]" * DEEP, "application/json"),
]


@pytest.mark.parametrize(
    ("case", "body", "content_type"), UNSUBSCRIBE_BODIES, ids=[case for case, _, _ in UNSUBSCRIBE_BODIES]
)
def test_every_bad_body_on_the_public_unsubscribe_door_is_400_with_the_pages_own_words(
    doors: Doors, case: str, body: bytes | str, content_type: str
) -> None:
    # When: no credentials needed, as anyone on the internet can post
    status, page = doors.unsubscribe(body, content_type=content_type)
    # Then
    assert status == 400
    assert '<h1 id="result">' in page and "Nothing was changed." in page
    assert not any(words in page for words in NOT_OURS)
    assert "List-Unsubscribe:" not in page and "form-encoded" not in page  # no refusal's message
    assert doors.items() == 0


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_unsubscribe_page_never_shows_a_validators_words(doors: Doors, method: str) -> None:
    # Given: a token longer than any link of ours ("token: String should have at most 1024 characters")
    token = "k1.newsletter." + "A" * 2000
    # When
    status, page = doors.unsubscribe("List-Unsubscribe=One-Click", token=token, method=method)
    # Then: the page's own sentence, in the page's language
    assert status == 400
    assert '<html lang="en">' in page
    assert '<h1 id="result">This link does not work</h1>' in page
    assert "Nothing was changed." in page
    assert not any(words in page for words in (*NOT_OURS, "token:", "1024", "characters"))


def test_the_unsubscribe_door_answers_json_callers_with_the_code(doors: Doors) -> None:
    status, text = doors.unsubscribe(b"\xff", accept="application/json")
    assert status == 400
    assert json.loads(text)["error"]["code"] == "invalid_request"


# ---- notes: one line break (LF) allowed, no other control character -------------------------------


@pytest.mark.parametrize(
    ("note", "found"),
    [
        ("ticket 7\r\n2026-01-01  Bounce  fake line", "U+000D"),
        ("a\x1b[2Jb", "U+001B"),
        ("a\u2028b", "U+2028"),
    ],
)
@pytest.mark.parametrize("door", ["PUT /suppressions/{a}", "POST /suppressions/{a}/erasure"])
def test_a_note_with_a_control_character_is_refused_and_nothing_is_written(
    doors: Doors, door: str, note: str, found: str
) -> None:
    # When
    status, answer = doors.json_door(door, json.dumps({"note": note}))
    # Then
    assert status == 400
    assert (answer["error"]["field"], answer["error"]["message"]) == (
        "note",
        f"note: must not contain control characters other than the newline (LF) (found {found})",
    )
    assert doors.items() == 0


def test_a_lift_note_with_cr_lf_is_refused(doors: Doors) -> None:
    doors.json_door("PUT /suppressions/{a}", json.dumps({"note": "first"}))
    event = rest_event("DELETE", f"/suppressions/{ADDRESS}", {"note": "why\r\nfake line"})
    status, _, text = doors.call("SuppressionsApiFunction", event)
    assert status == 400
    assert json.loads(text)["error"]["field"] == "note"


def test_a_note_over_lines_is_kept_as_given(doors: Doors) -> None:
    status, answer = doors.json_door("PUT /suppressions/{a}", json.dumps({"note": "ticket 7\nsee thread"}))
    assert status == 200, answer
    assert answer["suppression"]["note"] == "ticket 7\nsee thread"


# ---- cursors: opaque and authenticated --------------------------------------------------------------


def _list(doors: Doors, **query: str) -> tuple[int, Any]:
    status, _, text = doors.call("SuppressionsApiFunction", rest_event("GET", "/suppressions", query))
    return status, json.loads(text)


def test_an_edited_cursor_is_400_and_a_cursor_carries_no_address(doors: Doors) -> None:
    # Given: two suppressed addresses, listed one a page
    for address in ("first.person@example.org", "second.person@example.org"):
        event = rest_event("PUT", f"/suppressions/{address}", body={"note": "test"})
        assert doors.call("SuppressionsApiFunction", event)[0] == 200
    status, page = _list(doors, limit="1")
    cursor = page["next_cursor"]
    assert status == 200 and cursor
    # Then: nothing in the cursor reads as an address, however it is decoded
    _, _, encoded = cursor.partition(".")
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    assert b"person" not in raw and "person" not in cursor
    # When: one character edited
    edited = cursor[:-5] + ("A" if cursor[-5] != "A" else "B") + cursor[-4:]
    status, answer = _list(doors, limit="1", cursor=edited)
    # Then
    assert status == 400
    assert answer["error"] == {
        "code": "invalid_request",
        "message": "cursor: not a cursor this query handed out",
        "field": "cursor",
        "problems": [{"field": "cursor", "message": "not a cursor this query handed out"}],
    }
    # And the cursor as handed out still resumes
    assert _list(doors, limit="1", cursor=cursor)[1]["items"][0]["address"] == "first.person@example.org"


def test_a_cursor_of_the_old_plain_format_is_refused(doors: Doors) -> None:
    plain = base64.urlsafe_b64encode(b'{"a":"jane@example.org","sk":"EVT#x"}').decode().rstrip("=")
    event = rest_event("GET", f"/suppressions/{ADDRESS}/events", {"cursor": plain})
    status, _, text = doors.call("SuppressionsApiFunction", event)
    assert status == 400
    assert json.loads(text)["error"]["field"] == "cursor"


# ---- a JSON door sent another media type -----------------------------------------------------------

OTHER_MEDIA_TYPES = [
    "multipart/form-data",
    "multipart/form-data; boundary=XyZ",
    "application/x-www-form-urlencoded",
    "text/plain",
    "application/jsonp",
]


@pytest.mark.parametrize("content_type", OTHER_MEDIA_TYPES)
@pytest.mark.parametrize("door", JSON_DOORS)
def test_a_json_door_sent_another_media_type_is_400_naming_the_header(
    doors: Doors, door: str, content_type: str
) -> None:
    function, event = _door_event(door)
    event["body"] = json.dumps({"note": "why"})
    event["headers"]["Content-Type"] = content_type
    event["multiValueHeaders"]["Content-Type"] = [content_type]
    status, _, text = doors.call(function, event)
    assert status == 400, text
    assert json.loads(text)["error"]["field"] == "Content-Type"


# ---- words for people on the query and the path, too ----------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "field", "message"),
    [
        ("/suppressions", {"limit": "abc"}, "limit", "limit: must be a whole number"),
        ("/suppressions", {"limit": "0"}, "limit", "limit: must be at least 1"),
        ("/suppressions", {"limit": "5000"}, "limit", "limit: must be at most 1000"),
        (
            "/suppressions",
            {"reason": "bogus"},
            "reason",
            "reason: must be one of 'hard_bounce', 'soft_bounce', 'complaint', 'manual', "
            "'unsubscribed' or 'erased'",
        ),
        ("/suppressions/ab", None, "address", "address: must be at least 3 character(s) long"),
        (f"/suppressions/{ADDRESS}", {"history": "x"}, "history", "history: must be a whole number"),
    ],
)
def test_a_wrong_query_or_path_parameter_is_said_in_our_words(
    doors: Doors, path: str, query: dict[str, str] | None, field: str, message: str
) -> None:
    status, _, text = doors.call("SuppressionsApiFunction", rest_event("GET", path, query))
    error = json.loads(text)["error"]
    assert status == 400
    assert (error["field"], error["message"]) == (field, message)
