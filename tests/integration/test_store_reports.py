"""The store's report reads: every history entry (since a time), and suppressed counts per reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ses_feedback.model.reasons import Reason

from tests.integration.conftest import Stack
from tests.integration.test_store import NOW, apply_message
from tests.support import ses_events as b


def test_scan_history_returns_every_entry_with_its_address(stack: Stack) -> None:
    # Given: two entries for each of 60 addresses (and their 60 state items, which are skipped)
    addresses = [f"user{i}@example.com" for i in range(60)]
    for address in addresses:
        apply_message(stack, b.bounce([address], "Transient", "General"))
        apply_message(stack, b.complaint([address], "not-spam"))
    # When
    entries = list(stack.store.scan_history())
    # Then
    assert len(entries) == 120
    assert {a for a, _ in entries} == set(addresses)
    assert sorted({(e.event_type, e.action) for _, e in entries}) == [
        ("Bounce", "count_soft_bounce"),
        ("Complaint", "record"),
    ]


def test_scan_history_since_skips_what_occurred_before(stack: Stack) -> None:
    # Given
    old = b.bounce(["a@example.com"])
    old["bounce"]["timestamp"] = "2026-10-01T00:00:00.000Z"
    new = b.complaint(["a@example.com"])
    new["complaint"]["timestamp"] = "2026-11-27T00:00:00.000Z"
    apply_message(stack, old)
    apply_message(stack, new)
    # When
    entries = list(stack.store.scan_history(since=datetime(2026, 11, 1, tzinfo=UTC)))
    # Then
    assert [(a, e.event_type) for a, e in entries] == [("a@example.com", "Complaint")]


def test_count_suppressed_counts_per_reason_and_skips_expired(stack: Stack) -> None:
    # Given: two hard bounces, one complaint, one soft-bounce suppression
    apply_message(stack, b.bounce(["h1@example.com", "h2@example.com"]))
    apply_message(stack, b.complaint(["c@example.com"]))
    for _ in range(3):
        apply_message(stack, b.bounce(["s@example.com"], "Transient", "General"))
    # When / Then
    assert stack.store.count_suppressed(NOW) == {
        Reason.HARD_BOUNCE: 2,
        Reason.SOFT_BOUNCE: 1,
        Reason.COMPLAINT: 1,
        Reason.MANUAL: 0,
    }
    # ... and once the soft-bounce suppression has expired (TTL not yet run), it is not counted
    later = NOW + timedelta(days=8)
    assert stack.store.count_suppressed(later)[Reason.SOFT_BOUNCE] == 0
