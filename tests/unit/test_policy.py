"""docs/feedback.md's policy table, case by case: pure data in, decisions out, no mocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ses_feedback.model.policy import PolicySettings
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import Action, AddressState
from ses_feedback.parsing.events import parse_ses_message
from ses_feedback.rules.policy import decide, dedupe_key

from tests.support import ses_events as b

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SETTINGS = PolicySettings(
    soft_bounce_threshold=3, soft_bounce_window=timedelta(days=14), soft_bounce_suppression=timedelta(days=7)
)
ADDRESS = "jane@example.com"


def only_decision(message: dict[str, object], state: AddressState | None = None):
    states = {ADDRESS: state} if state else {}
    decisions = decide(parse_ses_message(message), states, NOW, SETTINGS)
    assert len(decisions) == 1
    return decisions[0]


@pytest.mark.parametrize(
    "sub_type", ["General", "NoEmail", "Suppressed", "OnAccountSuppressionList", "Invented"]
)
@pytest.mark.parametrize("shape", ["event", "notification"])
def test_permanent_bounce_suppresses_for_good(sub_type: str, shape: str) -> None:
    decision = only_decision(b.bounce([ADDRESS], "Permanent", sub_type, shape=shape))
    assert decision.action is Action.SUPPRESS
    assert decision.new_state is not None
    assert decision.new_state.reason is Reason.HARD_BOUNCE
    assert decision.new_state.expires_at is None
    assert decision.new_state.since == NOW


@pytest.mark.parametrize(
    ("bounce_type", "sub_type"),
    [
        ("Transient", "General"),
        ("Transient", "MailboxFull"),
        ("Transient", "MessageTooLarge"),
        ("Undetermined", "Undetermined"),
    ],
)
def test_first_soft_bounce_is_counted_not_suppressed(bounce_type: str, sub_type: str) -> None:
    decision = only_decision(b.bounce([ADDRESS], bounce_type, sub_type))
    assert decision.action is Action.COUNT_SOFT_BOUNCE
    assert decision.new_state is not None
    assert decision.new_state.reason is None
    assert decision.new_state.soft_bounce_count == 1
    assert decision.new_state.soft_window_start == NOW


def test_soft_bounce_at_threshold_within_window_suppresses_with_expiry() -> None:
    # Given: two soft bounces counted, the window opened 3 days ago
    state = AddressState(ADDRESS, soft_bounce_count=2, soft_window_start=NOW - timedelta(days=3), version=2)
    # When
    decision = only_decision(b.bounce([ADDRESS], "Transient", "MailboxFull"), state)
    # Then
    assert decision.action is Action.SUPPRESS
    assert decision.reason is Reason.SOFT_BOUNCE
    assert decision.new_state is not None
    assert decision.new_state.reason is Reason.SOFT_BOUNCE
    assert decision.new_state.expires_at == NOW + timedelta(days=7)
    assert decision.new_state.soft_bounce_count == 0  # counting starts afresh after the suppression


def test_soft_bounce_after_the_window_starts_a_new_count() -> None:
    state = AddressState(ADDRESS, soft_bounce_count=2, soft_window_start=NOW - timedelta(days=15), version=2)
    decision = only_decision(b.bounce([ADDRESS], "Transient", "General"), state)
    assert decision.action is Action.COUNT_SOFT_BOUNCE
    assert decision.new_state is not None
    assert decision.new_state.soft_bounce_count == 1
    assert decision.new_state.soft_window_start == NOW


@pytest.mark.parametrize("sub_type", ["ContentRejected", "AttachmentRejected"])
def test_content_rejections_are_recorded_only(sub_type: str) -> None:
    decision = only_decision(b.bounce([ADDRESS], "Transient", sub_type))
    assert decision.action is Action.RECORD
    assert decision.new_state is None


@pytest.mark.parametrize("feedback_type", [None, "abuse", "fraud", "virus", "other", "auth-failure"])
def test_complaints_suppress_for_good(feedback_type: str | None) -> None:
    decision = only_decision(b.complaint([ADDRESS], feedback_type))
    assert decision.action is Action.SUPPRESS
    assert decision.new_state is not None
    assert decision.new_state.reason is Reason.COMPLAINT
    assert decision.new_state.expires_at is None


def test_not_spam_complaint_never_suppresses() -> None:
    decision = only_decision(b.complaint([ADDRESS], "not-spam"))
    assert decision.action is Action.RECORD
    assert decision.new_state is None


def test_delivery_resets_the_soft_bounce_count() -> None:
    state = AddressState(ADDRESS, soft_bounce_count=2, soft_window_start=NOW - timedelta(days=1), version=2)
    decision = only_decision(b.delivery([ADDRESS]), state)
    assert decision.action is Action.RESET_SOFT_BOUNCES
    assert decision.new_state is not None
    assert decision.new_state.soft_bounce_count == 0
    assert decision.new_state.soft_window_start is None


def test_delivery_to_an_address_without_soft_bounces_decides_nothing() -> None:
    assert decide(parse_ses_message(b.delivery([ADDRESS])), {}, NOW, SETTINGS) == []


@pytest.mark.parametrize(
    "kind", ["Send", "Reject", "Open", "Click", "DeliveryDelay", "Rendering Failure", "Subscription"]
)
def test_other_event_types_change_no_address(kind: str) -> None:
    assert decide(parse_ses_message(b.engagement(kind, [ADDRESS])), {}, NOW, SETTINGS) == []


@pytest.mark.parametrize(
    ("existing", "message", "kept"),
    [
        (Reason.COMPLAINT, b.bounce([ADDRESS], "Permanent", "General"), Reason.COMPLAINT),
        (Reason.HARD_BOUNCE, b.bounce([ADDRESS], "Transient", "General"), Reason.HARD_BOUNCE),
        (Reason.MANUAL, b.bounce([ADDRESS], "Permanent", "General"), Reason.MANUAL),
        (Reason.HARD_BOUNCE, b.complaint([ADDRESS]), Reason.COMPLAINT),
        (Reason.SOFT_BOUNCE, b.bounce([ADDRESS], "Permanent", "General"), Reason.HARD_BOUNCE),
    ],
)
def test_a_stronger_reason_is_never_replaced_by_a_weaker_one(
    existing: Reason, message: dict[str, object], kept: Reason
) -> None:
    # Given: an address suppressed for `existing`, two soft bounces away from the threshold
    expires = NOW + timedelta(days=3) if existing is Reason.SOFT_BOUNCE else None
    state = AddressState(
        ADDRESS,
        reason=existing,
        since=NOW - timedelta(days=30),
        expires_at=expires,
        soft_bounce_count=2,
        soft_window_start=NOW - timedelta(days=1),
        version=4,
    )
    # When
    decision = only_decision(message, state)
    # Then
    assert decision.new_state is not None
    assert decision.new_state.reason is kept


def test_an_expired_suppression_counts_as_lifted() -> None:
    state = AddressState(
        ADDRESS,
        reason=Reason.SOFT_BOUNCE,
        since=NOW - timedelta(days=8),
        expires_at=NOW - timedelta(days=1),
        version=3,
    )
    assert not state.is_suppressed(NOW)
    decision = only_decision(b.bounce([ADDRESS], "Transient", "General"), state)
    assert decision.new_state is not None
    assert decision.new_state.reason is None
    assert decision.new_state.soft_bounce_count == 1


def test_each_recipient_gets_one_decision_with_normalised_address() -> None:
    message = b.bounce(
        ["Jane <JANE@example.com>", "jane@EXAMPLE.com", "john@example.com"], "Permanent", "General"
    )
    decisions = decide(parse_ses_message(message), {}, NOW, SETTINGS)
    assert [d.address for d in decisions] == ["jane@example.com", "john@example.com"]


def test_dedupe_key_is_feedback_id_else_message_type_and_recipient() -> None:
    bounce = parse_ses_message(b.bounce([ADDRESS], feedback="fb-1"))
    delivery = parse_ses_message(b.delivery([ADDRESS], message_id="m-1"))
    assert dedupe_key(bounce, ADDRESS) == "fb-1"
    assert dedupe_key(delivery, ADDRESS) == f"m-1:Delivery:{ADDRESS}"
