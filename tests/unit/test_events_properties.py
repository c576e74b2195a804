"""Property: whatever arrives on the queue, the parser answers with a FeedbackEvent or
InvalidNotification, never any other exception (which would crash a whole batch instead
of sending one message to the DLQ).

Inputs are arbitrary JSON, arbitrary text, and real notifications from the builders with
random damage: keys dropped, values swapped for other types, nulls and odd unicode.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ses_feedback.errors import InvalidNotification
from ses_feedback.parsing.events import (
    FeedbackEvent,
    parse_ses_message,
    parse_sns_notification,
    parse_sqs_body,
)

from tests.support import ses_events as b

# The property is about the answer, not the time: no per-example deadline and no too-slow
# health check, both wall-clock limits that a stalled process on a loaded machine exceeds.
NO_TIMING: dict[str, Any] = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}

RECIPIENTS = ["a@example.com", "B <b@Example.com>"]
REAL = [
    b.bounce(RECIPIENTS, "Permanent", "General"),
    b.bounce(RECIPIENTS, "Transient", "MailboxFull", shape="notification"),
    b.complaint(RECIPIENTS, "abuse"),
    b.complaint(RECIPIENTS, None, shape="notification"),
    b.delivery(RECIPIENTS),
    *(b.engagement(kind, RECIPIENTS) for kind in ("Send", "Reject", "Open", "Click", "DeliveryDelay")),
    b.engagement("Rendering Failure", RECIPIENTS),
    b.engagement("Subscription", RECIPIENTS),
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.sampled_from(
        ["", "\x00", "\ud800", "ß@ünïcödé.example", "2018-10-08T14:05:45 +0000", "Bounce", "Permanent"]
    ),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
# Keys the parser looks at, so that arbitrary dicts sometimes reach its deeper branches.
interesting_keys = st.sampled_from(
    [
        "eventType",
        "notificationType",
        "mail",
        "bounce",
        "complaint",
        "delivery",
        "Message",
        "TopicArn",
        "Type",
    ]
)
ses_like = st.dictionaries(interesting_keys | st.text(max_size=8), json_values, max_size=6)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into a JSON document (the document itself included)."""
    paths = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            paths += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths += _paths(child, (*prefix, index))
    return paths


@st.composite
def damaged_notifications(draw: st.DrawFn) -> dict[str, Any]:
    """A real notification with one to four random mutations."""
    document = copy.deepcopy(draw(st.sampled_from(REAL)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = [p for p in _paths(document) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = document
        for key in path[:-1]:
            parent = parent[key]
        how = draw(st.sampled_from(["drop", "replace", "null", "unicode"]))
        if how == "drop":
            del parent[path[-1]]
        elif how == "replace":
            parent[path[-1]] = draw(json_values)
        elif how == "null":
            parent[path[-1]] = None
        else:
            parent[path[-1]] = draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=20))
    return document


def assert_parses_or_rejects(parse: Any, payload: Any) -> None:
    try:
        event = parse(payload)
    except InvalidNotification:
        return
    assert isinstance(event, FeedbackEvent)
    # What the rest of the pipeline reads from a parsed event must be there too.
    assert isinstance(event.recipients, list)
    assert event.timestamp.tzinfo is not None
    assert event.feedback_id is None or isinstance(event.feedback_id, str)


@settings(max_examples=300, **NO_TIMING)
@given(json_values | ses_like)
@example("1" * 5000)  # json refuses integers this long with ValueError, not JSONDecodeError
def test_arbitrary_json_is_parsed_or_rejected_as_invalid(value: Any) -> None:
    text = json.dumps(value)
    assert_parses_or_rejects(parse_sqs_body, text)
    assert_parses_or_rejects(parse_ses_message, text)
    if isinstance(value, dict):
        assert_parses_or_rejects(parse_ses_message, value)
        assert_parses_or_rejects(parse_sns_notification, value)


@settings(max_examples=200, **NO_TIMING)
@given(st.text())
@example("1" * 5000)
@example('{"Message": "x", "TopicArn": "' + "1" * 10 + '"}')
def test_arbitrary_text_is_parsed_or_rejected_as_invalid(text: str) -> None:
    assert_parses_or_rejects(parse_sqs_body, text)
    assert_parses_or_rejects(parse_ses_message, text)


@settings(max_examples=500, **NO_TIMING)
@given(damaged_notifications())
def test_damaged_real_notifications_are_parsed_or_rejected_as_invalid(document: dict[str, Any]) -> None:
    # Bare, raw-delivery body, SNS envelope in SQS, and a direct SNS Lambda record
    assert_parses_or_rejects(parse_ses_message, document)
    assert_parses_or_rejects(parse_sqs_body, json.dumps(document))
    assert_parses_or_rejects(parse_sqs_body, json.dumps(b.sns_envelope(document)))
    assert_parses_or_rejects(parse_sns_notification, b.sns_envelope(document, lambda_casing=True))


@settings(max_examples=200, **NO_TIMING)
@given(
    st.sampled_from(REAL),
    st.sampled_from(["Message", "TopicArn", "Type", "MessageId", "Timestamp"]),
    json_values,
)
def test_damaged_sns_envelopes_are_parsed_or_rejected_as_invalid(
    document: dict[str, Any], key: str, replacement: Any
) -> None:
    envelope = b.sns_envelope(document)
    envelope[key] = replacement
    assert_parses_or_rejects(parse_sqs_body, json.dumps(envelope))
    assert_parses_or_rejects(parse_sns_notification, envelope)


def test_real_notifications_still_parse() -> None:
    # The generator starts from valid documents: without damage, each one parses.
    for document in REAL:
        assert parse_ses_message(document).recipients
