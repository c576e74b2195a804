"""The SES checks as pure functions of facts: each SES state maps to a status and a fix."""

from __future__ import annotations

from dataclasses import replace

import pytest
from botocore.exceptions import NoCredentialsError
from ses_feedback.edges.ses_setup import SesSetup
from ses_feedback_cli.main import main
from ses_feedback_doctor.diagnose import DoctorRequest, diagnose
from ses_feedback_doctor.dns_checks import check_dkim_records
from ses_feedback_doctor.model import (
    AccountFacts,
    DnsFacts,
    IdentityFacts,
    Lookup,
    SesFacts,
    Status,
    Target,
)
from ses_feedback_doctor.ses_checks import check_account, check_ses_dkim, check_ses_mail_from
from ses_feedback_doctor.ses_gateway import SesGateway

TARGET = Target(domain="example.com", region="eu-west-1", mail_from_domain="mail.example.com")
IDENTITY = IdentityFacts(
    verified_for_sending=True,
    dkim_signing_enabled=True,
    dkim_status="SUCCESS",
    dkim_origin="AWS_SES",
    dkim_next_key_length="RSA_2048_BIT",
    mail_from_domain="mail.example.com",
    mail_from_status="SUCCESS",
    mail_from_behavior_on_mx_failure="USE_DEFAULT_VALUE",
)
ACCOUNT = AccountFacts(
    production_access=True,
    sending_enabled=True,
    enforcement_status="HEALTHY",
    max_24_hour_send=50000,
    max_send_rate=14,
    sent_last_24_hours=10,
)


@pytest.mark.parametrize(
    ("changes", "status", "in_detail"),
    [
        ({}, Status.PASS, "status SUCCESS"),
        ({"mail_from_status": "PENDING"}, Status.WARN, "falls back to amazonses.com"),
        ({"mail_from_status": "FAILED"}, Status.FAIL, "falls back to amazonses.com"),
        (
            {"mail_from_status": "TEMPORARY_FAILURE", "mail_from_behavior_on_mx_failure": "REJECT_MESSAGE"},
            Status.FAIL,
            "refuses to send",
        ),
        ({"mail_from_domain": "mail.example.net"}, Status.FAIL, "is not a subdomain of example.com"),
    ],
)
def test_mail_from_status(changes: dict[str, str], status: Status, in_detail: str) -> None:
    check = check_ses_mail_from(TARGET, replace(IDENTITY, **changes))  # type: ignore[arg-type]
    assert check.status is status
    assert in_detail in check.detail
    if status is not Status.PASS and "mail_from_domain" not in changes:
        assert check.fix == "publish mail.example.com MX 10 feedback-smtp.eu-west-1.amazonses.com"


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"dkim_status": "PENDING"}, Status.WARN),
        ({"dkim_status": "NOT_STARTED"}, Status.WARN),
        ({"dkim_status": "FAILED"}, Status.FAIL),
        ({"dkim_status": "TEMPORARY_FAILURE"}, Status.FAIL),
        ({"dkim_origin": "EXTERNAL"}, Status.PASS),
    ],
)
def test_dkim_status(changes: dict[str, str], status: Status) -> None:
    assert check_ses_dkim(TARGET, replace(IDENTITY, **changes)).status is status  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "access", "quota"),
    [
        ({}, Status.PASS, Status.PASS),
        ({"enforcement_status": "PROBATION"}, Status.WARN, Status.PASS),
        ({"sent_last_24_hours": 40000}, Status.PASS, Status.WARN),  # 80% of the quota
        ({"sent_last_24_hours": 39999}, Status.PASS, Status.PASS),
        ({"max_24_hour_send": -1}, Status.PASS, Status.PASS),  # no daily limit
    ],
)
def test_account_and_quota(changes: dict[str, float | str], access: Status, quota: Status) -> None:
    facts = SesFacts(
        region="eu-west-1", identity=None, configuration_set=None, account=replace(ACCOUNT, **changes)
    )  # type: ignore[arg-type]
    account_check, quota_check = check_account(TARGET, facts)
    assert (account_check.status, quota_check.status) == (access, quota)


class _NoCredentials:
    def get_email_identity(self, **_: str) -> None:
        raise NoCredentialsError


class _NoDns:
    def facts(self, domain: str, mail_from_domain: str, dkim_tokens: tuple[str, ...]) -> DnsFacts:
        empty = Lookup()
        return DnsFacts(dkim={}, mail_from_mx=empty, mail_from_txt=empty, spf_targets={}, dmarc_txt=empty)


def test_without_aws_credentials_ses_fails_once_and_the_dns_checks_still_run() -> None:
    checks = diagnose(
        DoctorRequest(domain="example.com", region="eu-west-1"),
        _NoDns(),  # type: ignore[arg-type]
        SesGateway(SesSetup("eu-west-1", client=_NoCredentials())),  # type: ignore[arg-type]
    )
    assert checks[0].id == "ses.api"
    assert checks[0].status is Status.FAIL
    assert "--dns-only" in (checks[0].fix or "")
    assert {c.id for c in checks} >= {"dns.dkim", "dns.mail_from.mx", "dns.dmarc", "dmarc.verdict"}


def test_byodkim_identity_has_no_easy_dkim_records_to_check() -> None:
    empty = Lookup()
    dns_facts = DnsFacts(dkim={}, mail_from_mx=empty, mail_from_txt=empty, spf_targets={}, dmarc_txt=empty)
    byodkim = SesFacts(
        region="eu-west-1",
        identity=replace(IDENTITY, dkim_origin="EXTERNAL"),
        configuration_set=None,
        account=None,
    )
    easy = SesFacts(region="eu-west-1", identity=IDENTITY, configuration_set=None, account=None)
    (check,) = check_dkim_records(TARGET, dns_facts, byodkim)
    assert (check.id, check.status) == ("dns.dkim", Status.PASS)
    assert "BYODKIM" in check.detail
    assert check_dkim_records(TARGET, dns_facts, easy)[0].status is Status.WARN


def test_doctor_help_says_unknown_fails_too(capsys: pytest.CaptureFixture[str]) -> None:
    # The exit status counts UNKNOWN (a DNS server that did not answer) as failing, as FAIL does.
    with pytest.raises(SystemExit):
        main(["doctor", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "PASS, WARN, FAIL or UNKNOWN" in said
    assert "Exit status 1 when any check FAILs or is UNKNOWN." in said
