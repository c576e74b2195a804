"""Sending end to end on a moto server process: feedback suppresses B, then `ses-feedback send` skips B.

The CLI runs SenderFunction in-process as a direct invoke against the server (local mode);
what SES accepted is read back through SES's own API (moto counts every recipient it took).
"""

from __future__ import annotations

import json

import boto3
import pytest

from tests.e2e.conftest import Cli
from tests.support import ses_events as b

SENDER = "noreply@example.com"


@pytest.fixture
def refs(cli: Cli) -> dict[str, str]:
    created: dict[str, str] = cli.json("local", "bootstrap")
    return created


def recipients_ses_took() -> int:
    return int(boto3.client("ses").get_send_quota()["SentLast24Hours"])


def send(cli: Cli, *args: str, check: bool = True) -> tuple[int, dict[str, object]]:
    result = cli.run(
        "send", "--from", SENDER, "--subject", "Hello", "--text", "Hi", *args, "--json", check=check
    )
    answer: dict[str, object] = json.loads(result.stdout)
    return result.returncode, answer


def test_bootstrap_verifies_the_sending_domain_and_creates_the_idempotency_table(
    refs: dict[str, str],
) -> None:
    assert refs["SendingIdentity"] == "example.com"
    identities = boto3.client("sesv2").list_email_identities()["EmailIdentities"]
    assert "example.com" in [i["IdentityName"] for i in identities]
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=refs["IdempotencyTable"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expiration"


def test_a_fresh_local_stack_sends_from_the_default_domain(cli: Cli, refs: dict[str, str]) -> None:
    # When
    status, answer = send(cli, "--to", "someone@example.org")
    # Then
    assert status == 0
    assert answer["status"] == "sent"
    assert answer["sent_to"] == ["someone@example.org"]
    assert answer["message_id"]
    assert recipients_ses_took() == 1


def test_send_prints_its_answer_and_not_the_functions_logs_or_metrics(cli: Cli, refs: dict[str, str]) -> None:
    # When
    result = cli.run("send", "--from", SENDER, "--to", "x@example.org", "--subject", "S", "--text", "T")
    # Then: the human answer on stdout, and neither log lines nor EMF documents anywhere
    assert result.stdout.startswith("sent: message id ")
    assert '"level"' not in result.stdout + result.stderr
    assert '"_aws"' not in result.stdout + result.stderr


def test_after_a_hard_bounce_is_drained_the_next_send_skips_that_address(
    cli: Cli, refs: dict[str, str]
) -> None:
    # Given: SES reports a hard bounce for B, and the feedback pipeline drains it
    boto3.client("sns").publish(
        TopicArn=refs["FeedbackTopic"], Message=json.dumps(b.bounce(["b@example.org"]))
    )
    assert cli.json("local", "drain")["processed"] == 1
    # When
    status, answer = send(cli, "--to", "b@example.org", "--to", "c@example.org")
    # Then
    assert status == 0
    assert answer["status"] == "partially_suppressed"
    assert answer["sent_to"] == ["c@example.org"]
    (suppressed,) = answer["suppressed"]  # type: ignore[misc]
    assert suppressed["address"] == "b@example.org"
    assert suppressed["reason"] == "hard_bounce"
    assert suppressed["since"]
    assert recipients_ses_took() == 1  # C only: B never reached SES


def test_a_refused_request_exits_non_zero(cli: Cli, refs: dict[str, str]) -> None:
    # Given
    boto3.client("sns").publish(
        TopicArn=refs["FeedbackTopic"], Message=json.dumps(b.complaint(["b@example.org"]))
    )
    cli.json("local", "drain")
    # When
    rejected = send(
        cli, "--to", "b@example.org", "--to", "c@example.org", "--on-suppressed", "reject", check=False
    )
    foreign = cli.run(
        "send",
        "--from",
        "ceo@example.net",
        "--to",
        "c@example.org",
        "--subject",
        "s",
        "--text",
        "t",
        check=False,
    )
    # Then
    assert rejected[0] == 1 and rejected[1]["status"] == "rejected"
    assert foreign.returncode == 2  # invalid_request: the error table's exit status for input to fix
    assert "invalid_request" in foreign.stdout and "from" in foreign.stdout
    assert recipients_ses_took() == 0


def test_the_same_idempotency_key_sends_once(cli: Cli, refs: dict[str, str]) -> None:
    first = send(cli, "--to", "c@example.org", "--idempotency-key", "welcome-c")
    second = send(cli, "--to", "c@example.org", "--idempotency-key", "welcome-c")
    assert first == second
    assert recipients_ses_took() == 1
