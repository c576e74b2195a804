"""`ses-feedback local invoke`: every function with every file in events/, against the local stack.

A function's events are in ``events/<its CodeUri folder>/``; each runs through the command as
``sam local invoke`` would run it, against a freshly bootstrapped stack on the moto server.
Where an event's answer depends on the stack's state, the test sets that state first. The
files run through the command in this process (``main``), to keep 26 cold starts of the CLI
out of the suite; the error and env-vars cases run it as a user does, as a process.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from ses_feedback.model.dmarc import INCOMING_PREFIX
from ses_feedback_cli.main import main
from ses_feedback_emulator.bootstrap import sam_env_vars
from ses_feedback_stack.names import LocalStack
from ses_feedback_stack.template import REPO_ROOT, functions

from tests.e2e.conftest import Cli

EVENTS = REPO_ROOT / "events"


def event_files() -> list[tuple[str, Path]]:
    template = LocalStack().template
    cases = []
    for logical_id, function in sorted(functions(template).items()):
        folder = EVENTS / Path(function["Properties"]["CodeUri"]).name
        cases.extend((logical_id, path) for path in sorted(folder.glob("*.json")))
    return cases


CASES = event_files()

# What each file's invocation answers on a fresh stack (after the given steps below): for the
# API events the status code, else the result's telling field.
EXPECTED: dict[str, Any] = {
    "api_get_openapi": 200,
    "api_post_messages": 200,
    "api_post_messages_header_injection": 400,
    "invoke_reject_if_suppressed": "rejected",
    "invoke_send": "sent",
    "delete_lift": 200,
    "get_address": 200,
    "list_events": 200,
    "list_hard_bounces": 200,
    "list_stream": 200,
    "put_manual": 200,
    # The unsubscribe files carry a token no stack signed (sam local invoke has no stack key):
    # the refusal page, and nothing changes.
    "get_page": 400,
    "post_one_click": 400,
    "post_preference_form": 400,
    # A batch accepted; one no app queued here is not found (an app sees only its own).
    "api_post_batches": 202,
    "api_get_batch": 404,
    # No message was sent on a fresh stack: its timeline is not found by id.
    "get_message": 404,
    "find_by_idempotency_key": 200,  # a search: no message has the key, the list is empty
    "add_webhook": 201,
    "list_webhooks": 200,
}
# What SES stored for the DMARC event's message id: a real report mail (Google's, in fixtures).
DMARC_MAIL = REPO_ROOT / "tests" / "fixtures" / "dmarc" / "aggregate" / "twilight.eml"


def test_every_function_has_events_and_every_event_file_belongs_to_a_function() -> None:
    assert {logical_id for logical_id, _ in CASES} == set(functions(LocalStack().template))
    assert {path for _, path in CASES} == set(EVENTS.glob("*/*.json"))


@pytest.fixture
def stack(cli: Cli) -> Iterator[Cli]:
    cli.json("local", "bootstrap")
    # An in-process invoke sets the function's environment, as a container would: not for later tests.
    saved = dict(os.environ)
    try:
        yield cli
    finally:
        os.environ.clear()
        os.environ.update(saved)


def invoke(cli: Cli, function: str, event: Path, *extra: str) -> tuple[Any, str, int]:
    """The command as a process."""
    result = cli.run("local", "invoke", function, "--event", str(event), *extra, check=False)
    return json.loads(result.stdout), result.stderr, result.returncode


def invoke_here(capsys: pytest.CaptureFixture[str], function: str, event: Path) -> tuple[Any, str, int]:
    """The command in this process."""
    status = main(["local", "invoke", function, "--event", str(event)])
    out, err = capsys.readouterr()
    return json.loads(out), err, status


@pytest.mark.parametrize(("function", "path"), CASES, ids=[f"{f}-{p.stem}" for f, p in CASES])
def test_local_invoke_runs_each_event_file(
    stack: Cli, capsys: pytest.CaptureFixture[str], function: str, path: Path
) -> None:
    # Given: what the event needs to find
    if path.stem == "invoke_reject_if_suppressed":
        stack.run("suppressions", "add", "bounce@simulator.amazonses.com", "--note", "bounced before")
    if path.stem == "delete_lift":
        stack.run("suppressions", "add", "jane@example.com", "--note", "to be lifted")
    if function == "SuppressionSyncFunction":
        boto3.client("sesv2").put_suppressed_destination(EmailAddress="gone@example.org", Reason="BOUNCE")
    if function == "DmarcReportFunction":
        message_id = json.loads(path.read_text())["Records"][0]["ses"]["mail"]["messageId"]
        bucket = LocalStack().resolver().refs["DmarcReportBucket"]
        boto3.client("s3").put_object(
            Bucket=bucket, Key=INCOMING_PREFIX + message_id, Body=DMARC_MAIL.read_bytes()
        )
    # When
    result, stderr, status = invoke_here(capsys, function, path)
    # Then: the result, and Lambda's report lines around the function's logs
    assert status == 0, stderr[-2000:]
    assert "START RequestId: " in stderr and "REPORT RequestId: " in stderr and "Max Memory Used" in stderr
    if function == "FeedbackFunction":
        direct_sns = "Sns" in json.loads(path.read_text())["Records"][0]
        assert result == ({"applied": 1} if direct_sns else {"batchItemFailures": []})
    elif function == "SuppressionSyncFunction":
        state = stack.json("suppressions", "get", "gone@example.org", "--json")
        assert state["reason"] == "hard_bounce"
        assert (result["rows"], result["imported"]) == (1, 1), result
    elif function == "BulkSenderFunction":
        # A chunk of a batch this stack never accepted: never dropped, the record fails (SQS
        # brings it back, and after BatchMaxReceiveCount receives it is in the batch DLQ).
        message_id = json.loads(path.read_text())["Records"][0]["messageId"]
        assert result == {"batchItemFailures": [{"itemIdentifier": message_id}]}, result
    elif function == "DmarcReportFunction":
        (outcome,) = result["messages"]
        assert (outcome["stored"], outcome["rejected_to"]) == (1, None), outcome
    elif "statusCode" in result:
        assert result["statusCode"] == EXPECTED[path.stem], result
    else:
        assert result["status"] == EXPECTED[path.stem], result


def test_a_function_error_prints_lambdas_error_document_and_fails(stack: Cli, tmp_path: Path) -> None:
    # Given: an SQS event whose record is not an SQS record at all
    event = tmp_path / "broken.json"
    event.write_text(json.dumps({"Records": "not a list"}))
    # When
    result, stderr, status = invoke(stack, "FeedbackFunction", event)
    # Then
    assert status == 1
    assert set(result) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert f"END RequestId: {result['requestId']}" in stderr


def test_env_vars_override_only_what_the_template_declares(stack: Cli, tmp_path: Path) -> None:
    # Given: the sam env-vars file for this stack, with the suppression table renamed, and a
    # variable the template does not give the function
    env_vars = sam_env_vars(LocalStack(), "http://unused")
    env_vars["SuppressionsApiFunction"]["SUPPRESSION_TABLE"] = "no-such-table"
    env_vars["Parameters"] = {"NOT_IN_TEMPLATE": "x"}
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps(env_vars))
    # When
    result, stderr, status = invoke(
        stack,
        "SuppressionsApiFunction",
        EVENTS / "suppressions_api" / "get_address.json",
        "--env-vars",
        str(env_file),
    )
    # Then: the renamed table is used (and missing), the extra names are said and ignored
    assert status == 1, result
    assert result["errorType"] == "ResourceNotFoundException"
    assert "ignored from" in stderr and "AWS_ENDPOINT_URL" in stderr and "NOT_IN_TEMPLATE" in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("NoSuchFunction", "--event", "events/sender/invoke_send.json"), "NoSuchFunction is not a function"),
        (("SenderFunction", "--event", "missing.json"), "cannot read event file missing.json"),
        (("SenderFunction", "--event", "README.md"), "event file README.md is not JSON"),
    ],
)
def test_bad_input_is_refused_plainly_and_nothing_runs(
    stack: Cli, args: tuple[str, ...], message: str
) -> None:
    result = stack.run("local", "invoke", *args, check=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_a_read_through_the_api_prints_its_answer_and_no_warning(stack: Cli) -> None:
    # Given: docs/local-mode.md's example of the suppressions API, a read that adds no metric
    # When: the command as a process (its own warnings filters, not this test run's)
    result, stderr, status = invoke(
        stack, "SuppressionsApiFunction", EVENTS / "suppressions_api" / "get_address.json"
    )
    # Then: Lambda's report lines and the answer, without Powertools' "No application metrics" warning
    assert (status, result["statusCode"]) == (0, 200)
    assert "REPORT RequestId: " in stderr
    assert "Warning" not in stderr, stderr
