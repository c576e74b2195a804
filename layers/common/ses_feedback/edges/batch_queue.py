"""SQS: the batch queue. A message is one chunk of a batch's recipients (``parsing.batch_request.Chunk``).

A chunk put back (throttled, waiting for the quota, out of time)
carries only the recipients still to send, with a delay of up to SQS's 15 minutes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import boto3

from ses_feedback.parsing.batch_request import Chunk

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_DELAY_SECONDS = 900  # SQS's longest DelaySeconds
_SEND_BATCH = 10  # SendMessageBatch takes 10 messages


class BatchQueue:
    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            self._client = boto3.client("sqs")
        return self._client

    def put(self, messages: Iterable[Chunk], delay_seconds: int = 0) -> int:
        """Queue every chunk (10 to a SendMessageBatch); the number queued. Raises if SQS refuses one."""
        queued = 0
        pending = list(messages)
        delay = max(0, min(MAX_DELAY_SECONDS, delay_seconds))
        for start in range(0, len(pending), _SEND_BATCH):
            entries: list[Any] = [
                {"Id": str(i), "MessageBody": chunk.model_dump_json(), "DelaySeconds": delay}
                for i, chunk in enumerate(pending[start : start + _SEND_BATCH])
            ]
            answer = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            failed = answer.get("Failed", [])
            if failed:
                # Sender faults (a too-large message) are bugs; the rest are SQS's to retry.
                codes = sorted({f["Code"] for f in failed})
                raise RuntimeError(f"SQS refused {len(failed)} chunk(s): {json.dumps(codes)}")
            queued += len(entries)
        return queued
