"""What the stack published on its bus: a catch-all rule to an SQS queue, read back."""

from __future__ import annotations

import json
from typing import Any

import boto3
from pydantic import TypeAdapter
from ses_feedback.model.outbound import OutboundEvent

EVENTS = TypeAdapter(OutboundEvent)


class BusTap:
    """Every event on ``bus`` from the moment it is made (a rule on the bus, an SQS target)."""

    def __init__(self, bus: str, name: str = "tap") -> None:
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        events = boto3.client("events", region_name="us-east-1")
        self.url = self.sqs.create_queue(QueueName=f"{bus}-{name}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["ses-feedback"]}))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])

    def drain(self) -> list[dict[str, Any]]:
        """The EventBridge events delivered since the last call, each validated against its model."""
        received: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return received
            for message in messages:
                envelope = json.loads(message["Body"])
                EVENTS.validate_python(envelope["detail"])
                received.append(envelope)
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
