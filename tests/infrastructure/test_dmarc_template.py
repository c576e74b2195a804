"""DMARC report receiving in template.yaml: the receipt rule, the bucket, the function, the
rule set that never displaces another, and the records that send reports here."""

from __future__ import annotations

import sys
from typing import Any

import boto3
import pytest
from moto import mock_aws
from ses_feedback.model.dmarc import INCOMING_PREFIX
from ses_feedback_stack.template import Resolver, load_template

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
HOSTED_ZONE = "Z0123456789EXAMPLE"


def resolver(**parameters: str) -> Resolver:
    return Resolver(
        TEMPLATE,
        parameters={"SendingDomain": "example.org", **parameters},
        refs={"DmarcReportBucket": "report-bucket", "DmarcReceiptRuleSet": "stack-inbound"},
        attributes={
            ("DmarcReportFunction", "Arn"): "arn:aws:lambda:eu-west-1:123456789012:function:dmarc",
            ("DmarcReportBucket", "Arn"): "arn:aws:s3:::report-bucket",
        },
        region="eu-west-1",
        stack_name="stack",
    )


def test_the_rule_stores_the_message_then_invokes_the_function_for_the_report_address() -> None:
    rule = resolver(ReceiveDmarcReports="true").resolve(RESOURCES["DmarcReceiptRule"]["Properties"])

    assert rule["RuleSetName"] == "stack-inbound"
    assert rule["Rule"]["Recipients"] == ["reports@dmarc.example.org"]
    assert rule["Rule"]["ScanEnabled"] is True
    s3_action, lambda_action = rule["Rule"]["Actions"]
    # The function reads the object at this prefix + the message id.
    assert s3_action == {"S3Action": {"BucketName": "report-bucket", "ObjectKeyPrefix": INCOMING_PREFIX}}
    assert lambda_action["LambdaAction"]["InvocationType"] == "Event"


def test_a_named_rule_set_gets_the_rule_and_none_is_created_or_activated() -> None:
    resolve = resolver(ReceiveDmarcReports="true", DmarcReceiptRuleSetName="existing-set")

    assert resolve.resolve(RESOURCES["DmarcReceiptRule"]["Properties"])["RuleSetName"] == "existing-set"
    for logical_id in (
        "DmarcReceiptRuleSet",
        "DmarcReceiptRuleSetActivation",
        "ReceiptRuleSetActivatorFunction",
    ):
        assert not resolve.condition(RESOURCES[logical_id]["Condition"])


def test_nothing_receives_mail_unless_asked() -> None:
    resolve = resolver()
    for logical_id in ("DmarcReceiptRule", "DmarcReceiptRuleSet", "DmarcReportFunctionSesPermission"):
        assert not resolve.condition(RESOURCES[logical_id]["Condition"])


def test_the_bucket_is_encrypted_private_and_expires_mail() -> None:
    bucket = RESOURCES["DmarcReportBucket"]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == {
        "Ref": "DmarcMessageRetentionDays"
    }


def test_only_ses_of_this_account_may_write_and_only_under_incoming() -> None:
    statements = resolver().resolve(RESOURCES["DmarcReportBucketPolicy"]["Properties"]["PolicyDocument"])[
        "Statement"
    ]
    allow = next(s for s in statements if s["Effect"] == "Allow")
    assert allow["Principal"] == {"Service": "ses.amazonaws.com"}
    assert allow["Resource"] == "arn:aws:s3:::report-bucket/incoming/*"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


@pytest.mark.parametrize(
    ("parameters", "rua"),
    [
        ({"ReceiveDmarcReports": "true"}, "; rua=mailto:reports@dmarc.example.org"),
        (
            {"ReceiveDmarcReports": "true", "DmarcReportAddress": "dmarc@vendor.example"},
            "; rua=mailto:reports@dmarc.example.org,mailto:dmarc@vendor.example",
        ),
        ({"DmarcReportAddress": "dmarc@vendor.example"}, "; rua=mailto:dmarc@vendor.example"),
        ({}, ""),
    ],
)
def test_the_dmarc_record_names_the_report_address(parameters: dict[str, str], rua: str) -> None:
    with_zone = resolver(HostedZoneId=HOSTED_ZONE, **parameters)
    without_zone = resolver(**parameters)

    record = with_zone.resolve(RESOURCES["DmarcRecord"]["Properties"])["ResourceRecords"]
    output = without_zone.resolve(TEMPLATE["Outputs"]["DnsDmarcRecord"]["Value"])

    assert record == [f'"v=DMARC1; p=none{rua}"']
    assert output == f'_dmarc.example.org TXT "v=DMARC1; p=none{rua}"'


def test_the_reports_mx_is_published_with_a_zone_and_listed_without() -> None:
    with_zone = resolver(ReceiveDmarcReports="true", HostedZoneId=HOSTED_ZONE)
    without_zone = resolver(ReceiveDmarcReports="true")

    assert with_zone.condition(RESOURCES["DmarcReportsMxRecord"]["Condition"])
    assert with_zone.resolve(RESOURCES["DmarcReportsMxRecord"]["Properties"])["ResourceRecords"] == [
        "10 inbound-smtp.eu-west-1.amazonaws.com"
    ]
    assert not with_zone.condition(TEMPLATE["Outputs"]["DnsDmarcReportsMxRecord"]["Condition"])
    assert without_zone.resolve(TEMPLATE["Outputs"]["DnsDmarcReportsMxRecord"]["Value"]) == (
        "dmarc.example.org MX 10 inbound-smtp.eu-west-1.amazonaws.com"
    )


# ---- the custom resource that activates the rule set (its inline code, run here) ------------


class _Responses:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None]] = []
        self.SUCCESS, self.FAILED = "SUCCESS", "FAILED"

    def send(
        self, event: Any, context: Any, status: str, data: Any, physical_id: str, reason: str | None = None
    ) -> None:
        self.sent.append((status, reason))


def _run_activator(request_type: str, active: str | None) -> tuple[list[tuple[str, str | None]], str | None]:
    """Run the custom resource's inline code on moto's SES, where ``active`` (if any) is the
    active rule set; return what it told CloudFormation and which rule set is active after."""
    code = RESOURCES["ReceiptRuleSetActivatorFunction"]["Properties"]["Code"]["ZipFile"]
    responses = _Responses()
    with mock_aws():
        ses = boto3.client("ses")
        for name in sorted({"stack-inbound", active} - {None}):
            ses.create_receipt_rule_set(RuleSetName=name)
        if active is not None:
            ses.set_active_receipt_rule_set(RuleSetName=active)
        sys.modules["cfnresponse"] = responses  # type: ignore[assignment]
        try:
            namespace: dict[str, Any] = {}
            exec(code, namespace)
            namespace["handler"](
                {"RequestType": request_type, "ResourceProperties": {"RuleSetName": "stack-inbound"}}, None
            )
        finally:
            del sys.modules["cfnresponse"]
        after = ses.describe_active_receipt_rule_set().get("Metadata", {}).get("Name")
    return responses.sent, after


def test_the_rule_set_is_activated_when_no_other_is_active() -> None:
    assert _run_activator("Create", None) == ([("SUCCESS", None)], "stack-inbound")


def test_another_active_rule_set_is_never_displaced() -> None:
    sent, active = _run_activator("Create", "someone-elses-set")
    assert sent == [
        (
            "FAILED",
            "receipt rule set someone-elses-set is active in this region; deploy with "
            "DmarcReceiptRuleSetName=someone-elses-set to add the DMARC rule to it",
        )
    ]
    assert active == "someone-elses-set"


def test_deleting_deactivates_only_our_own_set() -> None:
    assert _run_activator("Delete", "stack-inbound") == ([("SUCCESS", None)], None)
    assert _run_activator("Delete", "someone-elses-set") == ([("SUCCESS", None)], "someone-elses-set")
