"""The CLI's one rule for errors and its exits, in-process: whatever happens, one line on stderr
(or, under --json, one JSON answer on stdout) and an exit status; never a traceback."""

from __future__ import annotations

import errno
import json

import pytest
from botocore.exceptions import ClientError, ParamValidationError
from ses_feedback_cli.commands import stats_cmd
from ses_feedback_cli.main import main


def test_version_names_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("ses-feedback 0.")


def test_under_json_a_command_line_refusal_is_a_json_answer_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["suppressions", "list", "--limit", "0", "--json"])
    out, err = capsys.readouterr()
    assert exited.value.code == 2 and err == ""
    answer = json.loads(out)["error"]
    assert answer["code"] == "invalid_request"
    assert "argument --limit: must be a whole number from 1 to 1000" in answer["message"]


def _stats_fails_with(monkeypatch: pytest.MonkeyPatch, exc: Exception) -> None:
    def fail(_: object) -> int:
        raise exc

    monkeypatch.setattr(stats_cmd, "cmd_stats", fail)


AWS_REFUSAL = ClientError(
    {
        "Error": {
            "Code": "InvalidParameterValue",
            "Message": "The parameter StartTime must be less than EndTime.",
        }
    },
    "GetMetricStatistics",
)


def test_any_aws_error_is_one_line_with_its_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stats_fails_with(monkeypatch, AWS_REFUSAL)
    assert main(["stats"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "error: GetMetricStatistics (InvalidParameterValue): "
        "The parameter StartTime must be less than EndTime\n"
    )


def test_under_json_an_aws_error_is_the_answer_with_its_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stats_fails_with(monkeypatch, AWS_REFUSAL)
    assert main(["stats", "--json"]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert json.loads(out)["error"]["code"] == "InvalidParameterValue"


def test_a_botocore_failure_over_several_lines_is_said_on_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stats_fails_with(monkeypatch, ParamValidationError(report="Invalid type for parameter X\nand more"))
    assert main(["stats"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Invalid type for parameter X and more" in err


def test_a_bug_is_one_line_that_says_how_to_see_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SES_FEEDBACK_TRACEBACK", raising=False)
    _stats_fails_with(monkeypatch, KeyError("latest"))
    assert main(["stats"]) == 70
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert (
        err.startswith("error: internal error (KeyError: 'latest'): ") and "SES_FEEDBACK_TRACEBACK=1" in err
    )


def test_local_up_with_one_port_for_both_servers_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "up", "--port", "3999", "--api-port", "3999"]) == 2
    assert capsys.readouterr().err == (
        "error: --port and --api-port are both 3999: the AWS endpoint and the REST API need a port each\n"
    )


def test_local_up_on_an_address_that_is_not_this_machines_is_not_called_in_use(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 10.255.255.1: an address, so nothing is looked up, but not one of this machine's
    assert main(["local", "up", "--host", "10.255.255.1", "--port", "3998", "--api-port", "3997"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --host 10.255.255.1: 10.255.255.1 is not an address to listen on here (")
    assert "in use" not in err


def test_a_file_that_cannot_be_read_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stats_fails_with(monkeypatch, PermissionError(errno.EACCES, "Permission denied", "locked.csv"))
    assert main(["stats"]) == 1
    assert capsys.readouterr().err == "error: locked.csv: Permission denied\n"


def test_an_environment_the_settings_refuse_is_named_not_reported_as_a_bug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: a shell whose HOME_REGION is not a region name (as a deployed stack's would be set)
    monkeypatch.delenv("SES_FEEDBACK_TRACEBACK", raising=False)
    monkeypatch.setenv("SUPPRESSION_TABLE", "some-table")
    monkeypatch.setenv("HOME_REGION", "eu west")
    # When: a command that reads the functions' settings
    status = main(["suppressions", "get", "jane@example.org"])
    # Then: a refusal of bad input, naming the variable once, on one line
    out, err = capsys.readouterr()
    assert status == 2
    assert out == "" and err.count("\n") == 1
    assert err == "error: environment variable HOME_REGION: 'eu west' is not a region name (e.g. us-east-1)\n"
    assert err.count("HOME_REGION") == 1
