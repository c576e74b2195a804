"""Fetch the facts (SES unless --dns-only, then DNS) and run every check over them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ses_feedback import wiring
from ses_feedback.errors import AwsCallFailed

from ses_feedback_doctor.dns_checks import dns_checks
from ses_feedback_doctor.dns_lookup import DnsLookup
from ses_feedback_doctor.model import Check, SesFacts, Status, Target
from ses_feedback_doctor.ses_checks import ses_checks
from ses_feedback_doctor.ses_gateway import SesGateway

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TOKEN = re.compile(r"^[a-z0-9]{16,64}$")


class BadDoctorInput(ValueError):
    """An argument the doctor cannot work with; the message names it."""


def normalize_domain(text: str, field: str = "DOMAIN") -> str:
    """Lower case, no final dot, IDNA (xn--) form; at least two valid labels."""
    name = text.strip().rstrip(".").lower()
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise BadDoctorInput(f"{field} {text!r} is not a domain name") from exc
    labels = name.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise BadDoctorInput(f"{field} {text!r} is not a domain name")
    return name


def normalize_token(text: str) -> str:
    token = text.strip().lower().split("._domainkey", 1)[0]
    if not _TOKEN.match(token):
        raise BadDoctorInput(f"--dkim-token {text!r} is not an SES DKIM token (16-64 letters and digits)")
    return token


def mail_from_domain(domain: str, given: str | None) -> str:
    """--mail-from takes the subdomain label (``mail``) or the whole name (``mail.example.com``)."""
    if not given:
        return f"mail.{domain}"
    name = normalize_domain(
        given if "." in given.strip(".") else f"{given.strip('.')}.{domain}", "--mail-from"
    )
    return name if name.endswith("." + domain) else f"{name}.{domain}"


@dataclass(frozen=True)
class DoctorRequest:
    domain: str
    region: str
    dns_only: bool = False
    dkim_tokens: tuple[str, ...] = ()
    mail_from: str | None = None  # as given on the command line
    configuration_set: str | None = None
    topic_arn: str | None = None
    dmarc_table: str | None = None  # where the stack stores DMARC reports (dmarc.reports check)


def diagnose(request: DoctorRequest, dns: DnsLookup, ses: SesGateway | None = None) -> list[Check]:
    checks: list[Check] = []
    ses_facts: SesFacts | None = None
    if not request.dns_only:
        gateway = ses or SesGateway(wiring.ses_setup_for(request.region))
        try:
            ses_facts = gateway.facts(request.domain, request.configuration_set)
        except AwsCallFailed as exc:  # SES not reached (no credentials, no network): the DNS checks still run
            checks.append(
                Check(
                    "ses.api",
                    Status.FAIL,
                    f"could not reach SES in {request.region}: {exc}",
                    "configure AWS credentials for the account that sends, or run with --dns-only",
                )
            )
    identity = ses_facts.identity if ses_facts else None
    if request.mail_from or identity is None or not identity.mail_from_domain:
        mail_from = mail_from_domain(request.domain, request.mail_from)
    else:
        mail_from = identity.mail_from_domain.lower().rstrip(".")
    target = Target(
        domain=request.domain,
        region=request.region,
        mail_from_domain=mail_from,
        dkim_tokens=request.dkim_tokens or (identity.dkim_tokens if identity else ()),
        topic_arn=request.topic_arn,
    )
    if ses_facts is not None:
        checks += ses_checks(target, ses_facts)
    checks += dns_checks(
        target, dns.facts(target.domain, target.mail_from_domain, target.dkim_tokens), ses_facts
    )
    if request.dmarc_table:
        from ses_feedback_doctor.reports import dmarc_reports_check

        checks.append(dmarc_reports_check(target, request.dmarc_table, datetime.now(UTC)))
    return checks
