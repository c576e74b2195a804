"""The DMARC summary and verdict: pure, reports in, a summary out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ses_feedback.model.dmarc import DmarcRecord, DmarcReport
from ses_feedback.rules.dmarc import OwnSending, summarize

from tests.support import dmarc_reports as build
from tests.support.dmarc_reports import record

OWN = OwnSending(domain="example.com", mail_from_domain="mail.example.com")
DAY = datetime(2026, 11, 1, tzinfo=UTC)


def report(day: int, *records: DmarcRecord, reporter: str = "google.com") -> DmarcReport:
    return build.report(DAY + timedelta(days=day), *records, reporter=reporter)


def test_totals_sources_and_daily_rates_add_up() -> None:
    # Given two reporters on two days, one source seen by both
    reports = [
        report(
            0, record("192.0.2.1", 10), record("203.0.113.9", 3, dkim="fail", dkim_domain="forger.example")
        ),
        report(1, record("192.0.2.1", 5), reporter="yahoo.com"),
    ]

    summary = summarize("Example.com", reports, OWN)

    assert (summary.domain, summary.reports, summary.messages, summary.passed) == ("example.com", 2, 18, 15)
    assert [(d.day.isoformat(), d.messages, d.passed) for d in summary.daily] == [
        ("2026-11-01", 13, 10),
        ("2026-11-02", 5, 5),
    ]
    failing, ours = summary.sources  # most failed messages first
    assert failing.as_dict() == {
        "source_ip": "203.0.113.9",
        "messages": 3,
        "passed": 0,
        "failed": 3,
        "passes": False,
        "own": False,
        "spf_domains": ["mail.example.com"],
        "dkim_domains": ["forger.example"],
        "reporters": ["google.com"],
    }
    assert (ours.source_ip, ours.own, ours.reporters) == ("192.0.2.1", True, {"google.com", "yahoo.com"})


def test_own_sending_is_spf_through_the_mail_from_domain_or_dkim_by_the_domain() -> None:
    by_spf = record("192.0.2.1", 1, dkim="fail", dkim_domain="other.example", spf="pass", spf_result="pass")
    by_dkim = record("192.0.2.2", 1)
    neither = record("192.0.2.3", 1, dkim="fail", spf_domain="mail.example.com", spf_result="fail")

    sources = {
        s.source_ip: s.own
        for s in summarize("example.com", [report(0, by_spf, by_dkim, neither)], OWN).sources
    }

    assert sources == {"192.0.2.1": True, "192.0.2.2": True, "192.0.2.3": False}


def _days(count: int, passing: int, failing: int, failing_ip: str = "203.0.113.9") -> list[DmarcReport]:
    reports = []
    for day in range(count):
        records = [record("192.0.2.1", passing)]
        if failing:
            records.append(record(failing_ip, failing, dkim="fail", dkim_domain="crm.example"))
        reports.append(report(day, *records))
    return reports


@pytest.mark.parametrize(
    ("reports", "policy", "reason"),
    [
        ([], "none", "not enough data yet: 0 message(s) on 0 day(s)"),
        (_days(3, 1000, 0), "none", "not enough data yet: 3000 message(s) on 3 day(s)"),
        (_days(7, 10, 0), "none", "not enough data yet: 70 message(s) on 7 day(s)"),
        (_days(7, 1000, 0), "quarantine", "100.0% of mail passes on 7 days of reports"),
        (_days(14, 1000, 5), "reject", "99.5% of mail passes on 14 days of reports"),
        (_days(14, 1000, 30), "quarantine", "97.1% of mail passes on 14 days of reports"),
        (_days(14, 1000, 100), "none", "only 90.9% of mail passes (want 95%)"),
    ],
)
def test_the_verdict_follows_the_pass_rate_and_the_days_of_data(
    reports: list[DmarcReport], policy: str, reason: str
) -> None:
    verdict = summarize("example.com", reports, OWN).verdict

    assert verdict.policy == policy
    assert verdict.reason.startswith(reason)


def test_own_sending_that_fails_holds_the_policy_at_none_and_is_fixed_first() -> None:
    # Given plenty of passing mail, and our own MAIL FROM with SPF pass but DKIM and alignment failing
    reports = _days(14, 10_000, 0)
    broken_own = record(
        "192.0.2.50", 1, dkim="fail", dkim_domain="example.com", spf="fail", spf_result="pass"
    )
    reports.append(report(20, broken_own))

    verdict = summarize("example.com", reports, OWN).verdict

    assert verdict.policy == "none"
    assert "this stack's own sending failed DMARC for 1 message(s) from 1 source(s)" in verdict.reason
    assert verdict.fix_first == ("192.0.2.50",)


def test_failing_sources_are_listed_most_failed_first() -> None:
    reports = _days(14, 100, 1, failing_ip="198.51.100.1") + _days(14, 0, 9, failing_ip="198.51.100.2")

    assert summarize("example.com", reports, OWN).verdict.fix_first == ("198.51.100.2", "198.51.100.1")
