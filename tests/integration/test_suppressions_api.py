"""SuppressionsApiFunction in-process: API Gateway REST proxy events through the real handler,
on the template's table in moto. Every route, pagination, the audit trail, errors, and the
SES lift (SES v2 DeleteSuppressedDestination is not in moto: ``botocore.stub.Stubber``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from ses_feedback import wiring
from ses_feedback.parsing.csv_rows import read_rows
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.template import REPO_ROOT

from tests.integration.conftest import Stack
from tests.support import usecases as uc
from tests.support.api_events import USER_ARN, rest_event

API_EVENTS = sorted((REPO_ROOT / "events" / "suppressions_api").glob("*.json"))
Call = Callable[..., tuple[int, Any]]


@pytest.fixture
def call(stack: Stack) -> Call:
    handler = load_handler(stack.local, "SuppressionsApiFunction")

    def invoke(
        method: str, path: str, query: dict[str, str] | None = None, body: Any = None, **kw: Any
    ) -> tuple[int, Any]:
        response = handler(
            rest_event(method, path, query, body, **kw), LocalContext(function_name="SuppressionsApiFunction")
        )
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None

    return invoke


def seed(stack: Stack, text: str) -> None:
    uc.bulk(stack.store).import_entries(read_rows(text.splitlines(keepends=True), datetime.now(UTC)), "seed")


def test_list_pages_through_one_reason_with_the_cursor(stack: Stack, call: Call) -> None:
    seed(
        stack,
        "".join(f"h{i}@example.com,bounce,2025-01-01T00:00:0{i}Z\n" for i in range(5))
        + "c@example.com,complaint\n",
    )
    seen, cursor = [], None
    while True:
        status, page = call(
            "GET",
            "/suppressions",
            {"reason": "hard_bounce", "limit": "2", **({"cursor": cursor} if cursor else {})},
        )
        assert status == 200
        seen.append([item["address"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [
        ["h4@example.com", "h3@example.com"],
        ["h2@example.com", "h1@example.com"],
        ["h0@example.com"],
    ]


def test_list_without_a_reason_lists_every_reason(stack: Stack, call: Call) -> None:
    seed(stack, "h@example.com,bounce\nc@example.com,complaint\n")
    status, page = call("GET", "/suppressions")
    assert status == 200
    assert [(i["address"], i["reason"]) for i in page["items"]] == [
        ("c@example.com", "complaint"),
        ("h@example.com", "hard_bounce"),
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"reason": "sad"}, "reason"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "many"}, "limit"),
    ],
)
def test_bad_query_parameters_are_rejected_naming_the_parameter(
    call: Call, query: dict[str, str], field: str
) -> None:
    status, body = call("GET", "/suppressions", query)
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "invalid_request", field)


def test_a_cursor_this_api_did_not_hand_out_is_a_400_naming_the_cursor(call: Call) -> None:
    status, body = call("GET", "/suppressions", {"cursor": "eyJub3QiOiJvdXJzIn0"})
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "invalid_request", "cursor")


def test_put_suppresses_by_hand_recording_the_iam_principal_and_the_note(call: Call) -> None:
    # When
    status, body = call("PUT", "/suppressions/Jane@Example.com", body={"note": "asked by phone"})
    # Then
    assert status == 200 and body["changed"] is True
    assert body["suppression"] | {"since": None} == {
        "address": "jane@example.com",
        "reason": "manual",
        "since": None,
        "expires_at": None,
        "note": "asked by phone",
        "actor": USER_ARN,
    }
    _, detail = call("GET", "/suppressions/jane@example.com")
    (entry,) = detail["history"]
    assert (entry["event_type"], entry["action"], entry["note"], entry["actor"]) == (
        "Manual",
        "suppress",
        "asked by phone",
        USER_ARN,
    )


@pytest.mark.parametrize(
    "body", [{}, {"note": ""}, {"note": "x" * 1001}, {"note": "n", "reason": "complaint"}, "not json"]
)
def test_put_needs_a_note_and_nothing_else(call: Call, body: Any) -> None:
    status, answer = call("PUT", "/suppressions/jane@example.com", body=body)
    assert (status, answer["error"]["code"]) == (400, "invalid_request"), answer


def test_put_on_a_hard_bounced_address_changes_nothing(stack: Stack, call: Call) -> None:
    seed(stack, "hb@example.com,bounce\n")
    status, body = call("PUT", "/suppressions/hb@example.com", body={"note": "again"})
    assert (status, body["changed"], body["suppression"]["reason"]) == (200, False, "hard_bounce")


def test_an_invalid_address_is_a_400_naming_the_address(call: Call) -> None:
    status, body = call("PUT", "/suppressions/not-an-address", body={"note": "n"})
    assert (status, body["error"]["field"]) == (400, "address")


def test_delete_lifts_and_the_history_says_who_and_why(stack: Stack, call: Call) -> None:
    seed(stack, "back@example.com,bounce\n")
    status, body = call(
        "DELETE",
        "/suppressions/back@example.com",
        {"note": "mailbox fixed"},
        user_arn="arn:aws:sts::123456789012:assumed-role/support/alice",
    )
    assert status == 200 and body["changed"] is True and body["suppression"]["reason"] is None
    _, detail = call("GET", "/suppressions/back@example.com")
    assert detail["suppression"]["reason"] is None and detail["lifted_at"] is not None
    (entry,) = detail["history"]
    assert (entry["action"], entry["reason"], entry["note"], entry["actor"]) == (
        "lift",
        "hard_bounce",
        "mailbox fixed",
        "arn:aws:sts::123456789012:assumed-role/support/alice",
    )


def test_delete_needs_a_note(call: Call) -> None:
    status, body = call("DELETE", "/suppressions/back@example.com")
    assert (status, body["error"]["field"]) == (400, "note")


def test_delete_of_a_complaint_needs_force(stack: Stack, call: Call) -> None:
    seed(stack, "c@example.com,complaint\n")
    status, body = call("DELETE", "/suppressions/c@example.com", {"note": "please"})
    assert (status, body["error"]["code"], body["error"]["field"]) == (409, "complaint_needs_force", "force")
    status, body = call("DELETE", "/suppressions/c@example.com", {"note": "confirmed", "force": "true"})
    assert status == 200 and body["suppression"]["reason"] is None


def test_delete_of_an_address_that_is_not_suppressed_is_a_404(call: Call) -> None:
    status, body = call("DELETE", "/suppressions/clean@example.com", {"note": "n"})
    assert (status, body["error"]["code"]) == (404, "not_suppressed")


def test_events_page_newest_first(stack: Stack, call: Call) -> None:
    for i in range(3):
        call("PUT", "/suppressions/h@example.com", body={"note": f"add {i}"})
        call("DELETE", "/suppressions/h@example.com", {"note": f"lift {i}"})
    status, first = call("GET", "/suppressions/h@example.com/events", {"limit": "4"})
    _, second = call(
        "GET", "/suppressions/h@example.com/events", {"limit": "4", "cursor": first["next_cursor"]}
    )
    assert status == 200
    assert [e["note"] for e in first["items"]] == ["lift 2", "add 2", "lift 1", "add 1"]
    assert [e["note"] for e in second["items"]] == ["lift 0", "add 0"] and second["next_cursor"] is None


def test_get_of_an_unknown_address_is_not_suppressed_with_no_history(call: Call) -> None:
    status, body = call("GET", "/suppressions/new@example.com")
    assert status == 200
    assert body == {
        "suppression": {
            "address": "new@example.com",
            "reason": None,
            "since": None,
            "expires_at": None,
            "note": None,
            "actor": None,
        },
        "soft_bounce_count": 0,
        "lifted_at": None,
        "history": [],
        "scoped": [],
    }


def test_with_the_sync_on_delete_also_lifts_ses_account_list(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the function as deployed with SyncSesAccountSuppressionList=true
    handler = load_handler(stack.local, "SuppressionsApiFunction")  # sets the template's default, false
    monkeypatch.setenv("SYNC_SES_ACCOUNT_SUPPRESSION_LIST", "true")
    seed(stack, "both@example.com,bounce\n")
    with Stubber(uc.only_region(wiring.ses_account_list()).client) as stubber:
        stubber.add_response("delete_suppressed_destination", {}, {"EmailAddress": "both@example.com"})
        # When
        response = handler(
            rest_event("DELETE", "/suppressions/both@example.com", {"note": "fixed"}),
            LocalContext(function_name="f"),
        )
        stubber.assert_no_pending_responses()
    # Then
    body = json.loads(response["body"])
    assert (response["statusCode"], body["ses_removed"], body["suppression"]["reason"]) == (200, True, None)


@pytest.mark.parametrize("path", API_EVENTS, ids=[p.stem for p in API_EVENTS])
def test_suppressions_api_function_accepts_every_event_file(stack: Stack, call: Call, path: Path) -> None:
    # Given: jane is suppressed (so that the lift in delete_lift.json has something to lift)
    seed(stack, "jane@example.com,bounce\n")
    handler = load_handler(stack.local, "SuppressionsApiFunction")
    # When
    response = handler(json.loads(path.read_text()), LocalContext(function_name="SuppressionsApiFunction"))
    # Then
    assert response["statusCode"] == 200, response["body"]


def test_the_committed_openapi_document_describes_every_suppression_route() -> None:
    document = json.loads((REPO_ROOT / "layers" / "common" / "ses_feedback" / "openapi.json").read_text())
    routes = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert {
        ("GET", "/suppressions"),
        ("GET", "/suppressions/{address}"),
        ("GET", "/suppressions/{address}/events"),
        ("PUT", "/suppressions/{address}"),
        ("DELETE", "/suppressions/{address}"),
        ("POST", "/messages"),
    } <= routes
    assert {"ManualSuppressionRequest", "SuppressionPage", "ErrorAnswer"} <= set(
        document["components"]["schemas"]
    )
    delete = document["paths"]["/suppressions/{address}"]["delete"]
    assert {"200", "404", "409"} <= set(delete["responses"])


def test_a_lift_and_a_manual_suppression_emit_the_dashboards_metrics(
    stack: Stack, call: Call, capsys: pytest.CaptureFixture[str]
) -> None:
    # When
    call("PUT", "/suppressions/m@example.com", body={"note": "n"})
    call("DELETE", "/suppressions/m@example.com", {"note": "n"})
    # Then: Powertools writes the metrics as EMF lines on stdout when each invocation ends
    emitted = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')
    ]
    names = {m["Name"] for doc in emitted for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"SuppressedManual", "SuppressionsLifted"} <= names
    assert all(doc.get("service") == "ses-feedback" for doc in emitted)


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/suppressions/jane@example.com"), ("POST", "/suppressions/jane@example.com/erasure")],
)
def test_a_body_sent_as_a_form_is_refused_naming_the_content_type(
    stack: Stack, method: str, path: str
) -> None:
    # Given: `curl -X PUT … -d '{"note": "…"}'` without -H 'Content-Type: application/json'
    handler = load_handler(stack.local, "SuppressionsApiFunction")
    event = rest_event(method, path, body={"note": "asked by phone"})
    event["headers"]["Content-Type"] = "application/x-www-form-urlencoded"
    event["multiValueHeaders"]["Content-Type"] = ["application/x-www-form-urlencoded"]
    # When
    response = handler(event, LocalContext(function_name="SuppressionsApiFunction"))
    # Then: refused as such, and nothing changed
    error = json.loads(response["body"])["error"]
    assert response["statusCode"] == 400
    assert (error["code"], error["field"]) == ("invalid_request", "Content-Type")
    assert stack.store.get_states(["jane@example.com"])["jane@example.com"].reason is None


def test_an_address_percent_encoded_in_the_path_is_that_address(stack: Stack, call: Call) -> None:
    # Given: a client that encodes the path segment (encodeURIComponent, quote(address, safe=""))
    path = "/suppressions/jo%2Bnews%40example.com"
    # When
    status, answer = call("PUT", path, body={"note": "asked by phone"})
    # Then: jo+news@example.com is suppressed, not "jo%2bnews@example.com" (another address)
    assert status == 200, answer
    assert answer["suppression"]["address"] == "jo+news@example.com"
    status, detail = call("GET", "/suppressions/jo+news@example.com")
    assert (status, detail["suppression"]["reason"]) == (200, "manual")
    status, lifted = call("DELETE", path, {"note": "subscribed again"})
    assert (status, lifted["suppression"]["reason"]) == (200, None)


def test_a_bad_stream_parameter_is_said_in_words(call: Call) -> None:
    status, answer = call("GET", "/suppressions", {"stream": "News"})
    assert status == 400
    assert answer["error"]["message"] == "stream: a stream name is 1-32 lower-case letters, digits or '-'"


@pytest.mark.parametrize(
    ("method", "path", "query", "field"),
    [
        # A typo would answer another question: every reason, not hard bounces
        ("GET", "/suppressions", {"reasn": "hard_bounce"}, "reasn"),
        # ... or lift the suppression on every stream, not the unsubscribe from one
        ("DELETE", "/suppressions/jane@example.com", {"note": "asked", "strem": "news"}, "strem"),
        ("PUT", "/suppressions/jane@example.com", {"force": "true"}, "force"),
    ],
)
def test_a_query_parameter_the_route_does_not_take_is_refused_naming_it(
    stack: Stack, call: Call, method: str, path: str, query: dict[str, str], field: str
) -> None:
    # Given an address suppressed by hand
    seed(stack, "jane@example.com,manual\n")
    # When
    status, body = call(method, path, query, body={"note": "n"} if method == "PUT" else None)
    # Then it is refused, naming the parameter and what the route takes, and nothing changed
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "invalid_request", field)
    assert "not a query parameter of this route" in body["error"]["message"]
    assert call("GET", "/suppressions/jane@example.com")[1]["suppression"]["reason"] == "manual"
