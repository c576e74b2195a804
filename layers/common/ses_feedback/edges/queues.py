"""SQS: the feedback queue and its dead-letter queue, as the operator tools see them.

Depths, and the calls a redrive makes: receive (held out of sight for a while), send in
batches, delete, make visible again, and SQS's own message move task; and the region an SQS
queue URL names (a redrive in a replica region reaches two regions).
"""

from __future__ import annotations

import re
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.exceptions import ClientError

from ses_feedback.edges.failures import error_code

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# SQS answers at most 10 messages per receive, send batch and delete batch.
SQS_BATCH = 10
# Error codes with which an endpoint says it has no move task (moto's server answers 500).
_NO_MOVE_TASK = {"UnsupportedOperation", "InvalidAction", "NotImplemented", "InternalFailure", "500"}

Message = dict[str, Any]  # an SQS message as ReceiveMessage returns it
# SQS's first endpoint, still answered: queue.amazonaws.com/<account>/<name> is in us-east-1.
_LEGACY_HOST = ("queue.amazonaws.com", "us-east-1")


@cache
def _partitions() -> tuple[tuple[tuple[str, ...], re.Pattern[str]], ...]:
    """Each AWS partition's DNS suffixes and the pattern of its region names, as botocore knows them."""
    endpoints = botocore.session.get_session().get_data("endpoints")
    return tuple(
        (
            # The partition's own suffix and its variants' (dual-stack: api.aws).
            tuple(
                dict.fromkeys(
                    [p["dnsSuffix"], *(v["dnsSuffix"] for v in p.get("defaults", {}).get("variants", []))]
                )
            ),
            re.compile(p["regionRegex"]),
        )
        for p in endpoints["partitions"]
    )


def queue_region(queue_url: str) -> str | None:
    """The region an SQS queue URL names in its host (``https://sqs.eu-west-1.amazonaws.com/…``,
    ``https://eu-west-1.queue.amazonaws.com/…``, a VPC endpoint's ``….sqs.eu-west-1.vpce.amazonaws.com``);
    None when its host names none (a local endpoint such as ``http://127.0.0.1:5000/…``)."""
    host = (urlsplit(queue_url).hostname or "").lower()
    if host == _LEGACY_HOST[0]:
        return _LEGACY_HOST[1]
    for suffixes, region_name in _partitions():
        if any(host.endswith("." + suffix) for suffix in suffixes):
            found = [label for label in host.split(".") if region_name.match(label)]
            if len(found) == 1:
                return found[0]
    return None


class Queues:
    """SQS in one region (``region`` None: the environment's); pass ``client`` to use another."""

    def __init__(self, region: str | None = None, client: SQSClient | None = None) -> None:
        self.region = region
        self._client = client

    @cached_property
    def client(self) -> SQSClient:
        return self._client or boto3.client("sqs", region_name=self.region)

    @property
    def region_name(self) -> str:
        """The region these calls reach: the one asked for, else the client's."""
        return self.region or self.client.meta.region_name

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
