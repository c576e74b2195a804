from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ses_feedback.stats import BOUNCE_RATE, COMPLAINT_RATE, Standing, count_history, standing
from ses_feedback.store import HistoryEntry


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (0.0, Standing.HEALTHY),
        (0.024, Standing.HEALTHY),
        (0.025, Standing.WARNING),
        (0.05, Standing.REVIEW),
        (0.0999, Standing.REVIEW),
        (0.10, Standing.PAUSE),
        (0.5, Standing.PAUSE),
    ],
)
def test_bounce_rate_standing_against_warning_and_aws_lines(rate: float, expected: Standing) -> None:
    assert standing(rate, BOUNCE_RATE, warning=0.025) is expected


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (0.0004, Standing.HEALTHY),
        (0.0005, Standing.WARNING),
        (0.001, Standing.REVIEW),
        (0.005, Standing.PAUSE),
    ],
)
def test_complaint_rate_standing_against_warning_and_aws_lines(rate: float, expected: Standing) -> None:
    assert standing(rate, COMPLAINT_RATE, warning=0.0005) is expected


def entry(event_type: str, action: str) -> HistoryEntry:
    return HistoryEntry(datetime(2026, 11, 28, tzinfo=UTC), event_type, action, "", None, "k")


def test_history_is_counted_by_type_action_and_address() -> None:
    counts = count_history(
        [
            ("a@example.com", entry("Bounce", "suppress")),
            ("a@example.com", entry("Complaint", "suppress")),
            ("b@example.com", entry("Bounce", "count_soft_bounce")),
        ]
    )
    assert counts.as_dict() == {
        "total": 3,
        "addresses": 2,
        "by_event_type": {"Bounce": 2, "Complaint": 1},
        "by_action": {"count_soft_bounce": 1, "suppress": 2},
        "by_event_type_and_action": {
            "Bounce": {"count_soft_bounce": 1, "suppress": 1},
            "Complaint": {"suppress": 1},
        },
    }
