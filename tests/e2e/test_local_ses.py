"""The local SES's event publisher, against the moto server."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
from ses_feedback_cli.local_ses import LocalSes


def test_an_event_for_a_topic_that_is_gone_does_not_stop_later_events(aws: str) -> None:
    # Given: a topic with a queue subscribed, and the local SES's publisher
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="events")["TopicArn"]
    queue = sqs.create_queue(QueueName="events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    ses = LocalSes(app=lambda environ, start_response: [], endpoint=aws)
    # When: an event is queued for a topic a reset removed, then one for a topic that exists
    ses.outbox.put(("arn:aws:sns:us-east-1:123456789012:reset-away", {"eventType": "Send", "n": 1}))
    ses.outbox.put((topic, {"eventType": "Send", "n": 2}))
    # Then: the second one is published all the same
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while not received and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", []):
            received.append(json.loads(json.loads(message["Body"])["Message"]))
    assert received == [{"eventType": "Send", "n": 2}]
