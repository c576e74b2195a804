"""The doctor's checks: pure functions from fetched facts to PASS / WARN / FAIL and the fix.

The order is the order that matters for production mail: the SES side (identity, DKIM,
MAIL FROM, configuration set, account), then DNS (DKIM records, MAIL FROM MX and SPF,
DMARC), then alignment, and last the verdict: will mail from the domain pass DMARC?
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ses_feedback_cli.doctor import dmarc, spf
from ses_feedback_cli.doctor.model import (
    AccountFacts,
    Check,
    ConfigurationSetFacts,
    DnsFacts,
    IdentityFacts,
    Lookup,
    SesFacts,
    Status,
    record,
)

SPF_FOR_SES = '"v=spf1 include:amazonses.com ~all"'
FEEDBACK_TYPES = frozenset({"BOUNCE", "COMPLAINT"})
QUOTA_WARNING_SHARE = 0.8


@dataclass(frozen=True)
class Target:
    """What is being checked: the From domain, its MAIL FROM domain, region and DKIM tokens."""

    domain: str
    region: str
    mail_from_domain: str
    dkim_tokens: tuple[str, ...] = ()
    topic_arn: str | None = None  # the feedback topic the event destination must reach, when known


def feedback_endpoint(region: str) -> str:
    return f"feedback-smtp.{region}.amazonses.com"


def dkim_record(token: str, domain: str) -> str:
    return record(f"{token}._domainkey.{domain}", "CNAME", f"{token}.dkim.amazonses.com")


def mail_from_mx_record(target: Target) -> str:
    return record(target.mail_from_domain, "MX", f"10 {feedback_endpoint(target.region)}")


def suggested_dmarc_record(domain: str) -> str:
    return record(f"_dmarc.{domain}", "TXT", f'"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"')


def _aws(target: Target, command: str) -> str:
    return f"aws sesv2 {command} --region {target.region}"


# ---- SES --------------------------------------------------------------------------------


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


# ---- DNS --------------------------------------------------------------------------------


def _failed_query(check_id: str, name: str, lookup: Lookup, fix: str) -> Check:
    return Check(check_id, Status.FAIL, f"could not query {name}: {lookup.error}", fix)


def check_dkim_records(target: Target, dns_facts: DnsFacts) -> list[Check]:
    if not target.dkim_tokens:
        return [
            Check(
                "dns.dkim",
                Status.WARN,
                "the DKIM tokens are unknown, so the three DKIM CNAMEs were not checked",
                f"pass the tokens SES gave (aws sesv2 get-email-identity --email-identity {target.domain}: "
                "DkimAttributes.Tokens) with --dkim-token three times, or run without --dns-only",
            )
        ]
    checks = []
    for index, token in enumerate(target.dkim_tokens, start=1):
        check_id = f"dns.dkim.{index}"
        name = f"{token}._domainkey.{target.domain}"
        expected = f"{token}.dkim.amazonses.com"
        wanted = dkim_record(token, target.domain)
        lookup = dns_facts.dkim.get(token, Lookup(error="not queried"))
        if lookup.error:
            checks.append(_failed_query(check_id, name, lookup, "publish " + wanted))
        elif expected in lookup.records:
            checks.append(Check(check_id, Status.PASS, f"{name} CNAME {expected}"))
        elif not lookup.records:
            checks.append(Check(check_id, Status.FAIL, f"no CNAME at {name}", "publish " + wanted))
        else:
            checks.append(
                Check(
                    check_id,
                    Status.FAIL,
                    f"{name} points to {lookup.records[0]}, not {expected}",
                    "change the record to " + wanted,
                )
            )
    return checks


def check_mail_from_mx(target: Target, dns_facts: DnsFacts) -> Check:
    wanted = mail_from_mx_record(target)
    endpoint = feedback_endpoint(target.region)
    lookup = dns_facts.mail_from_mx
    if lookup.error:
        return _failed_query("dns.mail_from.mx", f"MX {target.mail_from_domain}", lookup, "publish " + wanted)
    hosts = [entry.split()[-1] for entry in lookup.records]
    if endpoint in hosts:
        others = [host for host in hosts if host != endpoint]
        if others:
            return Check(
                "dns.mail_from.mx",
                Status.WARN,
                f"{target.mail_from_domain} has the MX {endpoint} and also {', '.join(others)}: "
                "bounces may go there instead of to SES",
                f"keep only {wanted}",
            )
        return Check("dns.mail_from.mx", Status.PASS, f"{target.mail_from_domain} MX {lookup.records[0]}")
    other_region = next(
        (h for h in hosts if re.fullmatch(r"feedback-smtp\.[a-z0-9-]+\.amazonses\.com", h)), None
    )
    if other_region:
        return Check(
            "dns.mail_from.mx",
            Status.FAIL,
            f"{target.mail_from_domain} MX points to {other_region}, not this region's {endpoint}",
            "change the record to " + wanted,
        )
    return Check(
        "dns.mail_from.mx",
        Status.FAIL,
        f"no MX {endpoint} at {target.mail_from_domain}: SES cannot use it as MAIL FROM",
        "publish " + wanted,
    )


def check_mail_from_spf(target: Target, dns_facts: DnsFacts) -> Check:
    name = target.mail_from_domain
    minimal = record(name, "TXT", SPF_FOR_SES)
    lookup = dns_facts.mail_from_txt
    if lookup.error:
        return _failed_query("dns.mail_from.spf", f"TXT {name}", lookup, "publish " + minimal)
    found = spf.spf_records(lookup)
    if not found:
        return Check(
            "dns.mail_from.spf",
            Status.FAIL,
            f"no SPF record at {name}: mail SES sends fails SPF",
            "publish " + minimal,
        )
    if len(found) > 1:
        return Check(
            "dns.mail_from.spf",
            Status.FAIL,
            f"{len(found)} SPF records at {name}: receivers return permerror, so SPF fails",
            f"replace them with one record: {minimal}",
        )
    try:
        parsed = spf.parse(found[0])
    except spf.SpfSyntaxError as exc:
        return Check(
            "dns.mail_from.spf", Status.FAIL, f"invalid SPF at {name}: {exc}", "replace it with " + minimal
        )
    evaluation = spf.evaluate(parsed, dns_facts.spf_targets)
    problems = list(evaluation.problems)
    if not evaluation.includes_amazonses:
        problems.append("it does not include amazonses.com, so mail SES sends fails SPF")
    if parsed.all_qualifier == "+":
        problems.append("+all lets anyone pass SPF for the domain")
    if evaluation.lookups > spf.LOOKUP_LIMIT:
        problems.append(
            f"it needs {evaluation.lookups} DNS look-ups (limit {spf.LOOKUP_LIMIT}): "
            "receivers return permerror"
        )
    if not problems:
        return Check(
            "dns.mail_from.spf",
            Status.PASS,
            f"{name} TXT {found[0]} ({evaluation.lookups} of {spf.LOOKUP_LIMIT} DNS look-ups)",
        )
    return Check(
        "dns.mail_from.spf",
        Status.FAIL,
        f"SPF at {name} ({found[0]}): " + "; ".join(problems),
        f"replace it with {minimal} (the MAIL FROM subdomain only sends through SES)",
    )


def _one_dmarc(lookup: Lookup) -> str | None:
    found = [text for text in lookup.records if dmarc.is_dmarc(text)]
    return found[0] if len(found) == 1 else None


def inherited_dmarc(dns_facts: DnsFacts) -> tuple[str, str] | None:
    """(parent, record) of the nearest parent's DMARC record, for a domain without its own."""
    for parent, lookup in dns_facts.dmarc_parents.items():
        if any(dmarc.is_dmarc(text) for text in lookup.records):
            text = _one_dmarc(lookup)
            return (parent, text) if text else None
    return None


def dmarc_record(dns_facts: DnsFacts) -> dmarc.DmarcRecord | None:
    """The record that applies to the domain: its own, else the nearest parent's."""
    text = _one_dmarc(dns_facts.dmarc_txt)
    if text is None and not any(dmarc.is_dmarc(t) for t in dns_facts.dmarc_txt.records):
        inherited = inherited_dmarc(dns_facts)
        text = inherited[1] if inherited else None
    if text is None:
        return None
    try:
        return dmarc.parse(text)
    except dmarc.DmarcSyntaxError:
        return None


def check_dmarc(target: Target, dns_facts: DnsFacts) -> Check:
    name = f"_dmarc.{target.domain}"
    wanted = suggested_dmarc_record(target.domain)
    lookup = dns_facts.dmarc_txt
    if lookup.error:
        return _failed_query("dns.dmarc", f"TXT {name}", lookup, "publish " + wanted)
    found = [text for text in lookup.records if dmarc.is_dmarc(text)]
    inherited = inherited_dmarc(dns_facts) if not found else None
    if inherited:
        return check_inherited_dmarc(name, *inherited)
    if not found:
        return Check(
            "dns.dmarc",
            Status.FAIL,
            f"no DMARC record at {name}: receivers apply no policy, and the big mailbox providers "
            "want one from bulk senders",
            f"publish {wanted}, read the reports, then move to p=quarantine or p=reject",
        )
    if len(found) > 1:
        return Check(
            "dns.dmarc",
            Status.FAIL,
            f"{len(found)} DMARC records at {name}: receivers ignore them all",
            "keep exactly one, e.g. " + wanted,
        )
    try:
        parsed = dmarc.parse(found[0])
    except dmarc.DmarcSyntaxError as exc:
        return Check(
            "dns.dmarc", Status.FAIL, f"invalid DMARC record at {name}: {exc}", "replace it with " + wanted
        )
    notes = [f"policy p={parsed.policy}"]
    if parsed.policy == "none":
        notes.append("monitoring only: receivers take no action on failing mail")
    if parsed.percent < 100:
        notes.append(f"applied to {parsed.percent}% of failing mail")
    if not parsed.report_addresses:
        notes.append("no rua=, so no aggregate reports")
    return Check("dns.dmarc", Status.PASS, f"{name} TXT {found[0]}: " + "; ".join(notes))


def check_inherited_dmarc(name: str, parent: str, text: str) -> Check:
    parent_name = f"_dmarc.{parent}"
    try:
        parsed = dmarc.parse(text)
    except dmarc.DmarcSyntaxError as exc:
        return Check(
            "dns.dmarc",
            Status.FAIL,
            f"no record at {name}, and the one at {parent_name} that would apply is invalid: {exc}",
            f"fix {parent_name}, or publish {suggested_dmarc_record(name.removeprefix('_dmarc.'))}",
        )
    policy = parsed.subdomain_policy or parsed.policy
    return Check(
        "dns.dmarc",
        Status.PASS,
        f"no record at {name}; {parent_name} TXT {text} applies to it: policy "
        + (f"sp={policy}" if parsed.subdomain_policy else f"p={policy}"),
    )


# ---- alignment and the verdict -----------------------------------------------------------


def check_spf_alignment(
    target: Target, record_: dmarc.DmarcRecord | None, mx: Check, spf_check: Check, ses: SesFacts | None
) -> Check:
    mode = record_.spf_alignment if record_ else "r"
    identity = ses.identity if ses else None
    if identity is not None and not identity.mail_from_domain:
        return Check(
            "alignment.spf",
            Status.FAIL,
            "SES sends with an amazonses.com MAIL FROM: SPF passes for amazonses.com, which does not "
            f"align with {target.domain}",
            "set a custom MAIL FROM (see ses.mail_from)",
        )
    if not dmarc.aligned(target.mail_from_domain, target.domain, mode):
        fix = (
            f"drop aspf=s from _dmarc.{target.domain}: SES's MAIL FROM is always a subdomain"
            if mode == "s"
            else f"use a MAIL FROM that is a subdomain of {target.domain}"
        )
        return Check(
            "alignment.spf",
            Status.FAIL,
            f"MAIL FROM {target.mail_from_domain} does not align with {target.domain} "
            f"({'strict' if mode == 's' else 'relaxed'} alignment)",
            fix,
        )
    if mx.status is Status.FAIL:
        return Check(
            "alignment.spf",
            Status.FAIL,
            f"without the MX at {target.mail_from_domain}, SES sends with an amazonses.com MAIL FROM "
            "(or refuses to send), so SPF does not align",
            mx.fix,
        )
    if identity is not None and identity.mail_from_status != "SUCCESS":
        return Check(
            "alignment.spf",
            Status.FAIL,
            f"SES does not use {target.mail_from_domain} yet (MAIL FROM status "
            f"{identity.mail_from_status or 'PENDING'})",
            "see ses.mail_from",
        )
    if spf_check.status is Status.FAIL:
        return Check("alignment.spf", Status.FAIL, f"SPF fails for {target.mail_from_domain}", spf_check.fix)
    return Check(
        "alignment.spf",
        Status.PASS,
        f"SPF passes for MAIL FROM {target.mail_from_domain}, aligned with {target.domain} "
        f"({'strict' if mode == 's' else 'relaxed'})",
    )


def check_dkim_alignment(target: Target, dkim_checks: list[Check], ses: SesFacts | None) -> Check:
    identity = ses.identity if ses else None
    if identity is not None and (not identity.dkim_signing_enabled or identity.dkim_status != "SUCCESS"):
        return Check(
            "alignment.dkim",
            Status.FAIL,
            f"SES does not sign with d={target.domain} yet "
            f"(DKIM status {identity.dkim_status or 'NOT_STARTED'})",
            "see ses.dkim",
        )
    broken = next((c for c in dkim_checks if c.status is Status.FAIL), None)
    if broken:
        return Check(
            "alignment.dkim",
            Status.FAIL,
            f"receivers cannot verify the d={target.domain} signature: {broken.detail}",
            broken.fix,
        )
    unknown = next((c for c in dkim_checks if c.status is Status.WARN), None)
    if unknown:
        return Check(
            "alignment.dkim",
            Status.WARN,
            "DKIM alignment unknown: the DKIM records were not checked",
            unknown.fix,
        )
    return Check(
        "alignment.dkim",
        Status.PASS,
        f"Easy DKIM signs with d={target.domain}, the From domain itself: aligned",
    )


def verdict(target: Target, dmarc_check: Check, spf_alignment: Check, dkim_alignment: Check) -> Check:
    if dmarc_check.status is Status.FAIL:
        return Check(
            "dmarc.verdict",
            Status.FAIL,
            f"mail from {target.domain} has no DMARC policy to pass",
            dmarc_check.fix,
        )
    spf_ok = spf_alignment.status is Status.PASS
    dkim_ok = dkim_alignment.status is Status.PASS
    if spf_ok and dkim_ok:
        return Check(
            "dmarc.verdict",
            Status.PASS,
            f"mail from {target.domain} passes DMARC through SPF (MAIL FROM {target.mail_from_domain}) "
            f"and DKIM (d={target.domain})",
        )
    if dkim_ok:
        return Check(
            "dmarc.verdict",
            Status.PASS,
            f"mail from {target.domain} passes DMARC through DKIM; SPF does not align (see alignment.spf)",
        )
    if spf_ok:
        return Check(
            "dmarc.verdict",
            Status.WARN,
            f"mail from {target.domain} passes DMARC through SPF alone: forwarded mail loses SPF and fails",
            dkim_alignment.fix,
        )
    return Check(
        "dmarc.verdict",
        Status.FAIL,
        f"mail from {target.domain} fails DMARC: neither SPF nor DKIM aligns",
        dkim_alignment.fix or spf_alignment.fix,
    )


def dns_checks(target: Target, dns_facts: DnsFacts, ses: SesFacts | None) -> list[Check]:
    dkim_checks = check_dkim_records(target, dns_facts)
    mx = check_mail_from_mx(target, dns_facts)
    spf_check = check_mail_from_spf(target, dns_facts)
    dmarc_check = check_dmarc(target, dns_facts)
    spf_alignment = check_spf_alignment(target, dmarc_record(dns_facts), mx, spf_check, ses)
    dkim_alignment = check_dkim_alignment(target, dkim_checks, ses)
    return [
        *dkim_checks,
        mx,
        spf_check,
        dmarc_check,
        spf_alignment,
        dkim_alignment,
        verdict(target, dmarc_check, spf_alignment, dkim_alignment),
    ]


def failed(checks: list[Check]) -> bool:
    return any(check.status is Status.FAIL for check in checks)
