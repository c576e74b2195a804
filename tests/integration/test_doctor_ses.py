"""`doctor` with its SES checks: SES v2 from moto, DNS from the loopback server.

moto's SES v2 implements GetEmailIdentity and GetConfigurationSet, but not GetAccount nor
GetConfigurationSetEventDestinations; those two calls go to a ``botocore.stub.Stubber`` on a
real client (``PartlyStubbed`` below). moto also never verifies a domain and keeps no MAIL
FROM attributes for SES v2, so the one test of a fully verified identity stubs
GetEmailIdentity as well, with the response SES gives once it has seen the DNS records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from ses_feedback.edges.ses_setup import SesSetup
from ses_feedback_doctor.diagnose import DoctorRequest, diagnose
from ses_feedback_doctor.dns_lookup import DnsLookup
from ses_feedback_doctor.model import Check, Status, failed
from ses_feedback_doctor.ses_gateway import SesGateway
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_stack.names import LocalStack

from tests.support import dns_zones as z
from tests.support.dns_server import DnsServer

TOPIC_ARN = f"arn:aws:sns:{z.REGION}:123456789012:ses-feedback-FeedbackTopic"
CONFIGURATION_SET = "ses-feedback-ConfigurationSet"

PRODUCTION_ACCOUNT = {
    "ProductionAccessEnabled": True,
    "SendingEnabled": True,
    "EnforcementStatus": "HEALTHY",
    "DedicatedIpAutoWarmupEnabled": False,
    "SendQuota": {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": 1200.0},
}
FEEDBACK_DESTINATION = {
    "Name": "feedback-to-sns",
    "Enabled": True,
    "MatchingEventTypes": [
        "BOUNCE",
        "COMPLAINT",
        "DELIVERY",
        "REJECT",
        "RENDERING_FAILURE",
        "DELIVERY_DELAY",
    ],
    "SnsDestination": {"TopicArn": TOPIC_ARN},
}


class PartlyStubbed:
    """moto's client, except for the operations named, which a Stubber answers."""

    def __init__(self, moto_client: Any, stubbed_client: Any, operations: set[str]) -> None:
        self._moto, self._stubbed, self.operations = moto_client, stubbed_client, operations

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stubbed if name in self.operations else self._moto, name)


@dataclass
class Ses:
    moto: Any
    stubber: Stubber
    client: PartlyStubbed

    def account(self, **changes: Any) -> None:
        self.stubber.add_response("get_account", {**PRODUCTION_ACCOUNT, **changes})

    def identity(self, response: dict[str, Any]) -> None:
        """What SES answers once it has verified the domain (moto never does)."""
        self.client.operations.add("get_email_identity")
        self.stubber.add_response("get_email_identity", response, {"EmailIdentity": z.DOMAIN})

    def destinations(self, *destinations: dict[str, Any]) -> None:
        self.stubber.add_response(
            "get_configuration_set_event_destinations",
            {"EventDestinations": list(destinations)},
            {"ConfigurationSetName": CONFIGURATION_SET},
        )


@pytest.fixture
def ses() -> Iterator[Ses]:
    with mock_aws():
        moto_client = boto3.client("sesv2", region_name=z.REGION)
        real_client = boto3.client("sesv2", region_name=z.REGION)
        with Stubber(real_client) as stubber:
            yield Ses(
                moto=moto_client,
                stubber=stubber,
                client=PartlyStubbed(
                    moto_client, real_client, {"get_account", "get_configuration_set_event_destinations"}
                ),
            )
            stubber.assert_no_pending_responses()


def doctor(
    ses: Ses, dns_server: DnsServer, records: dict[str, str] | None = None, **request: Any
) -> dict[str, Check]:
    dns_server.zones.set(z.zones(records or z.correct_records()))
    checks = diagnose(
        DoctorRequest(domain=z.DOMAIN, region=z.REGION, **request),
        DnsLookup(nameserver=dns_server.address, timeout=2),
        SesGateway(SesSetup(z.REGION, client=ses.client)),  # type: ignore[arg-type]
    )
    return {check.id: check for check in checks}


def create_identity(ses: Ses, key_length: str | None = "RSA_2048_BIT") -> None:
    ses.moto.create_configuration_set(ConfigurationSetName=CONFIGURATION_SET)
    extra: dict[str, Any] = {}
    if key_length:
        extra["DkimSigningAttributes"] = {"NextSigningKeyLength": key_length}
    ses.moto.create_email_identity(EmailIdentity=z.DOMAIN, ConfigurationSetName=CONFIGURATION_SET, **extra)


def test_a_verified_domain_with_its_records_passes_everything(ses: Ses, dns_server: DnsServer) -> None:
    # Given SES's answer for a verified identity (stubbed: moto never verifies), a production
    # account, the feedback event destination, and the correct DNS zone
    create_identity(ses)
    ses.identity(
        {
            "IdentityType": "DOMAIN",
            "VerifiedForSendingStatus": True,
            "VerificationStatus": "SUCCESS",
            "DkimAttributes": {
                "SigningEnabled": True,
                "Status": "SUCCESS",
                "Tokens": list(z.TOKENS),
                "SigningAttributesOrigin": "AWS_SES",
                "NextSigningKeyLength": "RSA_2048_BIT",
            },
            "MailFromAttributes": {
                "MailFromDomain": f"mail.{z.DOMAIN}",
                "MailFromDomainStatus": "SUCCESS",
                "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
            },
            "ConfigurationSetName": CONFIGURATION_SET,
        }
    )
    ses.destinations(FEEDBACK_DESTINATION)
    ses.account()
    # When the doctor runs with the feedback topic to look for
    checks = doctor(ses, dns_server, topic_arn=TOPIC_ARN)
    # Then every SES and DNS check passes, with the DKIM tokens SES reported
    assert [c.id for c in checks.values() if c.status is not Status.PASS] == []
    assert list(checks)[:7] == [
        "ses.identity",
        "ses.dkim",
        "ses.mail_from",
        "ses.configuration_set",
        "ses.event_destination",
        "ses.account",
        "ses.quota",
    ]
    assert {"dns.dkim.1", "dns.dkim.2", "dns.dkim.3"} <= set(checks)
    assert checks["ses.quota"].detail == (
        "1200 of 50000 messages sent in the last 24 hours; at most 14 per second"
    )
    assert TOPIC_ARN in checks["ses.event_destination"].detail


def test_unknown_identity_fails_with_the_command_that_creates_it(ses: Ses, dns_server: DnsServer) -> None:
    ses.account()
    checks = doctor(ses, dns_server)
    assert checks["ses.identity"].status is Status.FAIL
    assert checks["ses.identity"].detail == "example.com is not an SES identity in us-east-1"
    assert "aws sesv2 create-email-identity --email-identity example.com --region us-east-1" in (
        checks["ses.identity"].fix or ""
    )
    # identity-dependent checks are not repeated; the account is still checked
    assert "ses.dkim" not in checks
    assert checks["ses.account"].status is Status.PASS
    # without tokens from SES, the DKIM records cannot be checked
    assert checks["dns.dkim"].status is Status.WARN


def test_identity_moto_has_not_verified_fails_and_points_at_the_dkim_records(
    ses: Ses, dns_server: DnsServer
) -> None:
    create_identity(ses)
    ses.destinations(FEEDBACK_DESTINATION)
    ses.account()
    checks = doctor(ses, dns_server)
    assert checks["ses.identity"].status is Status.FAIL
    assert "not verified for sending" in checks["ses.identity"].detail
    assert "publish the three DKIM CNAMEs" in (checks["ses.identity"].fix or "")
    # moto reports Easy DKIM as signing with the key length asked for
    assert checks["ses.dkim"].status is Status.PASS
    assert checks["ses.configuration_set"].status is Status.PASS


def test_identity_without_dkim_signing_fails_dkim_and_its_alignment(ses: Ses, dns_server: DnsServer) -> None:
    create_identity(ses, key_length=None)
    ses.destinations(FEEDBACK_DESTINATION)
    ses.account()
    checks = doctor(ses, dns_server)
    assert checks["ses.dkim"].status is Status.FAIL
    assert checks["ses.dkim"].fix == (
        "aws sesv2 put-email-identity-dkim-attributes --email-identity example.com --signing-enabled "
        "--region us-east-1"
    )
    assert checks["alignment.dkim"].status is Status.FAIL


def test_1024_bit_dkim_key_is_a_warning_with_the_rotation_command(ses: Ses, dns_server: DnsServer) -> None:
    create_identity(ses, key_length="RSA_1024_BIT")
    ses.destinations(FEEDBACK_DESTINATION)
    ses.account()
    checks = doctor(ses, dns_server)
    assert checks["ses.dkim"].status is Status.WARN
    assert "NextSigningKeyLength=RSA_2048_BIT" in (checks["ses.dkim"].fix or "")


def test_identity_without_custom_mail_from_cannot_align_spf(ses: Ses, dns_server: DnsServer) -> None:
    # moto's SES v2 identity has no MAIL FROM attributes: SES would send with amazonses.com
    create_identity(ses)
    ses.destinations(FEEDBACK_DESTINATION)
    ses.account()
    checks = doctor(ses, dns_server)
    assert checks["ses.mail_from"].status is Status.FAIL
    assert "--mail-from-domain mail.example.com --behavior-on-mx-failure USE_DEFAULT_VALUE" in (
        checks["ses.mail_from"].fix or ""
    )
    assert checks["alignment.spf"].status is Status.FAIL
    assert "passes for amazonses.com" in checks["alignment.spf"].detail


def test_default_configuration_set_that_does_not_exist_fails(ses: Ses, dns_server: DnsServer) -> None:
    ses.moto.create_email_identity(EmailIdentity=z.DOMAIN, ConfigurationSetName="deleted-set")
    ses.account()
    checks = doctor(ses, dns_server)
    assert checks["ses.configuration_set"].status is Status.FAIL
    assert (
        checks["ses.configuration_set"].detail == "configuration set deleted-set does not exist in us-east-1"
    )
    assert "ses.event_destination" not in checks


def test_identity_without_a_default_configuration_set_fails(ses: Ses, dns_server: DnsServer) -> None:
    ses.moto.create_email_identity(EmailIdentity=z.DOMAIN)
    ses.account()
    checks = doctor(ses, dns_server)
    assert checks["ses.configuration_set"].status is Status.FAIL
    assert "put-email-identity-configuration-set-attributes" in (checks["ses.configuration_set"].fix or "")


@pytest.mark.parametrize(
    ("destination", "detail"),
    [
        ({**FEEDBACK_DESTINATION, "Enabled": False}, "is disabled"),
        ({**FEEDBACK_DESTINATION, "MatchingEventTypes": ["BOUNCE", "DELIVERY"]}, "is missing COMPLAINT"),
        (
            {**FEEDBACK_DESTINATION, "SnsDestination": {"TopicArn": TOPIC_ARN + "-other"}},
            "has no event destination to " + TOPIC_ARN,
        ),
    ],
)
def test_event_destination_that_loses_feedback_fails(
    ses: Ses, dns_server: DnsServer, destination: dict[str, Any], detail: str
) -> None:
    create_identity(ses)
    ses.destinations(destination)
    ses.account()
    checks = doctor(ses, dns_server, topic_arn=TOPIC_ARN)
    assert checks["ses.event_destination"].status is Status.FAIL
    assert detail in checks["ses.event_destination"].detail
    assert f"SnsDestination={{TopicArn={TOPIC_ARN}}}" in (checks["ses.event_destination"].fix or "")


def test_sandbox_account_is_a_warning_with_the_production_access_request(
    ses: Ses, dns_server: DnsServer
) -> None:
    create_identity(ses)
    ses.destinations(FEEDBACK_DESTINATION)
    ses.account(
        ProductionAccessEnabled=False,
        SendQuota={"Max24HourSend": 200.0, "MaxSendRate": 1.0, "SentLast24Hours": 0.0},
    )
    checks = doctor(ses, dns_server)
    assert checks["ses.account"].status is Status.WARN
    assert "sandbox" in checks["ses.account"].detail
    assert "aws sesv2 put-account-details --production-access-enabled" in (checks["ses.account"].fix or "")
    assert checks["ses.quota"].detail == "0 of 200 messages sent in the last 24 hours; at most 1 per second"


def test_paused_account_fails(ses: Ses, dns_server: DnsServer) -> None:
    create_identity(ses)
    ses.destinations(FEEDBACK_DESTINATION)
    ses.account(SendingEnabled=False, EnforcementStatus="SHUTDOWN")
    checks = doctor(ses, dns_server)
    assert checks["ses.account"].status is Status.FAIL
    assert "put-account-sending-attributes --sending-enabled" in (checks["ses.account"].fix or "")
    assert failed(list(checks.values()))


def test_access_denied_on_get_account_is_a_failure_and_the_rest_still_runs(
    ses: Ses, dns_server: DnsServer
) -> None:
    create_identity(ses)
    ses.destinations(FEEDBACK_DESTINATION)
    ses.stubber.add_client_error("get_account", "AccessDeniedException", "not allowed", 403)
    checks = doctor(ses, dns_server)
    assert checks["ses.account"].status is Status.FAIL
    assert checks["ses.account"].detail == "could not read the account: AccessDeniedException: not allowed"
    assert checks["ses.account"].fix == "allow ses:GetAccount for these credentials"
    assert checks["dns.dmarc"].status is Status.PASS


def test_dns_only_makes_no_ses_call(ses: Ses, dns_server: DnsServer) -> None:
    # Given a Stubber with no responses queued: any SES call would raise
    checks = doctor(ses, dns_server, dns_only=True, dkim_tokens=z.TOKENS)
    assert not any(check_id.startswith("ses.") for check_id in checks)
    assert checks["dmarc.verdict"].status is Status.PASS


def test_the_identity_local_bootstrap_creates_from_the_template_is_what_doctor_checks(
    ses: Ses, dns_server: DnsServer
) -> None:
    # Given the template's resources created in moto (SendingDomain defaults to example.com)
    local = LocalStack(prefix="it")
    refs = bootstrap(local)
    assert refs["SendingIdentity"] == z.DOMAIN
    ses.stubber.add_response(
        "get_configuration_set_event_destinations",
        {"EventDestinations": [FEEDBACK_DESTINATION]},
        {"ConfigurationSetName": refs["ConfigurationSet"]},
    )
    ses.account()
    # When the doctor checks it
    checks = doctor(ses, dns_server)
    # Then it finds the template's Easy DKIM and the stack's configuration set as default
    assert checks["ses.dkim"].status is Status.PASS
    assert checks["ses.configuration_set"].detail == f"configuration set {refs['ConfigurationSet']} exists"
