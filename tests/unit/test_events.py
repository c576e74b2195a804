from __future__ import annotations

import json

import pytest
from ses_feedback.errors import InvalidNotification
from ses_feedback.parsing.events import EventType, parse_ses_message, parse_sns_notification, parse_sqs_body

from tests.support import ses_events as b


@pytest.mark.parametrize("shape", ["event", "notification"])
def test_both_shapes_of_a_bounce_parse_alike(shape: str) -> None:
    # Given
    message = b.bounce(["a@example.com", "b@example.com"], "Transient", "MailboxFull", shape=shape)
    # When
    event = parse_ses_message(message)
    # Then
    assert event.type is EventType.BOUNCE
    assert event.shape == shape
    assert event.recipients == ["a@example.com", "b@example.com"]
    assert event.feedback_id == message["bounce"]["feedbackId"]


@pytest.mark.parametrize(
    "kind", ["Send", "Reject", "Open", "Click", "DeliveryDelay", "Rendering Failure", "Subscription"]
)
def test_every_event_publishing_type_parses(kind: str) -> None:
    event = parse_ses_message(b.engagement(kind, ["a@example.com"]))
    assert event.type == EventType(kind)
    assert event.raw_type == kind


def test_unknown_fields_and_subtypes_are_tolerated() -> None:
    # Given: fields SES may add one day, and a subtype it has not documented
    message = b.bounce(["a@example.com"], "Transient", "SomethingNew")
    message["bounce"]["brandNewField"] = {"nested": [1, 2]}
    message["mail"]["anotherNewField"] = "x"
    # When
    event = parse_ses_message(message)
    # Then
    assert event.bounce is not None
    assert event.bounce.bounce_sub_type == "SomethingNew"


def test_an_unknown_event_type_parses_with_no_type() -> None:
    message = {"eventType": "FutureThing", "mail": b.mail(["a@example.com"]), "futureThing": {}}
    event = parse_ses_message(message)
    assert event.type is None
    assert event.raw_type == "FutureThing"


@pytest.mark.parametrize(
    "stamp",
    [
        "2016-01-27T14:59:38.237Z",
        "2016-01-27T14:59:38.000Z",
        "2012-05-25T14:59:38.613-07:00",
        "2018-10-08T14:05:45 +0000",
    ],
)
def test_timestamps_in_every_form_ses_uses(stamp: str) -> None:
    message = b.delivery(["a@example.com"])
    message["mail"]["timestamp"] = stamp
    message["delivery"]["timestamp"] = stamp
    event = parse_ses_message(message)
    assert event.timestamp.tzinfo is not None


def test_sqs_body_with_sns_envelope_and_raw_body_give_the_same_event() -> None:
    # Given
    message = b.complaint(["a@example.com"])
    # When
    wrapped = parse_sqs_body(json.dumps(b.sns_envelope(message)))
    raw = parse_sqs_body(json.dumps(message))
    # Then
    assert wrapped == raw


def test_lambda_sns_record_casing_is_accepted() -> None:
    envelope = b.sns_envelope(b.delivery(["a@example.com"]), lambda_casing=True)
    assert parse_sns_notification(envelope).type is EventType.DELIVERY


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ("not json at all", "not JSON"),
        ("[1, 2, 3]", "JSON object"),
        (json.dumps({"hello": "world"}), "neither eventType nor notificationType"),
        (json.dumps({"eventType": "Bounce", "mail": b.mail(["a@example.com"])}), "'bounce' object"),
        (json.dumps({"notificationType": "Delivery", "delivery": {}, "mail": {}}), "mail.messageId"),
        (json.dumps(b.sns_envelope("not json")), "not JSON"),
    ],
)
def test_garbage_is_an_invalid_notification_that_says_what_is_wrong(body: str, complaint: str) -> None:
    with pytest.raises(InvalidNotification, match=complaint):
        parse_sqs_body(body)


def test_validation_errors_never_echo_the_address() -> None:
    # Given: a complaint whose recipient list has the wrong type, holding an address
    message = b.complaint(["secret.person@example.com"])
    message["complaint"]["complainedRecipients"] = "secret.person@example.com"
    # When
    with pytest.raises(InvalidNotification) as error:
        parse_ses_message(message)
    # Then
    assert "secret.person" not in str(error.value)
    assert "complainedRecipients" in str(error.value)


# Deeper than Python's recursion limit (1,000 frames): json.loads cannot read it at all.
TOO_DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "body",
    [TOO_DEEP, json.dumps(b.sns_envelope(TOO_DEEP)), '{"eventType": "Bounce", "bounce": ' + TOO_DEEP + "}"],
    ids=["raw body", "sns message", "inside an object"],
)
def test_json_nested_too_deep_is_an_invalid_notification(body: str) -> None:
    # A hostile or broken body must fail its own record, not the batch (a RecursionError would).
    with pytest.raises(InvalidNotification, match="nested too deep"):
        parse_sqs_body(body)


def test_a_timestamp_that_is_no_timestamp_is_refused_without_echoing_it() -> None:
    # Given: SES fields are untrusted text; this one holds an address instead of a time
    message = b.delivery(["a@example.com"])
    message["mail"]["timestamp"] = "secret.person@example.com"
    # When
    with pytest.raises(InvalidNotification) as error:
        parse_ses_message(message)
    # Then the refusal names the field and the rule, never the value (the handler logs it)
    assert "secret.person" not in str(error.value)
    assert "mail.timestamp" in str(error.value)
