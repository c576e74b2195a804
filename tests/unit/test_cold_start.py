"""Cold start: every handler imports in a bare container (no credentials, no network) and loads
only what a request needs; X-Ray tracing still works when the template turns it on.

Each case runs in a fresh interpreter: what a module import loads is global state, and the
X-Ray SDK patches botocore for the whole process once a traced request builds the tracer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ses_feedback_stack.names import LocalStack
from ses_feedback_stack.template import REPO_ROOT, function_source, functions

from tests.support.no_network import PRELUDE

TEMPLATE_FUNCTIONS = sorted(functions(LocalStack().template))
LAYER = REPO_ROOT / "layers" / "common"


def run_python(code: str, environment: dict[str, str], *paths: Path) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter with only ``environment``; it prints one JSON object."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
        **environment,
    }
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("logical_id", TEMPLATE_FUNCTIONS)
def test_every_handler_imports_without_credentials_network_or_endpoint(logical_id: str) -> None:
    # Given: a Lambda container of the function, as the template sets it up, and no AWS_* at all
    stack = LocalStack(prefix="coldstart")
    environment = {
        name: value
        for name, value in stack.function_environment(logical_id).items()
        if not name.startswith("AWS_")
    }
    environment |= {"LAMBDA_TASK_ROOT": "/var/task", "_HANDLER": "app.lambda_handler"}
    code_dir, module, function = function_source(stack.template, logical_id)
    # When: the runtime imports the handler module
    loaded = run_python(
        f"""
        import json, sys
        import {module}
        print(json.dumps({{
            "handler": callable(getattr({module}, {function!r}, None)),
            "aws_env": sorted(name for name in __import__("os").environ if name.startswith("AWS_")),
            "xray": "aws_xray_sdk" in sys.modules,
            "idempotency": "aws_lambda_powertools.utilities.idempotency" in sys.modules,
        }}))
        """,
        environment,
        code_dir,
        LAYER,
    )
    # Then: it imported, with nothing to reach, and left what no request may need for later
    assert loaded == {"handler": True, "aws_env": [], "xray": False, "idempotency": False}


TRACED_REQUEST = """
import json, os, sys
import boto3
from botocore.stub import Stubber
from ses_feedback.observability import tracer

# A DynamoDB call that never leaves the process: X-Ray's botocore patch still wraps it.
client = boto3.client("dynamodb", region_name="us-east-1")
stubber = Stubber(client)
stubber.add_response("get_item", {})
stubber.activate()

@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event, context):
    client.get_item(TableName="suppressions", Key={"pk": {"S": "ADDR#x"}})
    return {"ok": True}

imported_at_decoration = "aws_xray_sdk" in sys.modules
sent = []
built = tracer.tracer()
if built is not None:
    from aws_xray_sdk.core import xray_recorder

    class CapturingEmitter:  # instead of UDP to the daemon
        def send_entity(self, entity):
            sent.append(json.loads(entity.serialize()))

        def set_daemon_address(self, address):
            pass

    xray_recorder.configure(emitter=CapturingEmitter())
answer = lambda_handler({}, None)
print(json.dumps({
    "answer": answer,
    "imported_at_decoration": imported_at_decoration,
    "xray": "aws_xray_sdk" in sys.modules,
    "sent": [
        {"name": e["name"], "parent": e.get("parent_id"), "id": e["id"],
         "annotations": e.get("annotations", {}), "operation": e.get("aws", {}).get("operation")}
        for e in sent
    ],
}))
"""

LAMBDA_WITH_ACTIVE_TRACING = {
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "SenderFunction",
    "POWERTOOLS_SERVICE_NAME": "ses-feedback",
    # Lambda's trace header for this request when the template's Tracing is Active.
    "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


def test_with_tracing_on_a_request_is_traced_with_its_aws_calls() -> None:
    # Given: Lambda with Tracing: Active (a sampled trace header), tracing not disabled
    # When: a traced handler makes a DynamoDB call
    result = run_python(TRACED_REQUEST, LAMBDA_WITH_ACTIVE_TRACING, LAYER)
    # Then: the SDK loaded on the request, not before; the handler's subsegment carries the
    # cold start and service annotations, and the DynamoDB call is a subsegment inside it
    assert result["answer"] == {"ok": True}
    assert result["imported_at_decoration"] is False
    assert result["xray"] is True
    sent = {e["name"]: e for e in result["sent"]}  # type: ignore[union-attr]
    assert set(sent) == {"## lambda_handler", "dynamodb"}
    handler, call = sent["## lambda_handler"], sent["dynamodb"]
    assert handler["annotations"] == {"ColdStart": True, "Service": "ses-feedback"}
    assert handler["parent"] == "53995c3f42cd8ad8"  # Lambda's own segment, from the trace header
    assert call["parent"] == handler["id"]
    assert call["operation"] == "GetItem"


def test_with_tracing_disabled_the_xray_sdk_is_never_imported() -> None:
    # Given: the same container with POWERTOOLS_TRACE_DISABLED (local mode, tests, benchmarks)
    environment = {**LAMBDA_WITH_ACTIVE_TRACING, "POWERTOOLS_TRACE_DISABLED": "true"}
    # When
    result = run_python(TRACED_REQUEST, environment, LAYER)
    # Then: the handler answered and X-Ray was not loaded at all
    assert result == {"answer": {"ok": True}, "imported_at_decoration": False, "xray": False, "sent": []}


def test_outside_lambda_tracing_is_off_as_powertools_decides() -> None:
    environment = {k: v for k, v in LAMBDA_WITH_ACTIVE_TRACING.items() if k != "LAMBDA_TASK_ROOT"}
    result = run_python(TRACED_REQUEST, environment, LAYER)
    assert result["xray"] is False and result["sent"] == []
