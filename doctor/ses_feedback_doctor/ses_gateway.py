"""The SES edge: the SES v2 calls the doctor makes, turned into facts.

Read-only: GetEmailIdentity, GetConfigurationSet, GetConfigurationSetEventDestinations and
GetAccount. A call that fails for a reason other than "not found" (no permission, throttled)
is kept as an error fact, so the other checks still run.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from ses_feedback_doctor.model import (
    AccountFacts,
    ConfigurationSetFacts,
    EventDestination,
    IdentityFacts,
    SesFacts,
)

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client


def _not_found(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "NotFoundException"


def _error(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()


class SesGateway:
    """SES v2 in one region; pass ``client`` to use another (a moto or stubbed one in tests)."""

    def __init__(self, region: str, client: SESV2Client | None = None) -> None:
        self.region = region
        self._client = client

    @cached_property
    def client(self) -> SESV2Client:
        return self._client or boto3.client("sesv2", region_name=self.region)

    def facts(self, domain: str, configuration_set: str | None = None) -> SesFacts:
        errors: dict[str, str] = {}
        identity: IdentityFacts | None = None
        try:
            identity = identity_facts(self.client.get_email_identity(EmailIdentity=domain))
        except ClientError as exc:
            if not _not_found(exc):
                errors["GetEmailIdentity"] = _error(exc)
        name = configuration_set or (identity.configuration_set if identity else None)
        configuration_set_facts = None
        if name and identity is not None:
            try:
                configuration_set_facts = self.configuration_set(name)
            except ClientError as exc:
                errors["GetConfigurationSet"] = _error(exc)
        account = None
        try:
            account = account_facts(self.client.get_account())
        except ClientError as exc:
            errors["GetAccount"] = _error(exc)
        return SesFacts(
            region=self.region,
            identity=identity,
            configuration_set=configuration_set_facts,
            account=account,
            errors=errors,
        )

    def configuration_set(self, name: str) -> ConfigurationSetFacts:
        try:
            self.client.get_configuration_set(ConfigurationSetName=name)
        except ClientError as exc:
            if _not_found(exc):
                return ConfigurationSetFacts(name=name, exists=False)
            raise
        try:
            response = self.client.get_configuration_set_event_destinations(ConfigurationSetName=name)
        except ClientError as exc:
            return ConfigurationSetFacts(name=name, exists=True, error=_error(exc))
        destinations = tuple(
            EventDestination(
                name=d["Name"],
                enabled=bool(d.get("Enabled", False)),
                event_types=frozenset(d.get("MatchingEventTypes", [])),
                sns_topic_arn=d.get("SnsDestination", {}).get("TopicArn"),
            )
            for d in response.get("EventDestinations", [])
        )
        return ConfigurationSetFacts(name=name, exists=True, destinations=destinations)


def identity_facts(response: Any) -> IdentityFacts:
    dkim = response.get("DkimAttributes", {})
    mail_from = response.get("MailFromAttributes", {})
    return IdentityFacts(
        verified_for_sending=bool(response.get("VerifiedForSendingStatus", False)),
        verification_status=response.get("VerificationStatus"),
        dkim_signing_enabled=bool(dkim.get("SigningEnabled", False)),
        dkim_status=dkim.get("Status"),
        dkim_origin=dkim.get("SigningAttributesOrigin"),
        dkim_next_key_length=dkim.get("NextSigningKeyLength"),
        dkim_tokens=tuple(dkim.get("Tokens", [])),
        mail_from_domain=mail_from.get("MailFromDomain") or None,
        mail_from_status=mail_from.get("MailFromDomainStatus"),
        mail_from_behavior_on_mx_failure=mail_from.get("BehaviorOnMxFailure"),
        configuration_set=response.get("ConfigurationSetName") or None,
    )


def account_facts(response: Any) -> AccountFacts:
    quota = response.get("SendQuota", {})
    return AccountFacts(
        production_access=bool(response.get("ProductionAccessEnabled", False)),
        sending_enabled=bool(response.get("SendingEnabled", True)),
        enforcement_status=response.get("EnforcementStatus"),
        max_24_hour_send=float(quota.get("Max24HourSend", 0)),
        max_send_rate=float(quota.get("MaxSendRate", 0)),
        sent_last_24_hours=float(quota.get("SentLast24Hours", 0)),
    )
