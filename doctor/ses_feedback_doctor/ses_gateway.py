"""The doctor's SES facts: SES v2's answers (``ses_feedback.edges.ses_setup``) turned into facts.

Read-only: GetEmailIdentity, GetConfigurationSet, GetConfigurationSetEventDestinations and
GetAccount. A call that fails for a reason other than "not found" (no permission, throttled)
is kept as an error fact, so the other checks still run; when SES cannot be reached at all
(no credentials, no network), ``AwsCallFailed`` without a code leaves ``facts``.
"""

from __future__ import annotations

from typing import Any, Protocol

from ses_feedback.errors import AwsCallFailed

from ses_feedback_doctor.model import (
    AccountFacts,
    ConfigurationSetFacts,
    EventDestination,
    IdentityFacts,
    SesFacts,
)


class SesReads(Protocol):
    """What the doctor asks SES (``ses_feedback.edges.ses_setup.SesSetup``, built by wiring)."""

    @property
    def region(self) -> str | None: ...

    def identity(self, domain: str) -> dict[str, Any] | None: ...

    def configuration_set_exists(self, name: str) -> bool: ...

    def event_destinations(self, name: str) -> list[dict[str, Any]]: ...

    def account(self) -> dict[str, Any]: ...


def _error(exc: AwsCallFailed) -> str:
    if not exc.answered:
        raise exc  # SES could not be reached: no check can run (diagnose says so once)
    return f"{exc.aws_code}: {exc.reason}".strip()


class SesGateway:
    """SES v2 in one region, through the domain's edge (``wiring.ses_setup_for``)."""

    def __init__(self, setup: SesReads) -> None:
        self.setup = setup

    @property
    def region(self) -> str | None:
        return self.setup.region

    def facts(self, domain: str, configuration_set: str | None = None) -> SesFacts:
        errors: dict[str, str] = {}
        identity: IdentityFacts | None = None
        try:
            answer = self.setup.identity(domain)
            identity = identity_facts(answer) if answer is not None else None
        except AwsCallFailed as exc:
            errors["GetEmailIdentity"] = _error(exc)
        name = configuration_set or (identity.configuration_set if identity else None)
        configuration_set_facts = None
        if name and identity is not None:
            try:
                configuration_set_facts = self.configuration_set(name)
            except AwsCallFailed as exc:
                errors["GetConfigurationSet"] = _error(exc)
        account = None
        try:
            account = account_facts(self.setup.account())
        except AwsCallFailed as exc:
            errors["GetAccount"] = _error(exc)
        return SesFacts(
            region=self.region or "",
            identity=identity,
            configuration_set=configuration_set_facts,
            account=account,
            errors=errors,
        )

    def configuration_set(self, name: str) -> ConfigurationSetFacts:
        if not self.setup.configuration_set_exists(name):
            return ConfigurationSetFacts(name=name, exists=False)
        try:
            answer = self.setup.event_destinations(name)
        except AwsCallFailed as exc:
            return ConfigurationSetFacts(name=name, exists=True, error=_error(exc))
        destinations = tuple(
            EventDestination(
                name=d["Name"],
                enabled=bool(d.get("Enabled", False)),
                event_types=frozenset(d.get("MatchingEventTypes", [])),
                sns_topic_arn=d.get("SnsDestination", {}).get("TopicArn"),
            )
            for d in answer
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
