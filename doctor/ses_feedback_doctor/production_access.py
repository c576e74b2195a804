"""Leaving the SES sandbox: is the stack ready (doctor's checks), and the use-case description
AWS asks for, written from the stack's real settings rather than by hand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ses_feedback.settings import Settings

from ses_feedback_doctor.model import Check, Status

# What AWS looks for before granting production access, and the doctor check that shows it.
READINESS = (
    ("ses.identity", "the sending domain is verified"),
    ("ses.dkim", "Easy DKIM signs its mail"),
    ("ses.mail_from", "a custom MAIL FROM domain is in use"),
    ("dns.dmarc", "a DMARC record is published"),
    ("ses.event_destination", "bounces and complaints reach the feedback stack"),
)
MAIL_TYPES = ("TRANSACTIONAL", "MARKETING")


@dataclass(frozen=True)
class ReadinessItem:
    check_id: str
    what: str
    ready: bool
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check_id,
            "what": self.what,
            "ready": self.ready,
            "detail": self.detail,
            "fix": self.fix,
        }


def readiness(checks: list[Check], suppression: Check) -> list[ReadinessItem]:
    """Each requirement with its doctor check; a missing or non-PASS check is not ready."""
    by_id = {check.id: check for check in checks}
    items = []
    for check_id, what in (*READINESS, (suppression.id, "the suppression list is in place")):
        check = suppression if check_id == suppression.id else by_id.get(check_id)
        if check is None:
            items.append(ReadinessItem(check_id, what, False, "not checked"))
        else:
            items.append(ReadinessItem(check_id, what, check.status is Status.PASS, check.detail, check.fix))
    return items


@dataclass(frozen=True)
class StackFacts:
    """What the description states, each from the deployed stack or DNS, never typed in."""

    domain: str
    mail_from_domain: str
    settings: Settings  # FeedbackFunction's environment: the policy numbers in force
    configuration_set: str | None
    dmarc_policy: str | None
    bounce_warning: float | None
    complaint_warning: float | None
    receives_dmarc_reports: bool


def use_case_description(facts: StackFacts, mail_type: str, website_url: str) -> str:
    policy = facts.settings.policy
    window = policy.soft_bounce_window.days
    soft_days = policy.soft_bounce_suppression.days
    kind = "transactional" if mail_type == "TRANSACTIONAL" else "marketing"
    lines = [
        f"We send {kind} email from {facts.domain} ({website_url}) through Amazon SES, only to people "
        "who gave us their address for that purpose.",
        "Bounces and complaints: every message is sent with the configuration set "
        f"{facts.configuration_set or '(the identity default)'}, which publishes bounce, complaint "
        "and delivery events to Amazon SNS and SQS; a Lambda function records each one in a DynamoDB "
        "suppression list. "
        "A permanent bounce or a complaint suppresses the address at once and for good; "
        f"{policy.soft_bounce_threshold} transient bounces within {window} days suppress it "
        f"for {soft_days} days. "
        "Our sender checks that list before every SES call and never mails a suppressed address.",
    ]
    if facts.bounce_warning is not None and facts.complaint_warning is not None:
        guard = (
            " While either alarm fires, a sending guard holds back all mail not marked transactional."
            if facts.settings.sending_guard
            else ""
        )
        lines.append(
            f"Monitoring: CloudWatch alarms warn us at a {facts.bounce_warning:.1%} bounce rate and a "
            f"{facts.complaint_warning:.2%} complaint rate, below the levels at which AWS reviews an account."
            + guard
        )
    lines.append(
        "Unsubscribe and removal requests: the address is added to the same suppression list (by hand, or "
        "imported from our other systems) and is never mailed again."
    )
    dmarc = f"DMARC p={facts.dmarc_policy}" if facts.dmarc_policy else "DMARC"
    reports = (
        ", and we read the DMARC aggregate reports it receives to find any source that fails"
        if facts.receives_dmarc_reports
        else ""
    )
    lines.append(
        f"Authentication: SPF aligns through the custom MAIL FROM domain {facts.mail_from_domain}, Easy DKIM "
        f"signs with d={facts.domain}, and {dmarc} is published{reports}."
    )
    return "\n\n".join(lines)
