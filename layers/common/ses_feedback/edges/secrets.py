"""The stack's streams secret (Secrets Manager): the keys that sign unsubscribe links and name tombstones."""

from __future__ import annotations

import json
from typing import Any

import boto3

from ses_feedback.rules.tokens import KeyRing, key_ring_from_secret


def load_key_ring(secret_id: str, client: Any = None) -> KeyRing:
    """Read the secret once (wiring caches the ring for the container).

    ``client``: a Secrets Manager client (untyped: the project pins no stubs for it).
    """
    secrets = client or boto3.client("secretsmanager")
    text: str = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("the streams secret is a JSON object of key ids")
    return key_ring_from_secret(value)
