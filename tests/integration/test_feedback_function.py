"""FeedbackFunction called in-process, as Lambda calls it, against the template's resources in moto."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from ses_feedback import wiring
from ses_feedback.errors import FeedbackBatchFailed
from ses_feedback.model.reasons import Reason
from ses_feedback_emulator.lambdas import LocalContext, load_handler

from tests.integration.conftest import Stack
from tests.support import ses_events as b

Handler = Callable[[dict[str, Any], Any], Any]


@pytest.fixture
def handler(stack: Stack) -> Handler:
    function = load_handler(stack.local, "FeedbackFunction")
    return lambda event, context=None: function(
        event, context or LocalContext(function_name="FeedbackFunction")
    )


def emitted_metrics(output: str) -> dict[str, float]:
    """Sum the EMF metrics the handler printed."""
    totals: dict[str, float] = {}
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for definition in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            name = definition["Name"]
            values = blob[name] if isinstance(blob[name], list) else [blob[name]]
            totals[name] = totals.get(name, 0) + sum(values)
    return totals


def test_hard_bounce_suppresses_every_bounced_recipient(stack: Stack, handler: Handler) -> None:
    # Given
    event = b.sqs_event(b.bounce(["a@example.com", "B@Example.com"], "Permanent", "General"))
    # When
    response = handler(event)
    # Then
    assert response == {"batchItemFailures": []}
    states = stack.store.get_states(["a@example.com", "b@example.com"])
    assert {s.reason for s in states.values()} == {Reason.HARD_BOUNCE}


def test_the_same_transient_bounce_three_times_counts_once(stack: Stack, handler: Handler) -> None:
    # Given: SNS/SQS redelivery and SES repeats give the same feedbackId
    message = b.bounce(["a@example.com"], "Transient", "MailboxFull", feedback=b.feedback_id("once"))
    # When
    for _ in range(3):
        handler(b.sqs_event(message))
    # Then
    state = stack.store.get_state("a@example.com")
    assert state.soft_bounce_count == 1
    assert state.reason is None


def test_three_distinct_transient_bounces_suppress_with_expiry_and_delivery_resets(
    stack: Stack, handler: Handler
) -> None:
    # Given
    handler(b.sqs_event(*(b.bounce(["a@example.com"], "Transient", "General") for _ in range(2))))
    handler(b.sqs_event(b.delivery(["a@example.com"])))
    assert stack.store.get_state("a@example.com").soft_bounce_count == 0
    # When
    handler(b.sqs_event(*(b.bounce(["a@example.com"], "Transient", "General") for _ in range(3))))
    # Then
    state = stack.store.get_state("a@example.com")
    assert state.reason is Reason.SOFT_BOUNCE
    assert state.expires_at is not None
    assert state.since is not None
    assert round((state.expires_at - state.since).total_seconds() / 86400) == 7


def dynamodb_requests(during: Callable[[], Any]) -> dict[str, int]:
    """The DynamoDB requests the container's store made while ``during()`` ran, by operation."""
    made: dict[str, int] = {}

    def count(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        made[operation] = made.get(operation, 0) + 1

    events = wiring.store().client.meta.events
    events.register("before-send.dynamodb", count)
    try:
        during()
    finally:
        events.unregister("before-send.dynamodb", count)
    return made


@pytest.mark.parametrize("door", ["sqs", "sns"])
def test_a_batch_reads_its_states_in_one_request_and_writes_only_what_changes(
    handler: Handler, door: str
) -> None:
    # Given: 40 deliveries and 10 hard bounces, each to an address of its own, in one batch
    notifications = [b.delivery([f"d{i}@example.com"]) for i in range(40)]
    notifications += [b.bounce([f"h{i}@example.com"], "Permanent", "General") for i in range(10)]
    event = b.sqs_event(*notifications) if door == "sqs" else b.sns_event(*notifications)
    # When
    made = dynamodb_requests(lambda: handler(event))
    # Then: one BatchGetItem for the whole batch (issue 2's budget: a delivery costs at most
    # 0.1 request), and one write per bounced recipient
    assert made == {"BatchGetItem": 1, "TransactWriteItems": 10}


def test_one_garbage_body_in_ten_is_reported_alone(stack: Stack, handler: Handler) -> None:
    # Given
    good = [b.complaint([f"user{i}@example.com"]) for i in range(9)]
    event = b.sqs_event(*good[:4], "this is not an SES notification", *good[4:])
    garbage_id = event["Records"][4]["messageId"]
    # When
    response = handler(event)
    # Then
    assert response == {"batchItemFailures": [{"itemIdentifier": garbage_id}]}
    states = stack.store.get_states([f"user{i}@example.com" for i in range(9)])
    assert all(s.reason is Reason.COMPLAINT for s in states.values())


def test_a_body_nested_too_deep_to_read_fails_alone_and_is_counted(
    stack: Stack, handler: Handler, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: one body json cannot read at all (nested past Python's recursion limit) among good ones
    good = [b.complaint([f"user{i}@example.com"]) for i in range(3)]
    event = b.sqs_event(good[0], "[" * 100_000 + "]" * 100_000, *good[1:])
    deep_id = event["Records"][1]["messageId"]
    # When
    response = handler(event)
    # Then only that record fails (the batch is not retried whole, so the good ones never reach the DLQ)
    assert response == {"batchItemFailures": [{"itemIdentifier": deep_id}]}
    states = stack.store.get_states([f"user{i}@example.com" for i in range(3)])
    assert all(s.reason is Reason.COMPLAINT for s in states.values())
    assert emitted_metrics(capsys.readouterr().out)["InvalidNotification"] == 1


def test_a_recipient_we_cannot_store_sends_its_message_to_the_dlq_after_the_others_apply(
    stack: Stack, handler: Handler, capsys: pytest.CaptureFixture[str], no_address_in_logs: Any
) -> None:
    # Given a hard bounce naming a recipient SES let through and email-validator refuses
    event = b.sqs_event(
        b.bounce(["a@example.com", "john..doe@example.com", "c@example.com"], "Permanent", "General")
    )
    # When
    response = handler(event)
    # Then the record fails (SQS retries it, then the DLQ keeps it for a person) ...
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    # ... after the readable recipients were suppressed (a retry finds them done)
    states = stack.store.get_states(["a@example.com", "c@example.com"])
    assert {s.reason for s in states.values()} == {Reason.HARD_BOUNCE}
    # And it is logged by position, never by value (the fixture fails any line with an address), and counted
    (logged,) = [line for line in no_address_in_logs.lines if "invalid feedback message" in line]
    assert "recipients at 1 are no email address" in logged and "the 2 others were applied" in logged
    assert emitted_metrics(capsys.readouterr().out)["InvalidNotification"] == 1
    # And the retry applies nothing twice and fails again
    assert handler(event) == response
    assert stack.store.get_state("a@example.com").version == states["a@example.com"].version


def test_a_batch_of_only_garbage_reports_every_record(handler: Handler) -> None:
    event = b.sqs_event("{}", "[]")
    response = handler(event)
    assert len(response["batchItemFailures"]) == 2


def test_raw_message_delivery_bodies_are_accepted(stack: Stack, handler: Handler) -> None:
    handler(b.sqs_event(b.bounce(["a@example.com"], shape="notification"), raw=True))
    assert stack.store.get_state("a@example.com").reason is Reason.HARD_BOUNCE


def test_direct_sns_event_is_accepted(stack: Stack, handler: Handler) -> None:
    response = handler(b.sns_event(b.complaint(["a@example.com"], shape="notification")))
    assert response == {"applied": 1}
    assert stack.store.get_state("a@example.com").reason is Reason.COMPLAINT


def test_direct_sns_event_with_garbage_applies_the_rest_then_fails(stack: Stack, handler: Handler) -> None:
    # Given
    event = b.sns_event(b.complaint(["a@example.com"]))
    event["Records"].append({"EventSource": "aws:sns", "Sns": b.sns_envelope("garbage", lambda_casing=True)})
    # When / Then: Lambda's async retry and on-failure destination take over
    with pytest.raises(FeedbackBatchFailed, match="1 of 2"):
        handler(event)
    assert stack.store.get_state("a@example.com").reason is Reason.COMPLAINT


def test_unknown_event_type_is_acknowledged_and_counted(
    handler: Handler, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given
    future = {"eventType": "Teleport", "mail": b.mail(["a@example.com"]), "teleport": {}}
    # When
    response = handler(b.sqs_event(future))
    # Then
    assert response == {"batchItemFailures": []}
    assert emitted_metrics(capsys.readouterr().out).get("FeedbackUnknown") == 1


def test_an_unknown_event_type_is_logged_without_an_address_it_may_hold(
    handler: Handler, no_address_in_logs: Any
) -> None:
    # Given a body whose event type is text we do not know (here, an address)
    future = {"eventType": "ops@example.com", "mail": b.mail(["a@example.com"])}
    # When
    response = handler(b.sqs_event(future))
    # Then it is acknowledged, and logged with the address's hash in its place
    assert response == {"batchItemFailures": []}
    (logged,) = [line for line in no_address_in_logs.lines if "unknown ses event type" in line]
    assert hashlib.sha256(b"ops@example.com").hexdigest()[:16] in logged


def test_metrics_count_each_event_type_and_decision(
    handler: Handler, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given
    event = b.sqs_event(
        b.bounce(["a@example.com"]),
        b.complaint(["b@example.com"], "not-spam"),
        b.engagement("Open", ["c@example.com"]),
        b.engagement("Rendering Failure", ["c@example.com"]),
        "garbage",
    )
    # When
    handler(event)
    # Then
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["FeedbackBounce"] == 1
    assert metrics["FeedbackComplaint"] == 1
    assert metrics["FeedbackOpen"] == 1
    assert metrics["FeedbackRenderingFailure"] == 1
    assert metrics["DecisionSuppress"] == 1
    assert metrics["DecisionRecord"] == 1
    assert metrics["SuppressedHardBounce"] == 1
    assert metrics["InvalidNotification"] == 1


def test_a_bare_ses_notification_can_be_invoked_directly(stack: Stack, handler: Handler) -> None:
    response = handler(b.bounce(["a@example.com"]))
    assert response == {"applied": 1}
    assert stack.store.get_state("a@example.com").reason is Reason.HARD_BOUNCE


def test_a_bare_notification_that_does_not_parse_is_logged_counted_and_raised(
    handler: Handler, capsys: pytest.CaptureFixture[str], no_address_in_logs: Any
) -> None:
    from ses_feedback.errors import InvalidNotification

    # Given a bounce without its bounce object, invoked directly (Lambda's async retry, then its DLQ)
    message = b.bounce(["a@example.com"])
    del message["bounce"]
    # When / Then
    with pytest.raises(InvalidNotification, match="'bounce' object"):
        handler(message)
    # And it is logged and counted like a bad SQS record
    assert [line for line in no_address_in_logs.lines if "invalid feedback message" in line]
    assert emitted_metrics(capsys.readouterr().out)["InvalidNotification"] == 1


def test_an_event_of_no_known_kind_is_refused_with_a_clear_error(handler: Handler) -> None:
    from ses_feedback.errors import InvalidNotification

    with pytest.raises(InvalidNotification, match="not an SQS event"):
        handler({"hello": "world"})


@pytest.mark.parametrize("event", [[], "a string", None])
def test_an_event_that_is_no_json_object_is_refused_with_the_same_clear_error(
    event: Any, handler: Handler
) -> None:
    from ses_feedback.errors import InvalidNotification

    with pytest.raises(InvalidNotification, match="not an SQS event"):
        handler(event)
