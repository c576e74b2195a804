"""The DNS checks: pure functions from DNS facts (and SES facts, when there are any) to
PASS / WARN / FAIL and the fix.

The DKIM records, the MAIL FROM MX and SPF, DMARC; then alignment, and last the verdict:
will mail from the domain pass DMARC?
"""

from __future__ import annotations

import re

from ses_feedback_doctor import dmarc, spf
from ses_feedback_doctor.model import Check, DnsFacts, Lookup, SesFacts, Status, Target, record
from ses_feedback_doctor.records import (
    SPF_FOR_SES,
    dkim_record,
    feedback_endpoint,
    mail_from_mx_record,
    suggested_dmarc_record,
)

UNREACHABLE_FIX = (
    "check that the DNS server answers (the --nameserver given, else the system's resolver), "
    "then run doctor again"
)


def _failed_query(check_id: str, name: str, lookup: Lookup, fix: str) -> Check:
    """The query failed: nothing is known about the record, so the doctor says it could not check."""
    return Check(
        check_id, Status.UNKNOWN, f"could not check: query {name} failed: {lookup.error}", UNREACHABLE_FIX
    )


def _unknown_from(check_id: str, causes: list[Check], what: str) -> Check | None:
    """UNKNOWN when a check this one depends on could not be checked."""
    unknown = [c.id for c in causes if c.status is Status.UNKNOWN]
    if not unknown:
        return None
    return Check(
        check_id,
        Status.UNKNOWN,
        f"could not check {what}: {', '.join(unknown)} could not be checked",
        UNREACHABLE_FIX,
    )


def check_dkim_records(target: Target, dns_facts: DnsFacts, ses: SesFacts | None = None) -> list[Check]:
    identity = ses.identity if ses else None
    if not target.dkim_tokens and identity is not None and identity.dkim_origin == "EXTERNAL":
        return [
            Check(
                "dns.dkim",
                Status.PASS,
                "the identity signs with your own key (BYODKIM): there are no Easy DKIM CNAMEs, "
                "and SES checks the selector's TXT record itself (see ses.dkim)",
            )
        ]
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
            "dns.mail_from.spf",
            Status.FAIL,
            f"invalid SPF at {name}: {exc}",
            "replace the SPF record with " + minimal,
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
        f"replace the SPF record with {minimal} (the MAIL FROM subdomain only sends through SES)",
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
            "dns.dmarc",
            Status.FAIL,
            f"invalid DMARC record at {name}: {exc}",
            "replace the DMARC record with " + wanted,
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
    unknown = _unknown_from("alignment.spf", [mx, spf_check], "SPF alignment")
    if unknown:
        return unknown
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
    unknown = _unknown_from("alignment.dkim", dkim_checks, "DKIM alignment")
    if unknown:
        return unknown
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
    unknown = _unknown_from("dmarc.verdict", [dmarc_check], "whether mail passes DMARC")
    if unknown is None and Status.PASS not in (spf_alignment.status, dkim_alignment.status):
        unknown = _unknown_from("dmarc.verdict", [spf_alignment, dkim_alignment], "whether mail passes DMARC")
    if unknown:
        return unknown
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
    dkim_checks = check_dkim_records(target, dns_facts, ses)
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
