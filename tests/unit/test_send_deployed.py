"""`send --function-name`: the deployed SenderFunction called with lambda:Invoke (edges/lambda_invoke.py).

moto runs a Lambda function only in Docker, so Lambda's answers come from botocore's Stubber on
a real client, which also checks the request: the payload, and the ClientContext naming the app.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from ses_feedback import wiring
from ses_feedback.edges.lambda_invoke import LambdaInvoker
from ses_feedback_cli.main import main

ARGS = ["--from", "noreply@example.com", "--to", "jane@example.org", "--subject", "Hi", "--text", "x"]
PAYLOAD = {"from": "noreply@example.com", "to": ["jane@example.org"], "subject": "Hi", "text": "x"}


def _body(value: Any) -> StreamingBody:
    raw = json.dumps(value).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


@pytest.fixture
def lambda_client(monkeypatch: pytest.MonkeyPatch) -> Any:
    client = boto3.client("lambda", region_name="eu-west-1")
    monkeypatch.setattr(wiring, "lambda_invoker_for", lambda region=None: LambdaInvoker(client=client))
    return client


def _expected_request() -> dict[str, Any]:
    context = base64.b64encode(json.dumps({"custom": {"app": "ses-feedback-cli"}}).encode()).decode()
    return {"FunctionName": "prod-Sender", "Payload": json.dumps(PAYLOAD).encode(), "ClientContext": context}


def test_the_answer_of_the_deployed_function_is_printed_and_sets_the_exit_status(
    lambda_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = {"status": "rejected", "suppressed": [], "sent_to": [], "message_id": None, "messages": []}
    with Stubber(lambda_client) as stub:
        stub.add_response("invoke", {"StatusCode": 200, "Payload": _body(answer)}, _expected_request())
        # When
        status = main(["send", "--function-name", "prod-Sender", "--json", *ARGS])
        stub.assert_no_pending_responses()
    # Then: the answer as the function gave it, and rejected's exit status from the error table
    assert json.loads(capsys.readouterr().out) == answer
    assert status == 1


def test_a_function_error_is_an_error_answer(lambda_client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with Stubber(lambda_client) as stub:
        stub.add_response(
            "invoke",
            {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _body({"errorMessage": "boom"})},
            _expected_request(),
        )
        status = main(["send", "--function-name", "prod-Sender", "--json", *ARGS])
    assert json.loads(capsys.readouterr().out)["error"] == {
        "code": "function_error",
        "message": "boom",
        "field": None,
        "problems": [],
    }
    assert status == 1
