"""Every region a deployment sends from: each one's checks, and one verdict.

SES is regional: a domain verified in us-east-1 is unverified in eu-west-1, each region has its
own Easy DKIM tokens, its own MAIL FROM status (and MX host) and its own sandbox. So the doctor
runs all of its checks in each region and says which regions are ready.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ses_feedback_doctor.model import Check, Status, failed


@dataclass(frozen=True)
class RegionReport:
    region: str
    checks: list[Check]

    @property
    def ready(self) -> bool:
        return not failed(self.checks)

    def count(self, status: Status) -> int:
        return sum(1 for check in self.checks if check.status is status)


def check_regions(regions: tuple[str, ...], check: Callable[[str], list[Check]]) -> list[RegionReport]:
    """``check`` (every check of one region) run for each region, in order."""
    return [RegionReport(region, check(region)) for region in regions]


def verdict(reports: list[RegionReport]) -> str:
    """One line for the whole deployment: ready everywhere, or which regions are not and why."""
    names = ", ".join(report.region for report in reports)
    not_ready = [report for report in reports if not report.ready]
    if not not_ready:
        return f"ready to send in every region ({names})"
    reasons = "; ".join(
        f"{report.region}: "
        + ", ".join(
            f"{report.count(status)} {status.value}"
            for status in (Status.FAIL, Status.UNKNOWN)
            if report.count(status)
        )
        for report in not_ready
    )
    return f"not ready in {len(not_ready)} of {len(reports)} regions ({reasons})"
