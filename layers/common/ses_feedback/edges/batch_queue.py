"""SQS: the batch queue. A message is one chunk of a batch's recipients (``parsing.batch_request.Chunk``).

A chunk put back (throttled, waiting for the quota, out of time)
carries only the recipients still to send, with a delay of up to SQS's 15 minutes.

What SQS does not take (an entry it fails, a call that fails after botocore's own retries) is
sent again as the one retry policy says (``retry.py``), within the invocation's time; when the
policy gives up, ``NotQueued`` names the chunks that never went out, so that the caller can
account for each of their recipients (``usecases.batches``). A call that failed may still have
been stored by SQS: a chunk named as not queued can arrive all the same, which the per-recipient
records make harmless (whoever writes a recipient's record first decides its outcome).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ses_feedback.observability import logger
from ses_feedback.parsing.batch_request import Chunk
from ses_feedback.retry import RetryPolicy

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_DELAY_SECONDS = 900  # SQS's longest DelaySeconds
_SEND_BATCH = 10  # SendMessageBatch takes 10 messages
# SQS failing is rarer and slower to pass than a DynamoDB race: longer pauses, fewer tries, and
# time kept at the end to account for what was not queued and to answer.
QUEUE_RETRY = RetryPolicy(attempts=6, base_seconds=0.2, cap_seconds=2.0, margin_seconds=10.0)
# botocore's defaults wait 60 s to connect and 60 s to read, each of its attempts: an SQS that does
# not answer would hold POST /batches past API Gateway's 29 s before the policy above could act.
_CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})


class NotQueued(Exception):
    """SQS kept refusing: ``chunks`` never reached the queue (every other chunk did)."""

    def __init__(self, chunks: list[Chunk], queued: int, reason: str) -> None:
        super().__init__(f"SQS kept refusing {len(chunks)} chunk(s): {reason}")
        self.chunks = chunks
        self.queued = queued  # chunks that did go out
        self.reason = reason


class BatchQueue:
    def __init__(
        self, queue_url: str, client: SQSClient | None = None, retry: RetryPolicy = QUEUE_RETRY
    ) -> None:
        self.queue_url = queue_url
        self._client = client
        self.retry = retry

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            self._client = boto3.client("sqs", config=_CLIENT_CONFIG)
        return self._client

    def put(self, messages: Iterable[Chunk], delay_seconds: int = 0) -> int:
        """Queue every chunk (10 to a SendMessageBatch); the number queued. ``NotQueued`` when SQS
        kept refusing some after the retries: the chunks that did not go out, the rest not tried."""
        queued = 0
        pending = list(messages)
        delay = max(0, min(MAX_DELAY_SECONDS, delay_seconds))
        for start in range(0, len(pending), _SEND_BATCH):
            group = pending[start : start + _SEND_BATCH]
            refused, reason = self._send(group, delay)
            if refused:
                queued += len(group) - len(refused)
                raise NotQueued(refused + pending[start + _SEND_BATCH :], queued, reason)
            queued += len(group)
        return queued

    def _send(self, group: list[Chunk], delay: int) -> tuple[list[Chunk], str]:
        """One SendMessageBatch, and again for what SQS did not take; what it still refused, and why."""
        attempt = 0
        while True:
            entries: list[Any] = [
                {"Id": str(i), "MessageBody": chunk.model_dump_json(), "DelaySeconds": delay}
                for i, chunk in enumerate(group)
            ]
            try:
                failed = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries).get(
                    "Failed", []
                )
            except (ClientError, BotoCoreError) as exc:  # after botocore's own retries
                reason = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
                refused = group
                sender_fault = False
            else:
                if not failed:
                    return [], ""
                reason = ", ".join(sorted({f["Code"] for f in failed}))
                refused = [group[int(f["Id"])] for f in failed]
                # A sender fault (a message too large) fails the same way every time: not retried.
                sender_fault = any(f.get("SenderFault") for f in failed)
            logger.warning(
                "batch queue refused chunks",
                extra={"chunks": len(refused), "reason": reason, "attempt": attempt},
            )
            if sender_fault or not self.retry.wait(attempt):
                return refused, reason
            group = refused
            attempt += 1
