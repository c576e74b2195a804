"""The CLI in the shell a user has: the variables `local up` tells them to export, and AWS
resources that are not where the command looks. Every command answers; none ends in a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ses_feedback_cli.main import main

from tests.integration.conftest import Stack


def test_every_command_takes_the_region_from_aws_region_alone(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: the shell `local up` prints (AWS_REGION, which boto3 does not read by itself)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    # When: a command whose clients are built without a region of their own
    status = main(["--prefix", "it", "dmarc", "summary", "example.com", "--json"])
    # Then
    out, err = capsys.readouterr()
    assert status == 0, err
    assert '"domain": "example.com"' in out


@pytest.mark.parametrize(
    "command",
    [
        ["suppressions", "list"],
        ["suppressions", "get", "jane@example.com"],
        ["stats"],
        ["redrive", "--dry-run"],
        ["dmarc", "summary", "example.com"],
    ],
    ids=" ".join,
)
def test_a_stack_that_is_not_there_is_one_line_naming_the_prefix_not_a_traceback(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    # Given: the local stack bootstrapped as "it", and a typo in --prefix
    monkeypatch.delenv("SUPPRESSION_TABLE")
    # When
    status = main(["--prefix", "tpyo", *command])
    # Then: which call found nothing, and what to check
    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    assert err.startswith("error: "), err
    assert "does not exist" in err.lower() or "not found" in err.lower(), err
    assert "--prefix" in err and "Traceback" not in err and err.count("\n") == 1, err


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["suppressions", "export", "--output"], "--output"),
        (["dmarc", "report", "example.com", "--html"], "--html"),
    ],
    ids=["export", "dmarc report"],
)
def test_an_output_file_that_cannot_be_written_is_one_line_naming_the_option(
    stack: Stack, capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str], option: str
) -> None:
    # Given: a folder that does not exist
    target = tmp_path / "no-such-folder" / "out"
    # When
    status = main(["--prefix", "it", *command, str(target)])
    # Then
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err == f"error: {option} {target}: No such file or directory\n"


def test_local_bootstrap_twice_on_one_server_changes_nothing_the_second_time(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: the stack bootstrapped once (the fixture), as `local up` does
    # When: `local bootstrap` again, as docs/local-mode.md's "pieces, one by one" invite
    status = main(["--prefix", "it", "local", "bootstrap"])
    # Then: the same resources, no error
    out, err = capsys.readouterr()
    assert status == 0, err
    assert json.loads(out) == stack.refs


def test_send_to_a_function_that_is_not_there_names_the_option(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # When: a typo in the deployed stack's SenderFunctionName
    message = ["--from", "noreply@example.com", "--to", "jane@example.org", "--subject", "Hi", "--text", "x"]
    status = main(["send", "--function-name", "ses-feedback-prod-SenderFuncton", *message])
    # Then
    out, err = capsys.readouterr()
    assert (status, out) == (1, "")
    assert err.startswith("error: Invoke (ResourceNotFoundException): ") and err.endswith(
        ": check --function-name (the stack's SenderFunctionName output) and AWS_REGION\n"
    ), err
