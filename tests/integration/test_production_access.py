"""`ses-feedback production-access`: readiness from doctor, the description from the stack's
settings, and the request itself (SES v2 PutAccountDetails, which moto lacks: a Stubber)."""

from __future__ import annotations

import argparse
import json

import boto3
import pytest
from botocore.stub import Stubber
from ses_feedback.edges.ses_setup import SesSetup
from ses_feedback.settings import Settings
from ses_feedback_cli.commands.production_access_cmd import stack_of
from ses_feedback_cli.main import main
from ses_feedback_doctor.model import Check, Status
from ses_feedback_doctor.production_access import StackFacts, readiness, use_case_description


def facts(**environment: str) -> StackFacts:
    return StackFacts(
        domain="example.org",
        mail_from_domain="bounce.example.org",
        settings=Settings.from_env({"SUPPRESSION_TABLE": "table", **environment}),
        configuration_set="feedback-set",
        dmarc_policy="quarantine",
        bounce_warning=0.02,
        complaint_warning=0.0005,
        receives_dmarc_reports=True,
    )


def test_the_description_states_the_policy_numbers_in_force() -> None:
    text = use_case_description(
        facts(SOFT_BOUNCE_THRESHOLD="4", SOFT_BOUNCE_WINDOW_DAYS="10", SOFT_BOUNCE_SUPPRESSION_DAYS="3"),
        "MARKETING",
        "https://shop.example.org",
    )

    assert text.startswith("We send marketing email from example.org (https://shop.example.org)")
    assert "the configuration set feedback-set" in text
    assert "4 transient bounces within 10 days suppress it for 3 days" in text
    assert "alarms warn us at a 2.0% bounce rate and a 0.05% complaint rate" in text
    assert "sending guard" not in text
    assert "custom MAIL FROM domain bounce.example.org, Easy DKIM signs with d=example.org" in text
    assert "DMARC p=quarantine is published, and we read the DMARC aggregate reports" in text


def test_the_sending_guard_is_mentioned_only_when_it_is_on() -> None:
    text = use_case_description(facts(SENDING_GUARD="true"), "TRANSACTIONAL", "https://example.org")

    assert "a sending guard holds back all mail not marked transactional" in text


def test_readiness_needs_every_check_to_pass() -> None:
    checks = [
        Check("ses.identity", Status.PASS, "verified"),
        Check("ses.dkim", Status.PASS, "signs"),
        Check("ses.mail_from", Status.FAIL, "no MAIL FROM", "set it"),
        Check("dns.dmarc", Status.UNKNOWN, "could not check"),
    ]
    items = readiness(checks, Check("stack.suppression", Status.PASS, "table ACTIVE"))

    assert [(item.check_id, item.ready) for item in items] == [
        ("ses.identity", True),
        ("ses.dkim", True),
        ("ses.mail_from", False),
        ("dns.dmarc", False),
        ("ses.event_destination", False),
        ("stack.suppression", True),
    ]
    assert items[4].detail == "not checked"


def test_submit_sends_put_account_details() -> None:
    # moto has no PutAccountDetails: a Stubber on a real SES v2 client checks the request.
    client = boto3.client("sesv2", region_name="eu-west-1")
    stubber = Stubber(client)
    stubber.add_response(
        "put_account_details",
        {},
        {
            "MailType": "TRANSACTIONAL",
            "WebsiteURL": "https://example.org",
            "ContactLanguage": "EN",
            "UseCaseDescription": "the description",
            "ProductionAccessEnabled": True,
            "AdditionalContactEmailAddresses": ["ops@example.org"],
        },
    )
    with stubber:
        SesSetup("eu-west-1", client).request_production_access(
            "TRANSACTIONAL", "https://example.org", "the description", ["ops@example.org"]
        )
        stubber.assert_no_pending_responses()


def test_a_deployed_stack_is_read_from_cloudformation_its_parameters_and_outputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a deployed stack (moto's CloudFormation keeps what DescribeStacks answers)
    outputs = {
        "SuppressionTableName": "prod-suppressions",
        "ConfigurationSetName": "prod-feedback",
        "FeedbackTopicArn": "arn:aws:sns:eu-west-1:123456789012:prod-feedback",
    }
    template = {
        "Parameters": {name: {"Type": "String"} for name in ("SendingDomain", "SoftBounceThreshold")},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name="eu-west-1").create_stack(
        StackName="prod",
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "SendingDomain", "ParameterValue": "mail.example.org"},
            {"ParameterKey": "SoftBounceThreshold", "ParameterValue": "5"},
        ],
    )
    # When production-access reads it by name, in its region (--region sets the environment's)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    found = stack_of(argparse.Namespace(stack_name="prod", prefix=None))
    assert found is not None
    stack, refs = found
    # Then the stack's outputs name the resources, and its parameters are the settings
    assert refs == {
        "SuppressionTable": "prod-suppressions",
        "ConfigurationSet": "prod-feedback",
        "FeedbackTopic": "arn:aws:sns:eu-west-1:123456789012:prod-feedback",
    }
    assert stack.resolver().parameter("SendingDomain") == "mail.example.org"
    settings = Settings.from_env(
        {**stack.function_environment("FeedbackFunction"), "SUPPRESSION_TABLE": refs["SuppressionTable"]}
    )
    assert settings.policy.soft_bounce_threshold == 5


def test_a_stack_name_that_is_not_deployed_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    # Given no stack named "ses-feedback-prdo" in eu-west-1 (a typo)
    # When
    status = main(["production-access", "--stack-name", "ses-feedback-prdo", "--region", "eu-west-1"])
    # Then: one line naming the option and the region, no traceback
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.startswith("error: --stack-name ses-feedback-prdo: no such stack in eu-west-1"), err
    assert err.count("\n") == 1


@pytest.mark.parametrize("address", ["ops@example..com", "ops example.com", "ops@"])
def test_a_contact_email_that_is_not_an_address_is_refused_before_anything_is_asked(
    capsys: pytest.CaptureFixture[str], address: str
) -> None:
    # When
    status = main(["production-access", "--contact-email", "ok@example.com", "--contact-email", address])
    # Then: refused up front (SES would refuse it only at --submit), naming the option
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.startswith("error: --contact-email: "), err
    assert address not in err
