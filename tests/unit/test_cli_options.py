"""Numbers and addresses on the command line: out of range, not numbers or not addresses, each is
refused by argparse (exit 2) with the option and the rule it breaks, before anything starts."""

from __future__ import annotations

import pytest
from ses_feedback_cli.main import main


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["local", "up", "--port", "99999"], "argument --port: must be a whole number from 1 to 65535"),
        (["local", "up", "--api-port", "0"], "argument --api-port: must be a whole number from 1 to 65535"),
        (
            ["local", "up", "--concurrency", "0"],
            "argument --concurrency: must be a whole number from 1 to 64",
        ),
        (
            ["local", "up", "--interval", "-1"],
            "argument --interval: must be a number of seconds above 0, at most 3600",
        ),
        (["local", "up", "--interval", "inf"], "at most 3600"),
        (
            ["local", "drain", "--batch-size", "11"],
            "argument --batch-size: must be a whole number from 1 to 10",
        ),
        (["redrive", "--max", "-1"], "argument --max: must be a whole number from 1 to 1000000"),
        (["redrive", "--max", "0"], "argument --max: must be a whole number from 1 to 1000000"),
        (
            ["doctor", "example.com", "--timeout", "-1"],
            "argument --timeout: must be a number of seconds above 0, at most 60",
        ),
        (
            ["production-access", "--timeout", "nan"],
            "argument --timeout: must be a number of seconds above 0, at most 60",
        ),
        (
            ["stats", "--bounce-warning", "2"],
            "argument --bounce-warning: must be a rate from 0 to 1 (0.025 is 2.5%)",
        ),
        (["stats", "--complaint-warning", "-0.1"], "must be a rate from 0 to 1 (0.025 is 2.5%)"),
        (["stats", "--since", "2099-01-01"], "argument --since: '2099-01-01' is in the future"),
        (["stats", "--since", "9999999999d"], "argument --since: '9999999999d' reaches before the year 1"),
        (["dmarc", "summary", "example.com", "--since", "2099-01-01"], "'2099-01-01' is in the future"),
        (
            ["--prefix", "../x", "suppressions", "list"],
            "argument --prefix: must be a letter, then letters, digits or '-', at most 24 characters in all",
        ),
        (["local", "env-vars", "--port", "http"], "argument --port: must be a whole number from 1 to 65535"),
        (
            ["suppressions", "list", "--limit", "abc"],
            "argument --limit: must be a whole number from 1 to 1000",
        ),
        (["suppressions", "list", "--limit", "0"], "argument --limit: must be a whole number from 1 to 1000"),
        (
            ["--region", "Europe", "stats"],
            "argument --region: must be an AWS region's name, such as us-east-1 or eu-west-1",
        ),
        (
            ["stats", "--region", "us_east_1"],
            "argument --region: must be an AWS region's name, such as us-east-1 or eu-west-1",
        ),
        (["local", "up", "--regions", "us-east-1,us-east-1"], "argument --regions: names a region twice"),
        (
            ["local", "up", "--regions", "us-east-1,"],
            "argument --regions: must be an AWS region's name, such as us-east-1 or eu-west-1",
        ),
        (
            ["local", "up", "--replication-lag", "-1"],
            "argument --replication-lag: must be a number of seconds from 0, at most 3600",
        ),
    ],
)
def test_a_number_option_out_of_range_is_refused_with_its_range(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip().endswith(said)


def test_an_address_option_that_is_no_address_is_refused_with_the_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `local mailbox --to` answered "no messages to not an address", as if it had looked
    with pytest.raises(SystemExit) as exited:
        main(["local", "mailbox", "--to", "not an address"])
    assert exited.value.code == 2
    assert "argument --to: not an email address: " in capsys.readouterr().err
