"""The sending identity in template.yaml: Easy DKIM, custom MAIL FROM, DMARC, and its DNS records
(created in Route 53 with a HostedZoneId, listed in the Outputs without one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ses_feedback_stack.template import REPO_ROOT, Resolver, load_template, resources_of_type

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))  # moto's dependency, same pin as .venv-tools
HOSTED_ZONE = "Z0123456789EXAMPLE"

# What CloudFormation's GetAtt gives for an SES domain identity's Easy DKIM records.
DKIM_ATTRIBUTES = {
    **{("SendingIdentity", f"DkimDNSTokenName{i}"): f"tok{i}._domainkey.example.org" for i in (1, 2, 3)},
    **{("SendingIdentity", f"DkimDNSTokenValue{i}"): f"tok{i}.dkim.amazonses.com" for i in (1, 2, 3)},
}


def resolver(**parameters: str) -> Resolver:
    return Resolver(
        TEMPLATE,
        parameters={"SendingDomain": "example.org", **parameters},
        refs={"ConfigurationSet": "feedback-set"},
        attributes=dict(DKIM_ATTRIBUTES),
        region="eu-west-1",
    )


def route53_records(resolve: Resolver) -> set[tuple[str, str, str]]:
    records = set()
    for resource in resources_of_type(TEMPLATE, "AWS::Route53::RecordSet").values():
        if not resolve.condition(resource["Condition"]):
            continue
        properties = resolve.resolve(resource["Properties"])
        assert properties["HostedZoneId"] == HOSTED_ZONE
        for value in properties["ResourceRecords"]:
            records.add((properties["Name"], properties["Type"], value))
    return records


def output_records(resolve: Resolver) -> set[tuple[str, str, str]]:
    records = set()
    for name, output in TEMPLATE["Outputs"].items():
        if not name.startswith("Dns") or not resolve.condition(output["Condition"]):
            continue
        record_name, record_type, value = resolve.resolve(output["Value"]).split(" ", 2)
        records.add((record_name, record_type, value))
    return records


EXPECTED_RECORDS = {
    ("tok1._domainkey.example.org", "CNAME", "tok1.dkim.amazonses.com"),
    ("tok2._domainkey.example.org", "CNAME", "tok2.dkim.amazonses.com"),
    ("tok3._domainkey.example.org", "CNAME", "tok3.dkim.amazonses.com"),
    ("mail.example.org", "MX", "10 feedback-smtp.eu-west-1.amazonses.com"),
    ("mail.example.org", "TXT", '"v=spf1 include:amazonses.com ~all"'),
    ("_dmarc.example.org", "TXT", '"v=DMARC1; p=quarantine; rua=mailto:dmarc@example.org"'),
}


def test_identity_uses_2048_bit_easy_dkim_and_the_feedback_configuration_set() -> None:
    identity = resolver().resolve(RESOURCES["SendingIdentity"]["Properties"])
    assert identity["EmailIdentity"] == "example.org"
    assert identity["DkimAttributes"] == {"SigningEnabled": True}
    assert identity["DkimSigningAttributes"] == {"NextSigningKeyLength": "RSA_2048_BIT"}
    assert identity["ConfigurationSetAttributes"] == {"ConfigurationSetName": "feedback-set"}


def test_mail_from_is_the_mail_subdomain_unless_told_otherwise() -> None:
    default = resolver().resolve(RESOURCES["SendingIdentity"]["Properties"]["MailFromAttributes"])
    custom = resolver(MailFromSubdomain="bounce", MailFromBehaviorOnMxFailure="REJECT_MESSAGE").resolve(
        RESOURCES["SendingIdentity"]["Properties"]["MailFromAttributes"]
    )
    assert default == {"MailFromDomain": "mail.example.org", "BehaviorOnMxFailure": "USE_DEFAULT_VALUE"}
    assert custom == {"MailFromDomain": "bounce.example.org", "BehaviorOnMxFailure": "REJECT_MESSAGE"}


def test_with_a_hosted_zone_route53_publishes_every_record_and_outputs_list_none() -> None:
    # Given a hosted zone and a DMARC policy with a report address
    resolve = resolver(
        HostedZoneId=HOSTED_ZONE, DmarcPolicy="quarantine", DmarcReportAddress="dmarc@example.org"
    )
    # Then Route 53 gets every record, and there is nothing left to publish by hand
    assert route53_records(resolve) == EXPECTED_RECORDS
    assert output_records(resolve) == set()


def test_without_a_hosted_zone_outputs_list_the_same_records_and_route53_gets_none() -> None:
    resolve = resolver(DmarcPolicy="quarantine", DmarcReportAddress="dmarc@example.org")
    assert route53_records(resolve) == set()
    assert output_records(resolve) == EXPECTED_RECORDS


def test_dmarc_without_a_report_address_names_only_its_policy() -> None:
    records = output_records(resolver(DmarcPolicy="reject"))
    assert ("_dmarc.example.org", "TXT", '"v=DMARC1; p=reject"') in records
    assert TEMPLATE["Parameters"]["DmarcPolicy"]["AllowedValues"] == ["none", "quarantine", "reject"]


@pytest.mark.parametrize("hosted_zone", ["", HOSTED_ZONE])
def test_cfn_lint_passes_with_and_without_a_hosted_zone(hosted_zone: str) -> None:
    result = subprocess.run(
        [CFN_LINT, str(REPO_ROOT / "template.yaml"), "--parameters", f"HostedZoneId={hosted_zone}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_does_catch_a_broken_record_under_the_hosted_zone_condition(tmp_path: Path) -> None:
    # Control for the test above: lint really reads the conditional records.
    text = (REPO_ROOT / "template.yaml").read_text()
    broken = text.replace("SendingIdentity.DkimDNSTokenValue1]", "SendingIdentity.DkimDNSTokenValue9]", 1)
    assert broken != text
    (tmp_path / "template.yaml").write_text(broken)
    result = subprocess.run(
        [CFN_LINT, str(tmp_path / "template.yaml"), "--parameters", f"HostedZoneId={HOSTED_ZONE}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "DkimDNSTokenValue9" in result.stdout
