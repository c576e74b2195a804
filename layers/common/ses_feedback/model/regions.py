"""AWS region names: what the template's HomeRegion and ReplicaRegions, the functions' settings
and the CLI's ``--region`` take (us-east-1, eu-west-1, ap-southeast-2, us-gov-west-1, cn-north-1 …)."""

from __future__ import annotations

import re

_REGION_NAME = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")


def is_region_name(text: str) -> bool:
    """Whether ``text`` is shaped like an AWS region's name (boto3 would build a client for it)."""
    return _REGION_NAME.fullmatch(text) is not None
