"""What CloudFormation accepts and a deploy or a delete then refuses: the template's Rules, the
parameters for what already exists, what a stack delete keeps, and cfn-lint in every region."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import cfnlint
import pytest
from ses_feedback_stack.template import REPO_ROOT, Resolver, load_template

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
RULES: dict[str, Any] = TEMPLATE["Rules"]
SUPPORTED_REGIONS: list[str] = TEMPLATE["Metadata"]["SupportedRegions"]
CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))  # moto's dependency, same pin as .venv-tools


def _evaluate(value: Any) -> Any:
    """What a resolved Rules function says (the resolver leaves Fn::Contains as it is)."""
    if isinstance(value, dict) and set(value) == {"Fn::Contains"}:
        candidates, wanted = value["Fn::Contains"]
        return str(wanted) in [str(c) for c in candidates]
    return value


def refusals(region: str = "us-east-1", **parameters: str) -> list[str]:
    """The AssertDescription of each Rule a deploy with these parameters would break."""
    resolve = Resolver(TEMPLATE, parameters=parameters, region=region)
    broken = []
    for rule in RULES.values():
        if "RuleCondition" in rule and not _evaluate(resolve.resolve(rule["RuleCondition"])):
            continue
        for assertion in rule["Assertions"]:
            if not _evaluate(resolve.resolve(assertion["Assert"])):
                broken.append(" ".join(assertion["AssertDescription"].split()))
    return broken


def test_the_defaults_break_no_rule() -> None:
    assert refusals() == []


def test_a_batch_over_ten_without_a_batching_window_is_refused_naming_both_fixes() -> None:
    (message,) = refusals(FeedbackBatchingWindowSeconds="0", FeedbackBatchSize="100")
    assert "FeedbackBatchingWindowSeconds to 1 or more" in message
    assert "FeedbackBatchSize to 10 or less" in message
    assert refusals(FeedbackBatchingWindowSeconds="0", FeedbackBatchSize="10") == []
    assert refusals(FeedbackBatchingWindowSeconds="1", FeedbackBatchSize="100") == []


def test_dmarc_reports_are_refused_where_ses_receives_no_mail_naming_the_parameter() -> None:
    (message,) = refusals(region="eu-central-2", ReceiveDmarcReports="true")
    assert "ReceiveDmarcReports=false" in message
    assert refusals(region="eu-central-2", ReceiveDmarcReports="false") == []
    assert refusals(region="eu-west-1", ReceiveDmarcReports="true") == []


def test_the_receiving_regions_are_where_cloudformation_has_receipt_rule_sets() -> None:
    # cfn-lint's region data says which resource types CloudFormation has in each region.
    providers = Path(cfnlint.__file__).parent / "data" / "schemas" / "providers"
    with_receiving = {
        region
        for region in SUPPORTED_REGIONS
        if "AWS::SES::ReceiptRuleSet" in json.loads((providers / f"{region}.json").read_text())
    }
    (assertion,) = RULES["DmarcReportsNeedSesReceiving"]["Assertions"]
    regions, _ = assertion["Assert"]["Fn::Contains"]
    assert set(regions) == with_receiving


def test_every_supported_region_has_ses_identities() -> None:
    providers = Path(cfnlint.__file__).parent / "data" / "schemas" / "providers"
    for region in SUPPORTED_REGIONS:
        assert "AWS::SES::EmailIdentity" in json.loads((providers / f"{region}.json").read_text()), region


def test_cfn_lint_passes_in_every_supported_region() -> None:
    result = subprocess.run(
        [CFN_LINT, "--regions", *SUPPORTED_REGIONS, "--", str(REPO_ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_names_ses_limits_to_64_characters_are_left_to_cloudformation() -> None:
    # A name built from the stack name (up to 128 characters) would pass SES's 64.
    assert "RuleSetName" not in RESOURCES["DmarcReceiptRuleSet"].get("Properties", {})
    assert "Name" not in RESOURCES["DmarcReceiptRule"]["Properties"]["Rule"]


# ---- what already exists, and what a delete leaves -------------------------------------------


@pytest.mark.parametrize(
    ("logical_id", "policy"),
    [
        ("SendingIdentity", "Retain"),  # the verified domain, its DKIM keys and reputation
        ("SuppressionTable", "Retain"),  # the suppression list
        ("DmarcReportTable", "Retain"),  # the stored reports
        ("DmarcReportBucket", "Retain"),  # SES's setup notification and received mail keep it non-empty
        ("StreamsSecret", "Retain"),  # old unsubscribe links and tombstones need its keys
        ("IdempotencyTable", "Delete"),  # a day's answers, worth nothing without the sender
    ],
)
def test_each_stateful_resource_says_what_a_delete_or_a_replacement_does(
    logical_id: str, policy: str
) -> None:
    resource = RESOURCES[logical_id]
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == (policy, policy)


def _created(resolve: Resolver) -> set[str]:
    return {
        logical_id
        for logical_id, resource in RESOURCES.items()
        if "Condition" not in resource or resolve.condition(resource["Condition"])
    }


def _outputs(resolve: Resolver) -> set[str]:
    return {
        name
        for name, output in TEMPLATE["Outputs"].items()
        if "Condition" not in output or resolve.condition(output["Condition"])
    }


def test_an_existing_ses_identity_is_used_not_created_and_its_records_left_alone() -> None:
    for zone in ("", "Z0123456789EXAMPLE"):
        resolve = Resolver(TEMPLATE, parameters={"ExistingSesIdentity": "true", "HostedZoneId": zone})
        identity_parts = {
            "SendingIdentity",
            "DkimRecord1",
            "DkimRecord2",
            "DkimRecord3",
            "MailFromMxRecord",
            "MailFromSpfRecord",
        }
        assert not identity_parts & _created(resolve)
        assert not {"DnsDkimRecord1", "DnsMailFromMxRecord", "DnsMailFromSpfRecord"} & _outputs(resolve)
    created = _created(Resolver(TEMPLATE, parameters={"HostedZoneId": "Z0123456789EXAMPLE"}))
    assert {"SendingIdentity", "DkimRecord1", "MailFromMxRecord"} <= created


def test_an_existing_dmarc_record_is_left_alone_and_its_value_listed() -> None:
    keep = Resolver(
        TEMPLATE, parameters={"HostedZoneId": "Z0123456789EXAMPLE", "PublishDmarcRecord": "false"}
    )
    assert "DmarcRecord" not in _created(keep)
    assert "DnsDmarcRecord" in _outputs(keep)
    publish = Resolver(TEMPLATE, parameters={"HostedZoneId": "Z0123456789EXAMPLE"})
    assert "DmarcRecord" in _created(publish)
    assert "DnsDmarcRecord" not in _outputs(publish)


# ---- SES may invoke and write only for the stack's own receipt rules -----------------------------


@pytest.mark.parametrize(("named", "rule_set"), [("", "stack-set"), ("existing-set", "existing-set")])
def test_ses_invokes_the_function_and_writes_the_bucket_only_for_the_stacks_rule_set(
    named: str, rule_set: str
) -> None:
    resolve = Resolver(
        TEMPLATE,
        parameters={"ReceiveDmarcReports": "true", "DmarcReceiptRuleSetName": named},
        refs={"DmarcReceiptRuleSet": "stack-set", "DmarcReportFunction": "dmarc", "DmarcReportBucket": "b"},
        attributes={("DmarcReportBucket", "Arn"): "arn:aws:s3:::b"},
        account_id="111122223333",
    )
    expected = f"arn:aws:ses:us-east-1:111122223333:receipt-rule-set/{rule_set}:receipt-rule/*"
    permission = resolve.resolve(RESOURCES["DmarcReportFunctionSesPermission"]["Properties"])
    assert (permission["SourceAccount"], permission["SourceArn"]) == ("111122223333", expected)
    (writes, _) = resolve.resolve(RESOURCES["DmarcReportBucketPolicy"]["Properties"])["PolicyDocument"][
        "Statement"
    ]
    assert writes["Condition"]["ArnLike"] == {"aws:SourceArn": expected}


# ---- parameter limits: refused by CloudFormation before anything is created ----------------------


def _accepts(name: str, value: str) -> bool:
    definition = TEMPLATE["Parameters"][name]
    if "AllowedPattern" in definition and not re.fullmatch(definition["AllowedPattern"], value):
        return False
    if "MaxValue" in definition and float(value) > definition["MaxValue"]:
        return False
    return not ("MinValue" in definition and float(value) < definition["MinValue"])


def test_every_default_meets_its_own_constraints() -> None:
    for name, definition in TEMPLATE["Parameters"].items():
        assert _accepts(name, str(definition.get("Default", ""))), name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HostedZoneId", "/hostedzone/Z0123456789EXAMPLE"),
        ("DmarcReceiptRuleSetName", "r" * 65),
        ("DmarcReceiptRuleSetName", "bad name"),
        ("AlarmEmail", "ops"),
        ("DmarcReportAddress", "a@example.org,b@example.org"),
        ("SesSuppressionSyncSchedule", "every hour"),
        ("FeedbackMaxReceiveCount", "1001"),
    ],
)
def test_a_value_aws_would_refuse_later_is_refused_at_once(name: str, value: str) -> None:
    assert not _accepts(name, value)
    definition = TEMPLATE["Parameters"][name]
    assert "ConstraintDescription" in definition or "MaxValue" in definition
