"""Every file in events/sender/ is accepted by SenderFunction (the files `sam local invoke` uses)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.template import REPO_ROOT

from tests.integration.conftest import Stack

SENDER_EVENTS = sorted((REPO_ROOT / "events" / "sender").glob("*.json"))

# file → what SenderFunction answers on a fresh stack (nobody suppressed yet)
EXPECTED: dict[str, Any] = {
    "invoke_send": {"status": "sent", "sent_to": ["success@simulator.amazonses.com"]},
    "invoke_reject_if_suppressed": {
        "status": "sent",
        "sent_to": ["success@simulator.amazonses.com", "bounce@simulator.amazonses.com"],
    },
    "api_post_messages": (200, {"status": "sent"}),
    "api_post_messages_header_injection": (400, {"error": {"code": "invalid_request", "field": "subject"}}),
    "api_get_openapi": (200, {"openapi": "3.1.0"}),
}


def test_every_event_file_has_an_expectation() -> None:
    assert {p.stem for p in SENDER_EVENTS} == set(EXPECTED)


@pytest.mark.parametrize("path", SENDER_EVENTS, ids=[p.stem for p in SENDER_EVENTS])
def test_sender_function_accepts_every_event_file(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, path: Path
) -> None:
    # Given
    for name, value in stack.local.function_environment("SenderFunction").items():
        monkeypatch.setenv(name, value)
    handler = load_handler(stack.local, "SenderFunction")
    event = json.loads(path.read_text())
    # When
    response = handler(event, LocalContext(function_name="SenderFunction"))
    # Then
    expected = EXPECTED[path.stem]
    if isinstance(expected, tuple):
        status, fields = expected
        assert response["statusCode"] == status
        response = json.loads(response["body"])
    else:
        fields = expected
    for key, value in fields.items():
        if isinstance(value, dict):
            assert {k: response[key][k] for k in value} == value
        else:
            assert response[key] == value


@pytest.mark.parametrize("door", ["invoke_send", "api_post_messages"])
def test_the_sender_never_logs_its_event_even_when_powertools_is_told_to(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, door: str
) -> None:
    # Given an operator who turned on Powertools' event logging to debug (a documented switch);
    # the event names every recipient in clear (the autouse guard fails any log line with one)
    for name, value in stack.local.function_environment("SenderFunction").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    handler = load_handler(stack.local, "SenderFunction")
    event = json.loads((REPO_ROOT / "events" / "sender" / f"{door}.json").read_text())
    # When
    response = handler(event, LocalContext(function_name="SenderFunction"))
    # Then the message is sent, and no log line carried the event
    body = json.loads(response["body"]) if "body" in response else response
    assert body["status"] == "sent"
