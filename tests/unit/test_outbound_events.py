"""The events app teams receive: their shapes (committed JSON schemas), ids, and the bus's batching."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ses_feedback.edges.bus import EventBus
from ses_feedback.errors import EventsNotPublished
from ses_feedback.model.outbound import EVENT_TYPES, MessageDelivered, json_schemas
from ses_feedback.model.reasons import Reason
from ses_feedback.model.timeline import SENT, SUPPRESSED
from ses_feedback.parsing.events import parse_ses_message
from ses_feedback.retry import RetryPolicy
from ses_feedback.rules.announcements import send_suppressions
from ses_feedback.rules.outbound import message_events
from ses_feedback.rules.timeline import status_of

from tests.support import ses_events as b

SCHEMAS = Path(__file__).parents[2] / "docs" / "events"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_the_committed_schemas_are_the_models_own() -> None:
    # Given
    committed = {
        path.name.removesuffix(".schema.json"): json.loads(path.read_text())
        for path in SCHEMAS.glob("*.schema.json")
    }
    # Then: `make event-schemas` writes them
    assert committed == json_schemas()
    assert sorted(committed) == sorted(EVENT_TYPES)


@pytest.mark.parametrize(
    "notification",
    [
        b.bounce(["a@example.com"], "Permanent", "General"),
        b.complaint(["a@example.com"], "abuse"),
        b.delivery(["a@example.com"]),
        b.engagement("DeliveryDelay", ["a@example.com"]),
        b.engagement("Reject", ["a@example.com"]),
        b.engagement("Rendering Failure", ["a@example.com"]),
        b.engagement("Open", ["a@example.com"]),
        b.engagement("Click", ["a@example.com"]),
    ],
    ids=lambda n: n["eventType"],
)
def test_each_notification_yields_events_its_committed_schema_accepts(notification: dict[str, Any]) -> None:
    # When
    events = message_events(parse_ses_message(notification))
    # Then
    assert len(events) == 1
    detail = json.loads(events[0].model_dump_json())
    schema = json.loads((SCHEMAS / f"{detail['type']}.schema.json").read_text())
    jsonschema.validate(detail, schema)
    assert detail["app"] == "tests"
    assert detail["address"] == "a@example.com"


def test_a_schema_refuses_a_detail_without_its_own_fields() -> None:
    schema = json.loads((SCHEMAS / "message.bounced.schema.json").read_text())
    detail = json.loads(MessageDelivered(id="x", occurred_at=NOW, address="a@example.com").model_dump_json())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**detail, "type": "message.bounced"}, schema)


def test_the_same_notification_always_yields_the_same_ids() -> None:
    notification = b.bounce(["a@example.com", "b@example.com"], "Transient", "MailboxFull")
    first = [e.id for e in message_events(parse_ses_message(notification))]
    again = [e.id for e in message_events(parse_ses_message(json.loads(json.dumps(notification))))]
    assert first == again
    assert len(set(first)) == 2


def test_two_opens_of_one_message_are_two_events() -> None:
    first = b.engagement("Open", ["a@example.com"], message_id="m-1")
    later = json.loads(json.dumps(first))
    later["open"]["timestamp"] = "2026-12-01T10:00:00.000Z"
    ids = {e.id for n in (first, later) for e in message_events(parse_ses_message(n))}
    assert len(ids) == 2


def test_send_and_subscription_notifications_are_no_message_events() -> None:
    for kind in ("Send", "Subscription"):
        assert message_events(parse_ses_message(b.engagement(kind, ["a@example.com"]))) == []


def test_the_send_tags_leave_out_app_stream_and_ses_own() -> None:
    notification = b.delivery(["a@example.com"])
    notification["mail"]["tags"].update({"stream": ["news"], "campaign": ["spring"]})
    (event,) = message_events(parse_ses_message(notification))
    assert (event.app, event.stream, event.tags) == ("tests", "news", {"campaign": "spring"})


@pytest.mark.parametrize(
    ("initial", "types", "status"),
    [
        (SENT, [], "sent"),
        (SENT, ["message.delayed", "message.delivered"], "delivered"),
        (SENT, ["message.delivered", "message.complained", "message.opened"], "complained"),
        (SENT, ["message.bounced", "recipient.suppressed"], "bounced"),
        (SENT, ["message.rejected"], "rejected"),
        (SENT, ["message.opened"], "sent"),
        (SUPPRESSED, [], "suppressed"),
    ],
)
def test_a_recipients_status_is_its_strongest_outcome(initial: str, types: list[str], status: str) -> None:
    assert status_of(initial, types) == status


# ---- the bus: batches of 10, failed entries retried -------------------------------------------


class FakeEvents:
    """PutEvents as EventBridge answers it: ``failures`` lists, per call, the positions it fails."""

    def __init__(self, failures: list[set[int]] | None = None, always_fail: bool = False) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.failures = failures or []
        self.always_fail = always_fail

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        failing = (
            set(range(len(Entries)))
            if self.always_fail
            else (self.failures[len(self.calls)] if len(self.calls) < len(self.failures) else set())
        )
        self.calls.append(Entries)
        entries = [
            {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}
            if i in failing
            else {"EventId": str(i)}
            for i in range(len(Entries))
        ]
        return {"FailedEntryCount": len(failing), "Entries": entries}


def _events(count: int) -> list[Any]:
    return send_suppressions(
        message_key="m",
        app="billing",
        stream="transactional",
        tags={},
        dropped=[(f"a{i}@example.com", Reason.HARD_BOUNCE, None) for i in range(count)],
        now=NOW,
        message_id="m",
    )


def _bus(client: FakeEvents) -> EventBus:
    return EventBus("bus", client=client, retry=RetryPolicy(attempts=3, sleep=lambda _: None))


def test_the_bus_takes_ten_entries_a_request() -> None:
    client = FakeEvents()
    _bus(client).publish(_events(25))
    assert [len(call) for call in client.calls] == [10, 10, 5]
    entry = client.calls[0][0]
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (
        "ses-feedback",
        "message.suppressed",
        "bus",
    )
    assert json.loads(entry["Detail"])["address"] == "a0@example.com"


def test_only_the_failed_entries_are_sent_again() -> None:
    client = FakeEvents(failures=[{1, 3}])
    events = _events(4)
    _bus(client).publish(events)
    assert [json.loads(e["Detail"])["id"] for e in client.calls[1]] == [events[1].id, events[3].id]
    assert len(client.calls) == 2


def test_entries_still_failing_after_the_last_attempt_are_raised_never_dropped() -> None:
    client = FakeEvents(always_fail=True)
    events = _events(3)
    with pytest.raises(EventsNotPublished) as raised:
        _bus(client).publish(events)
    assert raised.value.ids == [e.id for e in events]
    assert len(client.calls) == 3
