"""Every region a deployment sends from: which they are, each one's checks, and one verdict.

SES is regional: a domain verified in us-east-1 is unverified in eu-west-1, each region has its
own Easy DKIM tokens, its own MAIL FROM status (and MX host) and its own sandbox. So the doctor
runs all of its checks in each region and says which regions are ready.

The regions of a deployment are the home stack's (``HomeRegion`` empty) own region and its
``ReplicaRegions`` (docs/deploy.md). Asked in a replica region, the stack names its home, and
the home's stack (of the same name) lists the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ses_feedback import wiring

from ses_feedback_doctor.model import Check, Status, failed


class NoSuchStack(LookupError):
    """The stack is not deployed in the region asked; the message names both."""


def split_regions(text: str) -> tuple[str, ...]:
    """``ReplicaRegions`` as the template takes it: names separated by commas, empty allowed."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def deployment_regions(stack_name: str, region: str) -> tuple[str, ...]:
    """The home region first, then each replica region, read from the deployed stacks."""
    described = wiring.stacks_for(region).describe(stack_name)
    if described is None:
        raise NoSuchStack(f"--stack-name {stack_name}: no such stack in {region} (--region)")
    home = described.parameters.get("HomeRegion") or region
    replicas = split_regions(described.parameters.get("ReplicaRegions", ""))
    if home != region:
        # A replica-region stack: the home's parameters are the list's source of truth.
        home_stack = wiring.stacks_for(home).describe(stack_name)
        if home_stack is None:
            raise NoSuchStack(f"--stack-name {stack_name}: its home region {home} has no stack of that name")
        replicas = split_regions(home_stack.parameters.get("ReplicaRegions", ""))
    return (home, *[name for name in replicas if name != home])


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
