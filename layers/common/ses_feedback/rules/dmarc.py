"""What the DMARC reports say: totals, sources, the daily pass rate, and which policy the
data supports. Pure: reports and the stack's own domains in, a summary out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ses_feedback.model.dmarc import AuthResults, DmarcReport
from ses_feedback.model.moments import iso_z

# Enough data to judge: a week of reports and a hundred messages, at the least.
MIN_DAYS = 7
MIN_MESSAGES = 100
# The share of reported mail that must pass before enforcing: quarantine first, reject
# after two weeks of reports.
QUARANTINE_PASS_RATE = 0.95
REJECT_PASS_RATE = 0.99
REJECT_MIN_DAYS = 14
FIX_FIRST = 10


@dataclass(frozen=True)
class OwnSending:
    """How this stack's mail authenticates: SPF through the MAIL FROM subdomain, DKIM by the domain."""

    domain: str
    mail_from_domain: str


@dataclass
class SourceSummary:
    source_ip: str
    messages: int = 0
    passed: int = 0
    spf_domains: set[str] = field(default_factory=set)
    dkim_domains: set[str] = field(default_factory=set)
    reporters: set[str] = field(default_factory=set)
    own: bool = False

    @property
    def failed(self) -> int:
        return self.messages - self.passed

    @property
    def passes(self) -> bool:
        return self.failed == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source_ip": self.source_ip,
            "messages": self.messages,
            "passed": self.passed,
            "failed": self.failed,
            "passes": self.passes,
            "own": self.own,
            "spf_domains": sorted(self.spf_domains),
            "dkim_domains": sorted(self.dkim_domains),
            "reporters": sorted(self.reporters),
        }


@dataclass(frozen=True)
class Verdict:
    policy: str  # none, quarantine or reject: what the data supports now
    reason: str
    fix_first: tuple[str, ...]  # failing sources, most failed messages first

    def as_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "reason": self.reason, "fix_first": list(self.fix_first)}


@dataclass
class DailyRate:
    day: date
    messages: int = 0
    passed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "messages": self.messages, "passed": self.passed}


@dataclass
class DmarcSummary:
    domain: str
    reports: int
    messages: int
    passed: int
    sources: list[SourceSummary]
    daily: list[DailyRate]
    verdict: Verdict
    published_policy: str | None
    first_begin: datetime | None
    last_end: datetime | None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.messages if self.messages else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "reports": self.reports,
            "messages": self.messages,
            "passed": self.passed,
            "pass_rate": self.pass_rate,
            "published_policy": self.published_policy,
            "first_begin": iso_z(self.first_begin) if self.first_begin else None,
            "last_end": iso_z(self.last_end) if self.last_end else None,
            "verdict": self.verdict.as_dict(),
            "sources": [source.as_dict() for source in self.sources],
            "daily": [day.as_dict() for day in self.daily],
        }


def summarize(domain: str, reports: Iterable[DmarcReport], own: OwnSending) -> DmarcSummary:
    sources: dict[str, SourceSummary] = {}
    daily: dict[date, DailyRate] = {}
    count = messages = passed = 0
    first: datetime | None = None
    last: DmarcReport | None = None
    for report in reports:
        count += 1
        first = report.begin if first is None else min(first, report.begin)
        last = report if last is None or report.end >= last.end else last
        day = daily.setdefault(report.begin.date(), DailyRate(report.begin.date()))
        for record in report.records:
            source = sources.setdefault(record.source_ip, SourceSummary(record.source_ip))
            source.messages += record.count
            source.reporters.add(report.reporter)
            spf = {result.domain for result in record.auth_results.spf if result.domain}
            dkim = {result.domain for result in record.auth_results.dkim if result.domain}
            source.spf_domains |= spf
            source.dkim_domains |= dkim
            source.own = source.own or _is_own(record.auth_results, own)
            day.messages += record.count
            messages += record.count
            if record.passed:
                source.passed += record.count
                day.passed += record.count
                passed += record.count
    ordered = sorted(sources.values(), key=lambda s: (-s.failed, -s.messages, s.source_ip))
    return DmarcSummary(
        domain=domain.lower(),
        reports=count,
        messages=messages,
        passed=passed,
        sources=ordered,
        daily=[daily[day] for day in sorted(daily)],
        verdict=verdict(ordered, messages, len(daily)),
        published_policy=last.policy.p if last else None,
        first_begin=first,
        last_end=last.end if last else None,
    )


def _is_own(auth: AuthResults, own: OwnSending) -> bool:
    return any(r.domain == own.mail_from_domain and r.result == "pass" for r in auth.spf) or any(
        r.domain == own.domain and r.result == "pass" for r in auth.dkim
    )


def verdict(sources: list[SourceSummary], messages: int, days: int) -> Verdict:
    """Which DMARC policy the reports support now, and the failing sources to fix first.

    Conservative on purpose: a failing source nobody recognised may be a forgotten sender of
    yours (a CRM, a ticketing system) as easily as a forger, so enforcement waits until
    almost all mail passes; the list says which sources to authorise or rule out first.
    """
    failing = tuple(s.source_ip for s in sources if s.failed)[:FIX_FIRST]
    if messages < MIN_MESSAGES or days < MIN_DAYS:
        return Verdict(
            "none",
            f"not enough data yet: {messages} message(s) on {days} day(s) "
            f"(want {MIN_MESSAGES} on {MIN_DAYS})",
            failing,
        )
    own_failing = [s for s in sources if s.own and s.failed]
    if own_failing:
        failed = sum(s.failed for s in own_failing)
        return Verdict(
            "none",
            f"this stack's own sending failed DMARC for {failed} message(s) "
            f"from {len(own_failing)} source(s): fix them before anything else",
            tuple(s.source_ip for s in own_failing)[:FIX_FIRST],
        )
    rate = sum(s.passed for s in sources) / messages
    if rate >= REJECT_PASS_RATE and days >= REJECT_MIN_DAYS:
        return Verdict("reject", f"{rate:.1%} of mail passes on {days} days of reports", failing)
    if rate >= QUARANTINE_PASS_RATE:
        return Verdict("quarantine", f"{rate:.1%} of mail passes on {days} days of reports", failing)
    return Verdict(
        "none",
        f"only {rate:.1%} of mail passes (want {QUARANTINE_PASS_RATE:.0%}): authorise or rule out "
        "the failing sources first",
        failing,
    )
