"""Every file in events/ is accepted by its handler (the files `sam local invoke` uses)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.template import REPO_ROOT

from tests.integration.conftest import Stack

FEEDBACK_EVENTS = sorted((REPO_ROOT / "events" / "feedback").glob("*.json"))


@pytest.mark.parametrize("path", FEEDBACK_EVENTS, ids=[p.stem for p in FEEDBACK_EVENTS])
def test_feedback_function_accepts_every_event_file(stack: Stack, path: Path) -> None:
    # Given
    handler = load_handler(stack.local, "FeedbackFunction")
    event = json.loads(path.read_text())
    # When
    response = handler(event, LocalContext(function_name="FeedbackFunction"))
    # Then
    if "eventSource" in event["Records"][0]:
        assert response == {"batchItemFailures": []}
    else:
        assert response == {"applied": len(event["Records"])}


def test_there_are_events_for_every_feedback_type() -> None:
    kinds: set[str] = set()
    for path in FEEDBACK_EVENTS:
        for record in json.loads(path.read_text())["Records"]:
            body = json.loads(record["body"] if "body" in record else record["Sns"]["Message"])
            message = json.loads(body["Message"]) if "Message" in body else body
            kinds.add(message.get("eventType") or message["notificationType"])
    assert kinds == {
        "Send",
        "Reject",
        "Bounce",
        "Complaint",
        "Delivery",
        "DeliveryDelay",
        "Open",
        "Click",
        "Rendering Failure",
        "Subscription",
    }
