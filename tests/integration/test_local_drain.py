"""The local drain plays Lambda's SQS event source mapping, function errors included."""

from __future__ import annotations

from typing import Any

import boto3
from ses_feedback.edges.queues import Queues
from ses_feedback_emulator.lambdas import drain

from tests.integration.conftest import Stack
from tests.support import ses_events as b


def test_an_invocation_that_raises_returns_its_whole_batch_until_the_dlq(stack: Stack) -> None:
    # Given: three good notifications, and a function that crashes on every invocation
    sqs = boto3.client("sqs")
    for i in range(3):
        sqs.send_message(
            QueueUrl=stack.refs["FeedbackQueue"],
            MessageBody=b.sqs_event(b.bounce([f"u{i}@example.com"]))["Records"][0]["body"],
        )

    def crashing(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("DynamoDB is down")

    # When
    summary = drain(stack.local, handler=crashing)
    # Then: received five times (the template's maxReceiveCount), then dead-lettered, none lost
    assert summary.invocation_errors == 5
    assert (summary.processed, summary.failed) == (0, 15)
    assert Queues(client=sqs).depth(stack.refs["FeedbackQueue"]) == 0
    assert Queues(client=sqs).depth(stack.refs["FeedbackDeadLetterQueue"]) == 3
