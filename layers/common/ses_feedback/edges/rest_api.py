"""The stack's REST API as an app calls it (for the operator tools: ``ses-feedback batches``):
JSON over HTTPS, SigV4-signed (``execute-api``) with the credentials in use. ``local up`` serves
the same routes on loopback and accepts the same signature (or none), so one client serves both.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from ses_feedback.errors import AwsCallFailed


def call(base_url: str, method: str, path: str, body: Any = None, timeout: float = 120) -> tuple[int, Any]:
    """(HTTP status, JSON body); ``AwsCallFailed`` (not answered) when nothing answers at ``base_url``."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    session = boto3.Session()
    credentials = session.get_credentials()
    if credentials is not None:
        # Signed as an app's SDK signs it; the API names the app from the signer.
        request = AWSRequest(method=method, url=f"{base_url}{path}", data=data or b"", headers=headers)
        region = session.region_name or os.environ.get("AWS_REGION") or "us-east-1"
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        headers = dict(request.headers.items())
    request_ = urllib.request.Request(f"{base_url}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request_, timeout=timeout) as response:
            answered: Any = json.loads(response.read() or b"null")
            return int(response.status), answered
    except urllib.error.HTTPError as refused:
        text = refused.read()
        try:
            refusal: Any = json.loads(text)
            return int(refused.code), refusal
        except ValueError:
            return refused.code, {
                "error": {"code": "http_error", "message": text.decode(errors="replace")[:300]}
            }
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AwsCallFailed(f"no REST API answers at {base_url} ({reason})") from None
