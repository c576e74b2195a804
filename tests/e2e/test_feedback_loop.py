"""The feedback loop end to end: SNS topic → SQS → `local drain` → DynamoDB, on a moto server.

Every row of docs/feedback.md's policy table is published to the topic in both SES shapes (where
SES has both), drained by the real CLI, and read back with `suppressions get --json` (run
in-process: the reads are not what these tests are about).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest
from ses_feedback.edges.store import SuppressionStore
from ses_feedback.parsing.events import parse_ses_message
from ses_feedback.settings import Settings

from tests.e2e.conftest import Cli
from tests.support import ses_events as b
from tests.support import usecases as uc


def publish(topic_arn: str, *messages: dict[str, Any] | str) -> None:
    sns = boto3.client("sns")
    for message in messages:
        sns.publish(TopicArn=topic_arn, Message=message if isinstance(message, str) else json.dumps(message))


def queue_depth(url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture
def refs(cli: Cli) -> dict[str, str]:
    created: dict[str, str] = cli.json("local", "bootstrap")
    return created


def test_bootstrap_creates_every_resource_the_feedback_path_needs(refs: dict[str, str]) -> None:
    assert {
        "SuppressionTable",
        "FeedbackTopic",
        "FeedbackQueue",
        "FeedbackDeadLetterQueue",
        "FeedbackSubscription",
    } <= set(refs)
    assert refs["FeedbackTopic"].startswith("arn:aws:sns:")
    assert refs["FeedbackQueue"].startswith("http://127.0.0.1:")
    redrive = boto3.client("sqs").get_queue_attributes(
        QueueUrl=refs["FeedbackQueue"], AttributeNames=["RedrivePolicy"]
    )
    assert json.loads(redrive["Attributes"]["RedrivePolicy"])["maxReceiveCount"] == 5


# address → (messages to publish, expected state)
POLICY_ROWS: list[tuple[str, list[dict[str, Any]], dict[str, Any]]] = []
for shape in ("event", "notification"):
    POLICY_ROWS += [
        (
            f"hard-{shape}@example.com",
            [b.bounce([f"hard-{shape}@example.com"], "Permanent", "General", shape=shape)],
            {"suppressed": True, "reason": "hard_bounce", "expires_at": None},
        ),
        (
            f"onlist-{shape}@example.com",
            [b.bounce([f"onlist-{shape}@example.com"], "Permanent", "OnAccountSuppressionList", shape=shape)],
            {"suppressed": True, "reason": "hard_bounce"},
        ),
        (
            f"soft1-{shape}@example.com",
            [b.bounce([f"soft1-{shape}@example.com"], "Transient", "MailboxFull", shape=shape)],
            {"suppressed": False, "soft_bounce_count": 1},
        ),
        (
            f"undetermined-{shape}@example.com",
            [b.bounce([f"undetermined-{shape}@example.com"], "Undetermined", "Undetermined", shape=shape)],
            {"suppressed": False, "soft_bounce_count": 1},
        ),
        (
            f"content-{shape}@example.com",
            [b.bounce([f"content-{shape}@example.com"], "Transient", "ContentRejected", shape=shape)],
            {"suppressed": False, "soft_bounce_count": 0},
        ),
        (
            f"attachment-{shape}@example.com",
            [b.bounce([f"attachment-{shape}@example.com"], "Transient", "AttachmentRejected", shape=shape)],
            {"suppressed": False, "soft_bounce_count": 0},
        ),
        (
            f"complaint-{shape}@example.com",
            [b.complaint([f"complaint-{shape}@example.com"], None, shape=shape)],
            {"suppressed": True, "reason": "complaint", "expires_at": None},
        ),
        (
            f"abuse-{shape}@example.com",
            [b.complaint([f"abuse-{shape}@example.com"], "abuse", shape=shape)],
            {"suppressed": True, "reason": "complaint"},
        ),
        (
            f"notspam-{shape}@example.com",
            [b.complaint([f"notspam-{shape}@example.com"], "not-spam", shape=shape)],
            {"suppressed": False, "reason": None},
        ),
        (
            f"delivered-{shape}@example.com",
            [b.delivery([f"delivered-{shape}@example.com"], shape=shape)],
            {"suppressed": False, "soft_bounce_count": 0},
        ),
    ]
POLICY_ROWS += [
    (
        f"{kind.replace(' ', '').lower()}@example.com",
        [b.engagement(kind, [f"{kind.replace(' ', '').lower()}@example.com"])],
        {"suppressed": False, "soft_bounce_count": 0, "history": []},
    )
    for kind in ("DeliveryDelay", "Reject", "Rendering Failure", "Send", "Open", "Click", "Subscription")
]


def test_every_row_of_the_policy_table_end_to_end(cli: Cli, refs: dict[str, str]) -> None:
    # Given
    publish(refs["FeedbackTopic"], *(m for _, messages, _ in POLICY_ROWS for m in messages))
    # When
    summary = cli.json("local", "drain")
    # Then
    assert summary["processed"] == len(POLICY_ROWS)
    assert summary["failed"] == 0
    for address, _, expected in POLICY_ROWS:
        state = cli.read_json("suppressions", "get", address, "--json")
        assert state["address"] == address
        for key, value in expected.items():
            assert state[key] == value, (address, key, state)


def test_soft_bounces_three_distinct_suppress_repeats_count_once_delivery_resets(
    cli: Cli, refs: dict[str, str]
) -> None:
    # Given: one transient bounce published three times (same feedbackId) for A,
    # two distinct ones then a delivery for B, and three distinct ones for C
    repeated = b.bounce(["a@example.com"], "Transient", "General", feedback=b.feedback_id("repeat"))
    publish(refs["FeedbackTopic"], repeated, repeated, repeated)
    publish(refs["FeedbackTopic"], *(b.bounce(["b@example.com"], "Transient", "General") for _ in range(2)))
    publish(
        refs["FeedbackTopic"], *(b.bounce(["c@example.com"], "Transient", "MailboxFull") for _ in range(3))
    )
    cli.json("local", "drain")
    publish(refs["FeedbackTopic"], b.delivery(["b@example.com"]))
    # When
    cli.json("local", "drain")
    # Then
    a = cli.read_json("suppressions", "get", "a@example.com", "--json")
    b_state = cli.read_json("suppressions", "get", "b@example.com", "--json")
    c = cli.read_json("suppressions", "get", "c@example.com", "--json")
    assert (a["suppressed"], a["soft_bounce_count"]) == (False, 1)
    assert (b_state["suppressed"], b_state["soft_bounce_count"]) == (False, 0)
    assert b_state["history"][0]["action"] == "reset_soft_bounces"
    assert (c["suppressed"], c["reason"]) == (True, "soft_bounce")
    assert c["expires_at"] is not None and c["expires_at"] > c["since"]


def test_one_garbage_message_among_ten_ends_in_the_dlq(cli: Cli, refs: dict[str, str]) -> None:
    # Given
    good = [b.bounce([f"user{i}@example.com"]) for i in range(9)]
    publish(refs["FeedbackTopic"], *good[:5], "this is not SES feedback", *good[5:])
    # When
    summary = cli.json("local", "drain")
    # Then: the nine applied, the one reported on each of its 5 receives, then dead-lettered
    assert summary["processed"] == 9
    assert summary["failed"] == 5
    assert queue_depth(refs["FeedbackQueue"]) == 0
    assert queue_depth(refs["FeedbackDeadLetterQueue"]) == 1
    for i in range(9):
        assert (
            cli.read_json("suppressions", "get", f"user{i}@example.com", "--json")["reason"] == "hard_bounce"
        )
    (dead,) = boto3.client("sqs").receive_message(QueueUrl=refs["FeedbackDeadLetterQueue"])["Messages"]
    assert json.loads(dead["Body"])["Message"] == "this is not SES feedback"


def test_a_hundred_concurrent_transient_bounces_for_one_address_are_all_counted(refs: dict[str, str]) -> None:
    # Given: a threshold above 100, and one processor per thread, as concurrent Lambda containers
    settings = Settings.from_env(
        {"SUPPRESSION_TABLE": refs["SuppressionTable"], "SOFT_BOUNCE_THRESHOLD": "1000"}
    )
    store = SuppressionStore(refs["SuppressionTable"])
    events = [parse_ses_message(b.bounce(["busy@example.com"], "Transient", "General")) for _ in range(100)]
    errors: list[BaseException] = []

    def apply(event: Any) -> None:
        try:
            uc.feedback(store, settings).process(event)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=apply, args=(e,)) for e in events]
    # When
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then
    assert errors == []
    state, history = store.get_with_history("busy@example.com", limit=200)
    assert state.soft_bounce_count == 100
    assert len(history) == 100
