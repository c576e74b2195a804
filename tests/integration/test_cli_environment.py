"""The CLI in the shell a user has: the variables `local up` tells them to export, and AWS
resources that are not where the command looks. Every command answers; none ends in a traceback."""

from __future__ import annotations

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
