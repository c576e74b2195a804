"""`ses-feedback stats` and `redrive` as an operator runs them, against a moto server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.conftest import EMAIL
from tests.e2e.conftest import Cli
from tests.support import ses_events as b


@pytest.fixture
def refs(cli: Cli) -> dict[str, str]:
    created: dict[str, str] = cli.json("local", "bootstrap")
    return created


def publish(topic_arn: str, *messages: dict[str, Any] | str) -> None:
    sns = boto3.client("sns")
    for message in messages:
        sns.publish(TopicArn=topic_arn, Message=message if isinstance(message, str) else json.dumps(message))


def put_reputation(bounce_rate: float, complaint_rate: float) -> None:
    # SES publishes a rate some minutes after the period it describes; moto (like CloudWatch)
    # leaves out a datapoint of the current second, so these are five minutes old.
    when = datetime.now(UTC) - timedelta(minutes=5)
    cloudwatch = boto3.client("cloudwatch")
    for metric, value in (
        ("Reputation.BounceRate", bounce_rate),
        ("Reputation.ComplaintRate", complaint_rate),
    ):
        cloudwatch.put_metric_data(
            Namespace="AWS/SES", MetricData=[{"MetricName": metric, "Value": value, "Timestamp": when}]
        )


def test_stats_counts_by_type_and_decision_and_reads_the_reputation_rates(
    cli: Cli, refs: dict[str, str]
) -> None:
    # Given: two hard bounces, a soft bounce, a complaint, a not-spam complaint, a delivery, garbage
    old = b.bounce(["old@example.com"])
    old["bounce"]["timestamp"] = "2020-01-01T00:00:00.000Z"
    publish(
        refs["FeedbackTopic"],
        b.bounce(["h1@example.com", "h2@example.com"]),
        b.bounce(["s@example.com"], "Transient", "MailboxFull"),
        b.complaint(["c@example.com"]),
        b.complaint(["n@example.com"], "not-spam"),
        b.delivery(["d@example.com"]),
        old,
        "garbage",
    )
    cli.json("local", "drain")
    # ... and SES's reputation: bounces above the warning level, complaints fine
    put_reputation(bounce_rate=0.031, complaint_rate=0.0002)
    # When
    stats = cli.json("stats", "--json")
    recent = cli.json("stats", "--since", "7d", "--json")
    # Then
    assert stats["history"]["by_event_type_and_action"] == {
        "Bounce": {"suppress": 3, "count_soft_bounce": 1},
        "Complaint": {"suppress": 1, "record": 1},
    }
    assert (stats["history"]["total"], stats["history"]["addresses"]) == (6, 6)
    assert recent["history"]["by_event_type_and_action"]["Bounce"] == {"suppress": 2, "count_soft_bounce": 1}
    assert stats["suppressed_now"] == {"hard_bounce": 3, "soft_bounce": 0, "complaint": 1, "manual": 0}
    assert stats["queues"] == {"feedback": 0, "dead_letter": 1}
    bounce, complaint = stats["reputation"]["bounce_rate"], stats["reputation"]["complaint_rate"]
    assert (bounce["latest"], bounce["standing"], bounce["warning"]) == (0.031, "warning", 0.025)
    assert (bounce["aws_review"], bounce["aws_pause"]) == (0.05, 0.10)
    assert (complaint["latest"], complaint["standing"]) == (0.0002, "healthy")


def test_stats_text_reads_well_and_names_no_address(cli: Cli, refs: dict[str, str]) -> None:
    publish(refs["FeedbackTopic"], b.complaint(["someone@example.com"]))
    cli.json("local", "drain")
    put_reputation(bounce_rate=0.12, complaint_rate=0.0011)
    out = cli.run("stats").stdout
    assert "Complaint    suppress 1" in out
    assert "bounce rate: 12.0000% (pause)" in out
    assert "complaint rate: 0.1100% (review)" in out
    assert "queues: feedback 0, dead-letter 0" in out
    assert not EMAIL.search(out)


def test_stats_without_reputation_data_says_so(cli: Cli, refs: dict[str, str]) -> None:
    stats = cli.json("stats", "--json")
    assert stats["reputation"]["bounce_rate"]["latest"] is None
    assert stats["reputation"]["bounce_rate"]["standing"] is None
    assert "bounce rate: no data" in cli.run("stats").stdout


def test_stats_rejects_a_since_it_cannot_read(cli: Cli, refs: dict[str, str]) -> None:
    result = cli.run("stats", "--since", "last tuesday", check=False)
    assert result.returncode == 2
    assert "--since" in result.stderr


def test_dry_run_then_redrive_brings_a_transient_failure_back_and_it_is_applied(
    cli: Cli, refs: dict[str, str]
) -> None:
    # Given: a bounce that landed in the DLQ while DynamoDB was failing, and one garbage message
    sqs = boto3.client("sqs")
    bounce = json.dumps(b.sns_envelope(b.bounce(["late@example.com"])))
    sqs.send_message(QueueUrl=refs["FeedbackDeadLetterQueue"], MessageBody=bounce)
    sqs.send_message(QueueUrl=refs["FeedbackDeadLetterQueue"], MessageBody="garbage")
    # When
    looked = cli.json("redrive", "--dry-run", "--json")
    moved = cli.json("redrive", "--json")
    cli.json("local", "drain")
    # Then
    assert looked["dead_letter_queue_depth"] == 2
    assert sorted(str(m["event_type"]) for m in looked["messages"]) == ["Bounce", "None"]
    assert moved == {"method": "loop", "dead_letter_queue_depth_before": 2, "moved": 2}
    assert cli.json("suppressions", "get", "late@example.com", "--json")["reason"] == "hard_bounce"
    assert cli.json("redrive", "--dry-run", "--json")["dead_letter_queue_depth"] == 1  # the garbage, again
