"""State items exactly as the release before streams wrote them: no scopes, no gsi2 keys.

Written by hand, not by the store under test, so that reading them checks compatibility.
"""

from __future__ import annotations

import boto3
from ses_feedback_stack.names import region

SINCE = "2026-10-01T09:00:00.000Z"


def put_pre_streams_state(table_name: str, address: str, reason: str) -> None:
    """An every-stream suppression (``reason`` since ``SINCE``) as the pre-streams release stored it."""
    boto3.client("dynamodb", region_name=region()).put_item(
        TableName=table_name,
        Item={
            "pk": {"S": f"ADDR#{address}"},
            "sk": {"S": "STATE"},
            "address": {"S": address},
            "soft_bounce_count": {"N": "0"},
            "version": {"N": "1"},
            "updated_at": {"S": SINCE},
            "since": {"S": SINCE},
            "reason": {"S": reason},
            "gsi1pk": {"S": f"SUPPRESSED#{reason}"},
            "gsi1sk": {"S": f"{SINCE}#{address}"},
        },
    )
