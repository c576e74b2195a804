"""Each message's timeline: the sender records it, feedback adds its events, each app reads its own."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from ses_feedback import wiring
from ses_feedback.model.reasons import Reason
from ses_feedback_cli.main import main
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.template import REPO_ROOT

from tests.integration.conftest import Stack
from tests.integration.test_sender_function import message, suppress
from tests.support import ses_events as b
from tests.support.api_events import rest_event
from tests.support.bus import BusTap

Call = Callable[..., tuple[int, dict[str, Any]]]


def _role(app: str) -> str:
    return f"arn:aws:sts::123456789012:assumed-role/{app}/session"


@pytest.fixture
def functions(stack: Stack) -> dict[str, Any]:
    return {
        name: load_handler(stack.local, name)
        for name in ("SenderFunction", "FeedbackFunction", "MessagesFunction")
    }


@pytest.fixture
def send(functions: dict[str, Any]) -> Call:
    def call(request: dict[str, Any], app: str = "billing") -> tuple[int, dict[str, Any]]:
        response = functions["SenderFunction"](
            rest_event("POST", "/messages", body=request, user_arn=_role(app)), LocalContext("SenderFunction")
        )
        return response["statusCode"], json.loads(response["body"])

    return call


@pytest.fixture
def read(functions: dict[str, Any]) -> Call:
    def call(
        path: str, app: str = "billing", query: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        response = functions["MessagesFunction"](
            rest_event("GET", path, query=query, user_arn=_role(app)), LocalContext("MessagesFunction")
        )
        return response["statusCode"], json.loads(response["body"])

    return call


def _feedback(
    functions: dict[str, Any], notification: dict[str, Any], message_id: str, app: str = "billing"
) -> None:
    notification["mail"]["messageId"] = message_id
    notification["mail"]["tags"]["app"] = [app]
    answer = functions["FeedbackFunction"](b.sqs_event(notification), LocalContext("FeedbackFunction"))
    assert answer == {"batchItemFailures": []}


def test_a_timeline_shows_each_recipients_status_and_events(
    stack: Stack, functions: dict[str, Any], send: Call, read: Call
) -> None:
    # Given: one recipient suppressed, two sent to; one of those bounces, the other is delivered
    tap = BusTap(stack.refs["EventBus"])
    suppress(stack.store, "b@example.org", Reason.HARD_BOUNCE)
    status, sent = send(
        message(to=["b@example.org", "c@example.org", "d@example.org"], tags={"campaign": "x"})
    )
    assert status == 200
    message_id = sent["message_id"]
    _feedback(functions, b.bounce(["c@example.org"], "Permanent", "General"), message_id)
    _feedback(functions, b.delivery(["d@example.org"]), message_id)
    # When
    status, timeline = read(f"/messages/{message_id}")
    # Then
    assert status == 200
    assert (timeline["message_id"], timeline["app"], timeline["stream"]) == (
        message_id,
        "billing",
        "transactional",
    )
    assert timeline["tags"] == {"campaign": "x"}
    recipients = {r["address"]: r for r in timeline["recipients"]}
    assert {a: r["status"] for a, r in recipients.items()} == {
        "b@example.org": "suppressed",
        "c@example.org": "bounced",
        "d@example.org": "delivered",
    }
    assert [e["type"] for e in recipients["c@example.org"]["events"]] == [
        "message.bounced",
        "recipient.suppressed",
    ]
    assert recipients["c@example.org"]["events"][0]["bounce_type"] == "Permanent"
    # And the send told the app it dropped b@
    suppressed = [e["detail"] for e in tap.drain() if e["detail-type"] == "message.suppressed"]
    assert [(e["address"], e["reason"], e["app"]) for e in suppressed] == [
        ("b@example.org", "hard_bounce", "billing")
    ]


def test_another_apps_message_is_not_found_as_an_unknown_one_is(send: Call, read: Call) -> None:
    # Given
    _, sent = send(message(), app="billing")
    # When
    theirs = read(f"/messages/{sent['message_id']}", app="marketing")
    unknown = read("/messages/0100-no-such-message", app="billing")
    # Then
    assert theirs[0] == unknown[0] == 404
    assert theirs[1]["error"]["code"] == unknown[1]["error"]["code"] == "message_not_found"


def test_a_message_is_found_by_its_idempotency_key_by_its_own_app_only(send: Call, read: Call) -> None:
    # Given
    _, sent = send(message(idempotency_key="invoice-8812"), app="billing")
    # When
    status, found = read("/messages", query={"idempotency_key": "invoice-8812"})
    _, others = read("/messages", app="marketing", query={"idempotency_key": "invoice-8812"})
    # Then
    assert status == 200
    assert [m["message_id"] for m in found["messages"]] == [sent["message_id"]]
    assert others == {"messages": []}


def test_erasure_removes_the_address_from_every_timeline_and_leaves_the_hash(
    stack: Stack, send: Call, read: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given
    _, sent = send(message(to=["c@example.org"]))
    for name, value in stack.local.function_environment("SuppressionsApiFunction").items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    tap = BusTap(stack.refs["EventBus"])
    # When
    wiring.admin().erase("c@example.org", "GDPR request 42", "ops")
    # Then
    _, timeline = read(f"/messages/{sent['message_id']}")
    assert "c@example.org" not in json.dumps(timeline)
    (recipient,) = timeline["recipients"]
    digest = wiring.store().tombstone_of("c@example.org")  # type: ignore[misc]
    assert recipient["address"] == digest
    (erased,) = tap.drain()
    assert erased["detail-type"] == "recipient.erased"
    assert (erased["detail"]["address"], erased["detail"]["address_hash"]) == (None, digest)


def test_the_cli_shows_and_finds_a_message_as_the_api_answers(
    send: Call, read: Call, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given
    _, sent = send(message(idempotency_key="k-1"))
    capsys.readouterr()
    # When
    shown = main(["messages", "show", sent["message_id"], "--json"])
    out = capsys.readouterr().out
    found = main(["messages", "find", "--idempotency-key", "k-1"])
    listed = capsys.readouterr().out
    missing = main(["messages", "show", "0100-unknown"])
    err = capsys.readouterr().err
    # Then
    assert (shown, found, missing) == (0, 0, 1)
    assert json.loads(out) == read(f"/messages/{sent['message_id']}")[1]
    assert f"message {sent['message_id']}: app billing" in listed
    assert "b@example.org: sent" in listed
    assert "error: no message 0100-unknown" in err


@pytest.mark.parametrize(
    "path", sorted((REPO_ROOT / "events" / "messages").glob("*.json")), ids=lambda p: p.name
)
def test_every_messages_event_file_gets_an_answer(functions: dict[str, Any], path: Path) -> None:
    # When: the sample events (sam local invoke MessagesFunction -e …) on an empty table
    response = functions["MessagesFunction"](json.loads(path.read_text()), LocalContext("MessagesFunction"))
    # Then: an unknown message, or no message with that key
    answer = json.loads(response["body"])
    if response["statusCode"] == 404:
        assert answer["error"]["code"] == "message_not_found"
    else:
        assert (response["statusCode"], answer) == (200, {"messages": []})


def test_after_an_erasure_neither_feedback_nor_a_send_puts_the_address_back_on_a_timeline(
    stack: Stack, functions: dict[str, Any], send: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: an erased address that was on a message
    _, sent = send(message(to=["c@example.org"]))
    for name, value in stack.local.function_environment("SuppressionsApiFunction").items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    wiring.admin().erase("c@example.org", "GDPR request 43", "ops")
    tap = BusTap(stack.refs["EventBus"])
    # When: SES still reports on the old message, and an app sends to the address again
    _feedback(functions, b.bounce(["c@example.org"], "Permanent", "General"), sent["message_id"])
    _feedback(functions, b.engagement("Open", ["c@example.org"]), sent["message_id"])
    send(message(to=["c@example.org", "d@example.org"]))
    # Then: the address is nowhere in clear, on the table or the bus
    items = boto3.client("dynamodb").scan(TableName=stack.refs["MessageTable"])["Items"]
    assert items and "c@example.org" not in json.dumps(items)
    assert "c@example.org" not in json.dumps(tap.drain())
