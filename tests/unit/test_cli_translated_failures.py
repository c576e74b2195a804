"""AWS failures an edge translated (``AwsCallFailed``) read as any other in the CLI: one line
from what AWS said (the failure's cause), exit status 1, no traceback."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from ses_feedback.edges.failures import translated
from ses_feedback.errors import AwsCallFailed
from ses_feedback_cli.aws_failures import explain
from ses_feedback_cli.main import main


def test_a_translated_refusal_is_explained_from_its_cause() -> None:
    # Given: AWS refused the credentials, and the edge translated it
    refused = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeStacks")
    with pytest.raises(AwsCallFailed) as caught, translated():
        raise refused
    # Then: the domain error keeps AWS's code, and the CLI explains it as it explains the original
    assert (caught.value.aws_code, caught.value.operation, caught.value.reason) == (
        "AccessDenied",
        "DescribeStacks",
        "no",
    )
    assert (
        explain(caught.value)
        == explain(refused)
        == "DescribeStacks (AccessDenied): no: check the AWS credentials in use and their permissions"
    )


def test_a_deployed_stack_read_with_no_aws_there_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], closed_port: int
) -> None:
    # Given: nothing answers at the endpoint (edges/stacks.py translates the failure)
    endpoint = f"http://127.0.0.1:{closed_port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    # When
    status = main(["production-access", "--stack-name", "prod"])
    # Then
    out, err = capsys.readouterr()
    assert (status, out) == (1, "")
    assert err == (
        f"error: no AWS answers at {endpoint} (AWS_ENDPOINT_URL): is `ses-feedback local up` running there?\n"
    )
