"""What the suppression list says happened, and where the account stands with AWS. Pure.

``ses-feedback stats`` feeds this the store's history entries and the reputation rates it
read from CloudWatch; nothing here does I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from ses_feedback.model.state import HistoryEntry


class Standing(StrEnum):
    """A reputation rate against our warning level and AWS's review and pause lines."""

    HEALTHY = "healthy"
    WARNING = "warning"  # at or above our alarm's level, below AWS's review line
    REVIEW = "review"  # AWS may put the account under review
    PAUSE = "pause"  # AWS may pause the account's sending


def worst(standings: list[Standing | None]) -> Standing | None:
    """The worst of several regions' standings (each region's SES keeps its own reputation);
    None when no region has data."""
    known = [s for s in standings if s is not None]
    order = list(Standing)  # healthy, warning, review, pause: worse as it goes
    return max(known, key=order.index) if known else None


@dataclass(frozen=True)
class ReputationLines:
    """The lines AWS publishes for one rate (decimals 0-1, as CloudWatch reports them)."""

    metric: str
    review: float
    pause: float


BOUNCE_RATE = ReputationLines(metric="Reputation.BounceRate", review=0.05, pause=0.10)
COMPLAINT_RATE = ReputationLines(metric="Reputation.ComplaintRate", review=0.001, pause=0.005)


def standing(rate: float, lines: ReputationLines, warning: float) -> Standing:
    if rate >= lines.pause:
        return Standing.PAUSE
    if rate >= lines.review:
        return Standing.REVIEW
    if rate >= warning:
        return Standing.WARNING
    return Standing.HEALTHY


@dataclass
class HistoryCounts:
    """History entries counted by event type, by action, and by both."""

    total: int = 0
    by_event_type: Counter[str] = field(default_factory=Counter)
    by_action: Counter[str] = field(default_factory=Counter)
    by_event_type_and_action: dict[str, Counter[str]] = field(default_factory=dict)
    addresses: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "total": self.total,
            "addresses": self.addresses,
            "by_event_type": dict(sorted(self.by_event_type.items())),
            "by_action": dict(sorted(self.by_action.items())),
            "by_event_type_and_action": {
                kind: dict(sorted(actions.items()))
                for kind, actions in sorted(self.by_event_type_and_action.items())
            },
        }


def count_history(entries: Iterable[tuple[str, HistoryEntry]]) -> HistoryCounts:
    """Count (address, entry) pairs; each entry is one notification applied to one address."""
    counts = HistoryCounts()
    addresses: set[str] = set()
    for address, entry in entries:
        addresses.add(address)
        counts.total += 1
        counts.by_event_type[entry.event_type] += 1
        counts.by_action[entry.action] += 1
        counts.by_event_type_and_action.setdefault(entry.event_type, Counter())[entry.action] += 1
    counts.addresses = len(addresses)
    return counts
