"""The SES checks: pure functions from SES facts to PASS / WARN / FAIL and the fix.

Identity, Easy DKIM, MAIL FROM, the configuration set and its event destination, then the
account (sandbox or production, paused or not) and its quota.
"""

from __future__ import annotations

from ses_feedback_doctor import dmarc
from ses_feedback_doctor.model import (
    AccountFacts,
    Check,
    ConfigurationSetFacts,
    IdentityFacts,
    SesFacts,
    Status,
    Target,
)
from ses_feedback_doctor.records import mail_from_mx_record

FEEDBACK_TYPES = frozenset({"BOUNCE", "COMPLAINT"})
QUOTA_WARNING_SHARE = 0.8


def _aws(target: Target, command: str) -> str:
    return f"aws sesv2 {command} --region {target.region}"


def ses_checks(target: Target, ses: SesFacts) -> list[Check]:
    checks = [check_identity(target, ses)]
    if ses.identity is not None:
        checks += [
            check_ses_dkim(target, ses.identity),
            check_ses_mail_from(target, ses.identity),
            *check_configuration_set(target, ses),
        ]
    checks += check_account(target, ses)
    return checks


def check_identity(target: Target, ses: SesFacts) -> Check:
    if "GetEmailIdentity" in ses.errors:
        return Check(
            "ses.identity",
            Status.FAIL,
            f"could not read the identity: {ses.errors['GetEmailIdentity']}",
            "allow ses:GetEmailIdentity for these credentials, or run with --dns-only",
        )
    identity = ses.identity
    if identity is None:
        return Check(
            "ses.identity",
            Status.FAIL,
            f"{target.domain} is not an SES identity in {target.region}",
            f"deploy the stack with SendingDomain={target.domain} in {target.region}, or: "
            + _aws(target, f"create-email-identity --email-identity {target.domain}"),
        )
    if identity.verified_for_sending:
        return Check(
            "ses.identity", Status.PASS, f"{target.domain} is verified for sending in {target.region}"
        )
    status = identity.verification_status or "PENDING"
    return Check(
        "ses.identity",
        Status.FAIL,
        f"{target.domain} is not verified for sending in {target.region} (verification {status})",
        "publish the three DKIM CNAMEs (dns.dkim.*): SES verifies the domain through them, within 72 hours",
    )


def check_ses_dkim(target: Target, identity: IdentityFacts) -> Check:
    restart = _aws(
        target,
        f"put-email-identity-dkim-signing-attributes --email-identity {target.domain} "
        "--signing-attributes-origin AWS_SES --signing-attributes NextSigningKeyLength=RSA_2048_BIT",
    )
    if not identity.dkim_signing_enabled:
        return Check(
            "ses.dkim",
            Status.FAIL,
            "DKIM signing is off: mail is not signed for the domain, so DKIM cannot align",
            _aws(
                target,
                f"put-email-identity-dkim-attributes --email-identity {target.domain} --signing-enabled",
            ),
        )
    status = identity.dkim_status or "NOT_STARTED"
    if status in ("FAILED", "TEMPORARY_FAILURE"):
        return Check(
            "ses.dkim",
            Status.FAIL,
            f"SES cannot find the DKIM records (status {status})",
            "publish the three CNAMEs (dns.dkim.*); after FAILED, restart with new tokens: " + restart,
        )
    if status != "SUCCESS":
        return Check(
            "ses.dkim",
            Status.WARN,
            f"SES has not found the DKIM records yet (status {status})",
            "publish the three CNAMEs (dns.dkim.*); SES looks for them for up to 72 hours",
        )
    if identity.dkim_origin == "EXTERNAL":
        return Check(
            "ses.dkim", Status.PASS, "DKIM signs with your own key (BYODKIM); the CNAME checks do not apply"
        )
    if identity.dkim_next_key_length == "RSA_1024_BIT":
        return Check(
            "ses.dkim",
            Status.WARN,
            "Easy DKIM signs, but with a 1024-bit key",
            "rotate to 2048 bits: " + restart,
        )
    return Check("ses.dkim", Status.PASS, "Easy DKIM signs the domain's mail (status SUCCESS)")


def check_ses_mail_from(target: Target, identity: IdentityFacts) -> Check:
    set_mail_from = _aws(
        target,
        f"put-email-identity-mail-from-attributes --email-identity {target.domain} "
        f"--mail-from-domain {target.mail_from_domain} --behavior-on-mx-failure USE_DEFAULT_VALUE",
    )
    if not identity.mail_from_domain:
        return Check(
            "ses.mail_from",
            Status.FAIL,
            "no custom MAIL FROM: SES sends with an amazonses.com MAIL FROM, so SPF cannot align",
            "deploy the stack (it sets mail.<domain>), or: " + set_mail_from,
        )
    if not dmarc.aligned(identity.mail_from_domain, target.domain, "r"):
        return Check(
            "ses.mail_from",
            Status.FAIL,
            f"MAIL FROM {identity.mail_from_domain} is not a subdomain of {target.domain}",
            set_mail_from,
        )
    on_failure = (
        "refuses to send" if identity.mail_from_behavior_on_mx_failure == "REJECT_MESSAGE" else "falls back"
    )
    status = identity.mail_from_status or "PENDING"
    if status == "SUCCESS":
        return Check(
            "ses.mail_from", Status.PASS, f"MAIL FROM {identity.mail_from_domain} is in use (status SUCCESS)"
        )
    detail = (
        f"SES has not found the MX of MAIL FROM {identity.mail_from_domain} (status {status}); "
        f"it {on_failure}"
    )
    if on_failure == "falls back":
        detail += " to amazonses.com, where SPF does not align"
    verdict = Status.WARN if status == "PENDING" else Status.FAIL
    return Check("ses.mail_from", verdict, detail, "publish " + mail_from_mx_record(target))


def check_configuration_set(target: Target, ses: SesFacts) -> list[Check]:
    if "GetConfigurationSet" in ses.errors:
        return [
            Check(
                "ses.configuration_set",
                Status.FAIL,
                f"could not read the configuration set: {ses.errors['GetConfigurationSet']}",
                "allow ses:GetConfigurationSet for these credentials",
            )
        ]
    configuration_set = ses.configuration_set
    if configuration_set is None:
        return [
            Check(
                "ses.configuration_set",
                Status.FAIL,
                "the identity has no default configuration set: mail sent without ConfigurationSetName "
                "publishes no bounces or complaints",
                "deploy the stack (it makes its ConfigurationSet the default), or: "
                + _aws(
                    target,
                    f"put-email-identity-configuration-set-attributes --email-identity {target.domain} "
                    "--configuration-set-name <the stack's ConfigurationSetName output>",
                ),
            )
        ]
    if not configuration_set.exists:
        return [
            Check(
                "ses.configuration_set",
                Status.FAIL,
                f"configuration set {configuration_set.name} does not exist in {target.region}",
                "deploy the stack in this region, or point the identity at the stack's ConfigurationSetName",
            )
        ]
    return [
        Check("ses.configuration_set", Status.PASS, f"configuration set {configuration_set.name} exists"),
        check_event_destination(target, configuration_set),
    ]


def check_event_destination(target: Target, configuration_set: ConfigurationSetFacts) -> Check:
    types = ",".join(sorted(FEEDBACK_TYPES | {"DELIVERY", "REJECT", "RENDERING_FAILURE", "DELIVERY_DELAY"}))
    topic = target.topic_arn or "<the stack's FeedbackTopicArn output>"
    fix = "deploy the stack (ConfigurationSetFeedbackDestination), or: " + _aws(
        target,
        f"create-configuration-set-event-destination --configuration-set-name {configuration_set.name} "
        f"--event-destination-name feedback-to-sns --event-destination "
        f"'Enabled=true,MatchingEventTypes={types},SnsDestination={{TopicArn={topic}}}'",
    )
    if configuration_set.error:
        return Check(
            "ses.event_destination",
            Status.FAIL,
            f"could not read the event destinations: {configuration_set.error}",
            "allow ses:GetConfigurationSetEventDestinations for these credentials",
        )
    candidates = [
        d
        for d in configuration_set.destinations
        if d.sns_topic_arn and (target.topic_arn is None or d.sns_topic_arn == target.topic_arn)
    ]
    for destination in candidates:
        if destination.enabled and destination.event_types >= FEEDBACK_TYPES:
            return Check(
                "ses.event_destination",
                Status.PASS,
                f"{configuration_set.name} publishes "
                f"{', '.join(sorted(destination.event_types))} to {destination.sns_topic_arn}",
            )
    if candidates:
        destination = candidates[0]
        missing = ", ".join(sorted(FEEDBACK_TYPES - destination.event_types)) or "nothing"
        detail = (
            f"event destination {destination.name} is "
            + ("disabled" if not destination.enabled else f"missing {missing}")
            + f": bounces and complaints do not all reach {destination.sns_topic_arn}"
        )
        return Check("ses.event_destination", Status.FAIL, detail, fix)
    where = f"to {target.topic_arn}" if target.topic_arn else "to an SNS topic"
    return Check(
        "ses.event_destination",
        Status.FAIL,
        f"{configuration_set.name} has no event destination {where}: bounces and complaints are lost",
        fix,
    )


def check_account(target: Target, ses: SesFacts) -> list[Check]:
    if "GetAccount" in ses.errors:
        return [
            Check(
                "ses.account",
                Status.FAIL,
                f"could not read the account: {ses.errors['GetAccount']}",
                "allow ses:GetAccount for these credentials",
            )
        ]
    account = ses.account
    if account is None:
        return []
    if not account.sending_enabled or account.enforcement_status == "SHUTDOWN":
        access = Check(
            "ses.account",
            Status.FAIL,
            f"sending is paused for this account in {target.region} "
            f"(enforcement status {account.enforcement_status or 'unknown'})",
            "read the SES console's reputation dashboard, stop the cause (bounces, complaints), then: "
            + _aws(target, "put-account-sending-attributes --sending-enabled"),
        )
    elif not account.production_access:
        access = Check(
            "ses.account",
            Status.WARN,
            f"the account is in the SES sandbox in {target.region}: mail goes only to verified "
            "addresses and the simulator",
            "request production access: "
            + _aws(
                target,
                "put-account-details --production-access-enabled --mail-type TRANSACTIONAL "
                "--website-url https://<your site> --use-case-description '<how you collect addresses "
                "and handle bounces and complaints>'",
            ),
        )
    elif account.enforcement_status == "PROBATION":
        access = Check(
            "ses.account",
            Status.WARN,
            f"production access, but the account is under review (PROBATION) in {target.region}",
            "bring the bounce rate under 5% and complaints under 0.1%: this service suppresses both",
        )
    else:
        access = Check("ses.account", Status.PASS, f"production access in {target.region}")
    return [access, check_quota(target, account)]


def check_quota(target: Target, account: AccountFacts) -> Check:
    if account.max_24_hour_send <= 0:
        return Check(
            "ses.quota", Status.PASS, f"no 24-hour limit; at most {account.max_send_rate:g} per second"
        )
    detail = (
        f"{account.sent_last_24_hours:.0f} of {account.max_24_hour_send:.0f} messages sent in the last "
        f"24 hours; at most {account.max_send_rate:g} per second"
    )
    if account.sent_last_24_hours >= QUOTA_WARNING_SHARE * account.max_24_hour_send:
        return Check(
            "ses.quota",
            Status.WARN,
            detail,
            f"ask for a higher sending quota: Service Quotas console, Amazon SES, {target.region}",
        )
    return Check("ses.quota", Status.PASS, detail)
