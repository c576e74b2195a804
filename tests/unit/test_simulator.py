"""The local mailbox simulator against AWS's documentation: same outcomes, same structure."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ses_feedback.parsing.events import EventType, parse_ses_message
from ses_feedback_emulator.simulator import Outcome, SentMessage, auto_replies, notifications, outcome_for
from ses_feedback_stack.template import REPO_ROOT

SAMPLES = REPO_ROOT / "tests" / "fixtures" / "ses-samples"
SENT_AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def sent(*recipients: str) -> SentMessage:
    return SentMessage(
        message_id="0100019a-local-000000",
        source="Example <noreply@example.com>",
        to=list(recipients),
        subject="Hello",
        tags={"campaign": "spring"},
        configuration_set="ses-feedback-local-ConfigurationSet",
    )


@pytest.mark.parametrize(
    ("recipient", "outcome"),
    [
        ("success@simulator.amazonses.com", Outcome.DELIVERED),
        ("bounce@simulator.amazonses.com", Outcome.BOUNCED),
        ("ooto@simulator.amazonses.com", Outcome.AUTO_REPLY),
        ("complaint@simulator.amazonses.com", Outcome.COMPLAINED),
        ("suppressionlist@simulator.amazonses.com", Outcome.SUPPRESSED),
        ("bounce+campaign7@simulator.amazonses.com", Outcome.BOUNCED),
        ("Jane <Complaint+x@Simulator.AmazonSES.com>", Outcome.COMPLAINED),
        ("someone@example.com", Outcome.DELIVERED),
    ],
)
def test_each_simulator_address_behaves_as_aws_documents(recipient: str, outcome: Outcome) -> None:
    assert outcome_for(recipient) is outcome


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [e["eventType"] + (f"/{e['bounce']['bounceSubType']}" if "bounce" in e else "") for e in events]


@pytest.mark.parametrize(
    ("recipient", "expected"),
    [
        ("success@simulator.amazonses.com", ["Send", "Delivery"]),
        ("bounce@simulator.amazonses.com", ["Send", "Bounce/General"]),
        ("ooto@simulator.amazonses.com", ["Send", "Delivery"]),
        ("complaint@simulator.amazonses.com", ["Send", "Delivery", "Complaint"]),
        ("suppressionlist@simulator.amazonses.com", ["Send", "Bounce/Suppressed"]),
    ],
)
def test_send_comes_first_then_what_happened(recipient: str, expected: list[str]) -> None:
    assert kinds(notifications(sent(recipient), SENT_AT)) == expected


def test_bounce_carries_the_smtp_550_5_1_1_diagnostic_and_keeps_the_label() -> None:
    events = notifications(sent("bounce+campaign7@simulator.amazonses.com"), SENT_AT)
    (recipient,) = events[1]["bounce"]["bouncedRecipients"]
    assert recipient["emailAddress"] == "bounce+campaign7@simulator.amazonses.com"
    assert recipient["status"] == "5.1.1"
    assert "550 5.1.1" in recipient["diagnosticCode"]
    assert events[1]["bounce"]["bounceType"] == "Permanent"


def test_ooto_answers_the_return_path_and_never_bounces() -> None:
    message = sent("ooto@simulator.amazonses.com")
    (reply,) = auto_replies(message)
    assert reply.to == "noreply@example.com"
    assert reply.headers["Auto-Submitted"] == "auto-replied"  # RFC 3834
    assert reply.in_reply_to == message.message_id
    assert all(e["eventType"] != "Bounce" for e in notifications(message, SENT_AT))


def test_notifications_carry_the_message_id_recipients_tags_and_times() -> None:
    message = sent("success@simulator.amazonses.com", "bounce@simulator.amazonses.com")
    for event in notifications(message, SENT_AT):
        mail = event["mail"]
        assert mail["messageId"] == message.message_id
        assert mail["destination"] == message.destination
        assert mail["tags"]["campaign"] == ["spring"]
        assert mail["tags"]["ses:configuration-set"] == [message.configuration_set]
        assert mail["timestamp"] == "2026-11-28T09:00:00.000Z"


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path in a JSON document; list items collapse to ``[]``."""
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in {f"{prefix}.{k}"} | key_paths(v, f"{prefix}.{k}")}
    if isinstance(value, list):
        return {p for item in value for p in key_paths(item, f"{prefix}[]")}
    return set()


# Keys of the AWS examples that depend on the sending setup, not on the event: tags are the
# sender's, custom headers vary, and these are absent from real notifications too at times.
OPTIONAL = (".mail.tags.", ".mail.headers[]", ".mail.commonHeaders.date", ".delivery.remoteMtaIp")


@pytest.mark.parametrize(
    ("sample", "recipient", "event_type"),
    [
        ("b_doc_send.json", "success@simulator.amazonses.com", "Send"),
        ("b_doc_delivery.json", "success@simulator.amazonses.com", "Delivery"),
        ("b_doc_bounce_permanent_general.json", "bounce@simulator.amazonses.com", "Bounce"),
        ("b_doc_complaint_abuse.json", "complaint@simulator.amazonses.com", "Complaint"),
    ],
)
def test_generated_payloads_have_the_structure_of_the_published_aws_examples(
    sample: str, recipient: str, event_type: str
) -> None:
    # Given: AWS's own example of this event type (tests/fixtures/ses-samples, with its source)
    published = json.loads(Path(SAMPLES / sample).read_text())
    # When
    (generated,) = [e for e in notifications(sent(recipient), SENT_AT) if e["eventType"] == event_type]
    # Then: every key the example has, the generated payload has too, and both parse alike
    missing = {p for p in key_paths(published) - key_paths(generated) if not p.startswith(OPTIONAL)}
    assert missing == set()
    assert parse_ses_message(generated).type is EventType(event_type)
    assert parse_ses_message(published).type is EventType(event_type)
