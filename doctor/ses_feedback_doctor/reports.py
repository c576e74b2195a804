"""The `dmarc.reports` check: are DMARC aggregate reports arriving, and what do they say?"""

from __future__ import annotations

from datetime import datetime, timedelta

from ses_feedback import wiring
from ses_feedback.errors import AwsCallFailed
from ses_feedback.rules.dmarc import DmarcSummary, OwnSending

from ses_feedback_doctor.model import Check, Status, Target

WINDOW = timedelta(days=30)
# Reporters send daily; a few quiet days are normal for a small sender, a week is not.
STALE_AFTER = timedelta(days=7)


def check_dmarc_reports(
    target: Target, summary: DmarcSummary, last_stored_at: datetime | None, now: datetime
) -> Check:
    if summary.reports == 0 or last_stored_at is None:
        return Check(
            "dmarc.reports",
            Status.WARN,
            f"no DMARC aggregate report about {target.domain} stored in the last {WINDOW.days} days",
            "deploy with ReceiveDmarcReports=true (the DMARC record's rua then names the stack's report "
            "address) and publish the reports subdomain's MX (see the DnsDmarcReportsMxRecord output)",
        )
    age = now - last_stored_at
    rate = f"{summary.pass_rate:.1%}" if summary.pass_rate is not None else "-"
    verdict = summary.verdict
    detail = (
        f"{summary.reports} report(s) in {WINDOW.days} days, the last stored {_age(age)} ago; "
        f"{summary.messages} message(s), {rate} passed DMARC; the data supports p={verdict.policy} "
        f"({verdict.reason}); published p={summary.published_policy}"
    )
    if age > STALE_AFTER:
        return Check(
            "dmarc.reports",
            Status.WARN,
            detail,
            "reports stopped arriving: check the receipt rule and the reports subdomain's MX",
        )
    fix = f"fix these sources first: {', '.join(verdict.fix_first)}" if verdict.fix_first else None
    if fix is None and verdict.policy != summary.published_policy:
        fix = f"move the DMARC record to p={verdict.policy}"
    return Check("dmarc.reports", Status.PASS, detail, fix)


def _age(age: timedelta) -> str:
    hours = int(age.total_seconds() // 3600)
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def dmarc_reports_check(target: Target, table: str, now: datetime) -> Check:
    """Read the table (one Query per page) and judge it; a table that cannot be read is UNKNOWN."""
    reports = wiring.dmarc_reports_for(table)
    own = OwnSending(domain=target.domain, mail_from_domain=target.mail_from_domain)
    try:
        summary = reports.summary(target.domain, own, since=now - WINDOW)
        last = reports.last_stored_at(target.domain)
    except AwsCallFailed as exc:
        return Check(
            "dmarc.reports",
            Status.UNKNOWN,
            f"could not check: the report table {table} could not be read: {exc}",
            "pass --dmarc-table with the stack's DmarcReportTableName output, "
            "with credentials that may read it",
        )
    return check_dmarc_reports(target, summary, last, now)
