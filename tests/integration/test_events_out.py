"""FeedbackFunction publishes app teams' events on the stack's bus (moto's EventBridge)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ses_feedback import wiring
from ses_feedback.edges.bus import EventBus
from ses_feedback.errors import EventsNotPublished
from ses_feedback_emulator.lambdas import LocalContext, load_handler

from tests.integration.conftest import Stack
from tests.support import ses_events as b
from tests.support.bus import BusTap

Handler = Callable[[dict[str, Any]], Any]


@pytest.fixture
def handler(stack: Stack) -> Handler:
    function = load_handler(stack.local, "FeedbackFunction")
    return lambda event: function(event, LocalContext(function_name="FeedbackFunction"))


@pytest.fixture
def tap(stack: Stack) -> BusTap:
    return BusTap(stack.refs["EventBus"])


def _types(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((e["detail-type"], e["detail"]["address"]) for e in events)


def test_a_hard_bounce_publishes_the_bounce_and_the_suppression_per_recipient(
    handler: Handler, tap: BusTap
) -> None:
    # Given
    notification = b.bounce(["a@example.com", "B@Example.com"], "Permanent", "General")
    # When
    response = handler(b.sqs_event(notification))
    # Then
    assert response == {"batchItemFailures": []}
    events = tap.drain()
    assert _types(events) == [
        ("message.bounced", "a@example.com"),
        ("message.bounced", "b@example.com"),
        ("recipient.suppressed", "a@example.com"),
        ("recipient.suppressed", "b@example.com"),
    ]
    bounced = next(e["detail"] for e in events if e["detail-type"] == "message.bounced")
    assert bounced["bounce_type"] == "Permanent"
    assert bounced["bounce_subtype"] == "General"
    assert bounced["diagnostic_code"] == "smtp; 550 5.1.1 user unknown"
    assert bounced["app"] == "tests"
    assert bounced["message_id"] == notification["mail"]["messageId"]
    assert bounced["version"] == 1
    assert all(e["source"] == "ses-feedback" for e in events)
    suppressed = next(e["detail"] for e in events if e["detail-type"] == "recipient.suppressed")
    assert (suppressed["reason"], suppressed["scope"], suppressed["expires_at"]) == ("hard_bounce", "*", None)


def test_a_notification_applied_twice_publishes_nothing_the_second_time(
    handler: Handler, tap: BusTap
) -> None:
    # Given: SNS/SQS deliver at least once; every kind of outcome, opens and clicks included
    notifications = [
        b.bounce(["a@example.com"], "Permanent", "General", feedback=b.feedback_id("twice")),
        b.delivery(["d@example.com"], message_id="0100-delivered"),
        b.engagement("Open", ["o@example.com"], message_id="0100-opened"),
        b.engagement("Click", ["o@example.com"], message_id="0100-opened"),
    ]
    handler(b.sqs_event(*notifications))
    first = tap.drain()
    # When
    response = handler(b.sqs_event(*notifications))
    # Then
    assert response == {"batchItemFailures": []}
    assert len(first) == 5
    assert tap.drain() == []


def test_a_second_hard_bounce_to_a_suppressed_address_is_no_list_change(
    handler: Handler, tap: BusTap
) -> None:
    # Given
    handler(b.sqs_event(b.bounce(["a@example.com"], "Permanent", "General")))
    tap.drain()
    # When: another message to the same address bounces too
    handler(b.sqs_event(b.bounce(["a@example.com"], "Permanent", "General")))
    # Then: the message bounced, but the list did not change
    assert _types(tap.drain()) == [("message.bounced", "a@example.com")]


def test_events_the_bus_will_not_take_fail_their_record_and_come_with_its_redelivery(
    stack: Stack, handler: Handler, tap: BusTap, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the bus fails every entry, every time
    publish = EventBus.publish

    def refuse(self: EventBus, events: Any) -> None:
        raise EventsNotPublished("down", ids=[e.id for e in events])

    monkeypatch.setattr(EventBus, "publish", refuse)
    event = b.sqs_event(b.bounce(["a@example.com"], "Permanent", "General", feedback=b.feedback_id("down")))
    record = event["Records"][0]["messageId"]
    # When
    response = handler(event)
    # Then: the record failed (SQS brings it back), though the suppression is applied
    assert response == {"batchItemFailures": [{"itemIdentifier": record}]}
    monkeypatch.setattr(EventBus, "publish", publish)
    wiring.reset()
    # When: SQS redelivers it and the bus is back
    assert handler(event) == {"batchItemFailures": []}
    # Then: the events were not lost
    assert _types(tap.drain()) == [
        ("message.bounced", "a@example.com"),
        ("recipient.suppressed", "a@example.com"),
    ]


def test_a_batch_publishes_ten_events_a_request_and_writes_its_timeline_in_batches(
    stack: Stack, handler: Handler, tap: BusTap
) -> None:
    # Given: 40 deliveries and 10 hard bounces in one batch: 60 events
    notifications = [b.delivery([f"d{i}@example.com"]) for i in range(40)]
    notifications += [b.bounce([f"h{i}@example.com"], "Permanent", "General") for i in range(10)]
    made: dict[str, int] = {}

    def count(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        made[operation] = made.get(operation, 0) + 1

    publisher = wiring.publisher()
    assert publisher is not None and publisher.timeline is not None
    publisher.timeline.client.meta.events.register("before-send.dynamodb", count)
    publisher.bus.client.meta.events.register("before-send.events", count)
    # When
    handler(b.sqs_event(*notifications))
    # Then: one read for the exactly-once check, 25 items a write, 10 entries a PutEvents
    assert made == {"BatchGetItem": 1, "BatchWriteItem": 3, "PutEvents": 6}
    assert len(tap.drain()) == 60


def test_a_one_click_unsubscribe_and_an_operators_lift_are_told_on_the_bus(stack: Stack, tap: BusTap) -> None:
    # Given
    token = wiring.key_ring().issue("jane@example.org", "newsletter")
    # When
    wiring.unsubscriber().unsubscribe(token)
    wiring.unsubscriber().unsubscribe(token)  # idempotent: nothing changes, nothing is told
    wiring.admin().lift("jane@example.org", "asked by phone", "ops", raw_stream="newsletter")
    # Then
    events = tap.drain()
    assert [(e["detail-type"], e["detail"]["address"]) for e in events] == [
        ("recipient.unsubscribed", "jane@example.org"),
        ("recipient.lifted", "jane@example.org"),
    ]
    assert (events[0]["detail"]["stream"], events[0]["detail"]["scope"], events[0]["detail"]["app"]) == (
        "newsletter",
        "newsletter",
        None,
    )
    assert (events[1]["detail"]["reason"], events[1]["detail"]["stream"]) == ("unsubscribed", "newsletter")
