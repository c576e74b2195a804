"""The CLI where AWS is not there for it: no server at AWS_ENDPOINT_URL, no credentials.
One line on stderr saying what to check, exit status 1, nothing on stdout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from ses_feedback_cli.aws_failures import explain
from ses_feedback_cli.main import main


def test_no_local_stack_running_says_to_start_local_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], closed_port: int
) -> None:
    # Given: a shell pointed at local mode, and nothing listening there
    endpoint = f"http://127.0.0.1:{closed_port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    # When
    status = main(["suppressions", "get", "jane@example.com"])
    # Then
    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    assert err == (
        f"error: no AWS answers at {endpoint} (AWS_ENDPOINT_URL): is `ses-feedback local up` running there?\n"
    )


def test_no_credentials_says_which_variables_to_set(tmp_path: Path, closed_port: int) -> None:
    # Given: a new shell with no credentials anywhere boto3 looks (and no instance metadata)
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
    }
    env |= {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port}",
    }
    # When: the command as a process (this one's boto3 session already holds credentials)
    result = subprocess.run(
        [sys.executable, "-m", "ses_feedback_cli.main", "suppressions", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Then
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("error: no AWS credentials: ") and "AWS_ACCESS_KEY_ID" in result.stderr


def test_a_queue_that_is_not_there_points_at_the_queue_options(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: a deployed stack (no AWS_ENDPOINT_URL) and the local stack's queue names by default
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    missing = ClientError(
        {
            "Error": {
                "Code": "AWS.SimpleQueueService.NonExistentQueue",
                "Message": "The specified queue does not exist.",
            }
        },
        "GetQueueAttributes",
    )
    # When / Then
    assert explain(missing) == (
        "GetQueueAttributes (AWS.SimpleQueueService.NonExistentQueue): The specified queue does not exist: "
        "check --queue-url and --dlq-url "
        "(the stack's FeedbackQueueUrl and FeedbackDeadLetterQueueUrl outputs; --prefix for a local stack) "
        "and AWS_REGION"
    )
