"""DmarcReportBucket: where SES email receiving stores each message, and where an
unreadable one is set aside (``rejected/``) so it is counted once, never retried forever."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from ses_feedback.model.dmarc import INCOMING_PREFIX, REJECTED_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The receipt rule's ObjectKeyPrefix (template.yaml) and where unreadable messages go.


class MessageTooLarge(ValueError):
    pass


class ReportMailBucket:
    def __init__(self, bucket: str, client: S3Client | None = None) -> None:
        self.bucket = bucket
        self.client: S3Client = client or boto3.client("s3")

    def read(self, key: str, max_bytes: int) -> bytes:
        """The message's bytes; refused past ``max_bytes`` without reading the rest."""
        response = self.client.get_object(Bucket=self.bucket, Key=key)
        size = response["ContentLength"]
        if size > max_bytes:
            response["Body"].close()
            raise MessageTooLarge(f"{size} bytes is more than the {max_bytes} a report may be")
        return response["Body"].read(max_bytes + 1)

    def put_incoming(self, message_id: str, data: bytes) -> str:
        """Store a message as SES's S3 action does (local mode and tests)."""
        key = INCOMING_PREFIX + message_id
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        return key

    def set_aside(self, key: str) -> str:
        """Copy a message under ``rejected/``, leaving it where it is; returns the copy's key."""
        target = REJECTED_PREFIX + key.removeprefix(INCOMING_PREFIX)
        self.client.copy_object(
            Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": key}
        )
        return target

    def reject(self, key: str) -> str:
        """Move a message under ``rejected/`` (copy, then delete); returns its new key."""
        target = self.set_aside(key)
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return target

    def rejected_count(self) -> int:
        paginator = self.client.get_paginator("list_objects_v2")
        return sum(
            page.get("KeyCount", 0) for page in paginator.paginate(Bucket=self.bucket, Prefix=REJECTED_PREFIX)
        )
