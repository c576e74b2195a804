"""Lambda ``Invoke``: a deployed function called the way an app team calls SenderFunction."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import boto3


@dataclass(frozen=True)
class Invoked:
    body: Any  # the function's answer, decoded from JSON (None when it returned nothing)
    function_error: bool  # Lambda's FunctionError: the function raised; ``body`` describes it


class LambdaInvoker:
    """Lambda in one region (``region`` None: the environment's); pass ``client`` to use another."""

    def __init__(self, region: str | None = None, client: Any = None) -> None:
        self.region = region
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client or boto3.client("lambda", region_name=self.region)

    def invoke(self, function_name: str, payload: Any, custom: dict[str, str]) -> Invoked:
        """Invoke synchronously with ``payload``; ``custom`` is ClientContext.custom (who is calling)."""
        client_context = base64.b64encode(json.dumps({"custom": custom}).encode()).decode()
        response = self.client.invoke(
            FunctionName=function_name, Payload=json.dumps(payload).encode(), ClientContext=client_context
        )
        body = json.loads(response["Payload"].read() or b"null")
        return Invoked(body=body, function_error=bool(response.get("FunctionError")))
