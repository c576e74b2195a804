"""API Gateway REST proxy events (AWS_IAM auth), shaped as API Gateway sends them to Lambda."""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid
from typing import Any

ACCOUNT = "123456789012"
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/ops"

# The template's routes: the resource (with its {parameters}) that a path matches.
_RESOURCES = [
    "/suppressions/{address}/events",
    "/suppressions/{address}/erasure",
    "/suppressions/{address}",
    "/suppressions",
    "/messages/{message_id}",
    "/messages",
    "/webhooks/{webhook_id}/test",
    "/webhooks/{webhook_id}",
    "/webhooks",
]


def _match(path: str) -> tuple[str, dict[str, str] | None]:
    for resource in _RESOURCES:
        pattern = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", resource) + "$"
        found = re.match(pattern, path)
        if found:
            return resource, (found.groupdict() or None)
    raise ValueError(f"no route for {path}")


def rest_event(
    method: str,
    path: str,
    query: dict[str, str] | None = None,
    body: dict[str, Any] | str | None = None,
    user_arn: str = USER_ARN,
) -> dict[str, Any]:
    resource, parameters = _match(path)
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Host": "abc123.execute-api.us-east-1.amazonaws.com"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {k: urllib.parse.unquote(v) for k, v in parameters.items()} if parameters else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/v1{path}",
            "accountId": ACCOUNT,
            "stage": "v1",
            "requestId": str(uuid.uuid4()),
            "apiId": "abc123",
            "protocol": "HTTP/1.1",
            "identity": {
                "accountId": ACCOUNT,
                "caller": "AIDAEXAMPLE",
                "user": "AIDAEXAMPLE",
                "userArn": user_arn,
                "accessKey": "AKIAEXAMPLE",
                "sourceIp": "192.0.2.10",
                "userAgent": "aws-sdk",
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
            },
        },
        "body": text,
        "isBase64Encoded": False,
    }
