"""SQS: the feedback queue and its dead-letter queue, as the operator tools see them.

Depths, and the calls a redrive makes: receive (held out of sight for a while), send in
batches, delete, make visible again, and SQS's own message move task.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from ses_feedback.edges.failures import error_code

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# SQS answers at most 10 messages per receive, send batch and delete batch.
SQS_BATCH = 10
# Error codes with which an endpoint says it has no move task (moto's server answers 500).
_NO_MOVE_TASK = {"UnsupportedOperation", "InvalidAction", "NotImplemented", "InternalFailure", "500"}

Message = dict[str, Any]  # an SQS message as ReceiveMessage returns it


class Queues:
    """SQS in one region (``region`` None: the environment's); pass ``client`` to use another."""

    def __init__(self, region: str | None = None, client: SQSClient | None = None) -> None:
        self.region = region
        self._client = client

    @cached_property
    def client(self) -> SQSClient:
        return self._client or boto3.client("sqs", region_name=self.region)

    def depth(self, queue_url: str) -> int:
        """Messages waiting (SQS's approximate count)."""
        attributes = self.client.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def arn(self, queue_url: str) -> str:
        attributes = self.client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])

    def receive(self, queue_url: str, count: int, hold_seconds: int) -> list[Message]:
        """Up to ``count`` (≤ 10) messages, out of sight of other readers for ``hold_seconds``."""
        response = self.client.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=count,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            VisibilityTimeout=hold_seconds,
        )
        messages: list[Message] = [dict(message) for message in response.get("Messages", [])]
        return messages

    def send(self, queue_url: str, messages: list[Message]) -> set[str]:
        """Send copies of up to 10 received messages (body and attributes); the ids of those sent."""
        entries: list[Any] = []
        for index, message in enumerate(messages):
            entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                entry["MessageAttributes"] = message["MessageAttributes"]
            entries.append(entry)
        response = self.client.send_message_batch(QueueUrl=queue_url, Entries=entries)
        return {messages[int(ok["Id"])]["MessageId"] for ok in response.get("Successful", [])}

    def delete(self, queue_url: str, messages: list[Message]) -> None:
        if not messages:
            return
        entries: list[Any] = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
        ]
        self.client.delete_message_batch(QueueUrl=queue_url, Entries=entries)

    def release(self, queue_url: str, messages: list[Message]) -> None:
        """Make received messages visible again at once."""
        for start in range(0, len(messages), SQS_BATCH):
            entries: list[Any] = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(messages[start : start + SQS_BATCH])
            ]
            self.client.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)

    def start_move_task(self, source_url: str, destination_url: str) -> str | None:
        """SQS's message move task (``StartMessageMoveTask``); None where the endpoint has none."""
        try:
            response = self.client.start_message_move_task(
                SourceArn=self.arn(source_url), DestinationArn=self.arn(destination_url)
            )
        except NotImplementedError:
            return None  # moto in-process raises this for an API it lacks
        except ClientError as exc:
            if error_code(exc) not in _NO_MOVE_TASK:
                raise
            return None
        return str(response["TaskHandle"])
