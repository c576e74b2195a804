"""`doctor --all-regions`: every check in each region of a deployment, one table, one verdict.

SES is regional, so each region verifies the domain, signs with its own DKIM tokens and has its
own MAIL FROM status: the doctor checks each. The moto server (the project's, whose local SES
answers GetAccount, MAIL FROM and event destinations, which moto alone lacks) plays SES and
CloudFormation in two regions; DNS is the loopback server. The deployment's regions are read
from the deployed stacks' parameters (HomeRegion, ReplicaRegions), as CloudFormation keeps them.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_stack.names import LocalStack

from tests.e2e.conftest import Cli
from tests.support import dns_zones as z
from tests.support.dns_server import DnsServer

HOME, REPLICA = "us-east-1", "eu-west-1"
PARAMETERS = ("HomeRegion", "ReplicaRegions", "SendingDomain")


def deploy(stack_name: str, region: str, **parameters: str) -> None:
    """A deployed stack as DescribeStacks reads it back: its parameters and its outputs."""
    outputs = {
        "FeedbackTopicArn": f"arn:aws:sns:{region}:123456789012:ses-feedback-local-FeedbackTopic",
        "ConfigurationSetName": "ses-feedback-local-ConfigurationSet",
    }
    template = {
        "Parameters": {name: {"Type": "String", "Default": ""} for name in PARAMETERS},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name=region).create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )


def doctor(cli: Cli, dns_server: DnsServer, *arguments: str) -> tuple[int, Any]:
    dns_server.zones.set(z.zones(z.correct_records(region=HOME)))
    result = cli.run(
        "doctor",
        z.DOMAIN,
        "--all-regions",
        "--nameserver",
        dns_server.address,
        *arguments,
        "--json",
        check=False,
    )
    return result.returncode, json.loads(result.stdout)


@pytest.fixture
def home_only(aws: str) -> None:
    """The local stack (its SES identity, configuration set, topic) in the home region alone."""
    bootstrap(LocalStack(region=HOME))


def test_every_region_of_the_stack_is_checked_and_the_one_not_set_up_fails_the_verdict(
    cli: Cli, dns_server: DnsServer, home_only: None
) -> None:
    # Given: a home stack listing eu-west-1, and eu-west-1's stack, but the domain is an SES
    # identity only in the home region, and its MAIL FROM MX names the home region
    deploy("mail", HOME, ReplicaRegions=REPLICA)
    deploy("mail", REPLICA, HomeRegion=HOME, ReplicaRegions=REPLICA)
    # When: asked from the replica region
    status, answer = doctor(cli, dns_server, "--stack-name", "mail", "--region", REPLICA)
    # Then: both regions were checked, the home first
    assert list(answer["regions"]) == [HOME, REPLICA]
    home = {c["id"]: c for c in answer["regions"][HOME]}
    replica = {c["id"]: c for c in answer["regions"][REPLICA]}
    # the identity is there at home, and not in eu-west-1 (with the command that creates it there)
    assert home["ses.identity"]["detail"] != replica["ses.identity"]["detail"]
    assert replica["ses.identity"]["status"] == "FAIL"
    assert f"is not an SES identity in {REPLICA}" in replica["ses.identity"]["detail"]
    assert f"--region {REPLICA}" in replica["ses.identity"]["fix"]
    # the MX record is right for the home region only
    assert home["dns.mail_from.mx"]["status"] == "PASS"
    assert replica["dns.mail_from.mx"]["status"] == "FAIL"
    assert f"feedback-smtp.{REPLICA}.amazonses.com" in replica["dns.mail_from.mx"]["fix"]
    # each region's sandbox (SES account) is read in that region
    assert home["ses.account"]["status"] == replica["ses.account"]["status"] == "PASS"
    # And: one verdict naming the region that is not ready; exit 1
    assert status == 1
    assert answer["ready"] is False
    assert answer["verdict"].startswith("not ready in")
    assert f"{REPLICA}:" in answer["verdict"]


def test_a_region_listed_without_its_stack_is_a_failed_check_of_that_region(
    cli: Cli, dns_server: DnsServer, home_only: None
) -> None:
    # Given: the home stack lists eu-west-1, where nothing was deployed
    deploy("mail", HOME, ReplicaRegions=REPLICA)
    # When
    _, answer = doctor(cli, dns_server, "--stack-name", "mail")
    # Then
    replica = {c["id"]: c for c in answer["regions"][REPLICA]}
    assert replica["stack.deployed"]["status"] == "FAIL"
    assert replica["stack.deployed"]["detail"] == f"no stack mail in {REPLICA}"
    assert "stack.deployed" not in {c["id"] for c in answer["regions"][HOME]}


def test_the_text_report_is_a_table_of_checks_by_region_and_one_verdict(
    cli: Cli, dns_server: DnsServer, home_only: None
) -> None:
    # Given / When: two regions by name (no stack to read them from)
    dns_server.zones.set(z.zones(z.correct_records(region=HOME)))
    result = cli.run(
        "doctor", z.DOMAIN, "--all-regions", "--regions", f"{HOME},{REPLICA}",
        "--nameserver", dns_server.address, check=False,
    )  # fmt: skip
    # Then
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["check", HOME, REPLICA]
    mx_row = next(line for line in lines if line.startswith("dns.mail_from.mx "))
    assert mx_row.split() == ["dns.mail_from.mx", "PASS", "FAIL"]
    assert f"{REPLICA}:" in lines
    assert lines[-1].startswith("verdict: not ready in")
    assert result.returncode == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "--all-regions: give --stack-name"),
        (["--regions", "us-east-1", "--topic-arn", "arn:aws:sns:us-east-1:1:t"], "--topic-arn: not with"),
        (["--stack-name", "nothere"], "--stack-name nothere: no such stack in us-east-1"),
    ],
)
def test_what_all_regions_cannot_work_with_is_refused_naming_the_option(
    cli: Cli, dns_server: DnsServer, arguments: list[str], message: str
) -> None:
    status, answer = doctor(cli, dns_server, *arguments)
    assert status == 2
    assert message in answer["error"]["message"]
