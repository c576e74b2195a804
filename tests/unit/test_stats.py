from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ses_feedback.model.state import HistoryEntry
from ses_feedback.rules.stats import BOUNCE_RATE, COMPLAINT_RATE, Standing, count_history, standing
from ses_feedback_cli.commands.stats_cmd import parse_since


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


def test_since_accepts_relative_and_iso_times() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert parse_since("30m", now) == now - timedelta(minutes=30)
    assert parse_since("24h", now) == now - timedelta(hours=24)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("2026-11-01", now) == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-01T10:00:00Z", now) == datetime(2026, 11, 1, 10, tzinfo=UTC)
