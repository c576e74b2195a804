"""Who is calling AWS: STS ``GetCallerIdentity``, the actor an operator's change is recorded under."""

from __future__ import annotations

import boto3
from botocore.exceptions import BotoCoreError, ClientError


def caller_arn(region: str | None = None) -> str | None:
    """The ARN of the credentials in use; None when there are none or STS will not say."""
    try:
        return str(boto3.client("sts", region_name=region).get_caller_identity()["Arn"])
    except (BotoCoreError, ClientError):
        return None
