"""Lambda's SQS event source for BulkSenderFunction, in-process: one message per invocation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from ses_feedback_emulator.lambdas import LocalContext
from ses_feedback_stack.names import region


def drain(worker: Callable[[dict[str, Any], Any], Any], queue_url: str, max_messages: int = 1000) -> int:
    """Hand the worker each message of the batch queue until it is empty; the number handled."""
    sqs = boto3.client("sqs", region_name=region())
    handled = 0
    while handled < max_messages:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1).get("Messages", [])
        if not messages:
            return handled
        (message,) = messages
        answer = invoke(worker, message)
        assert answer == {"batchItemFailures": []}
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        handled += 1
    return handled


def invoke(worker: Callable[[dict[str, Any], Any], Any], message: dict[str, Any]) -> Any:
    """BulkSenderFunction with one received message, as the event source mapping calls it."""
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{region()}:123456789012:BatchQueue",
        "awsRegion": region(),
    }
    return worker({"Records": [record]}, LocalContext("BulkSenderFunction", timeout_seconds=180))
