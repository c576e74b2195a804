"""The manual-change and import rules of admin.py: pure data in, decisions out, no mocks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from ses_feedback.edges.ses_account import SesSuppressedDestination
from ses_feedback.errors import ComplaintLiftNeedsForce, InvalidRequest, NotSuppressed
from ses_feedback.model.policy import PolicySettings
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import Action, AddressState
from ses_feedback.model.streams import ALL_BULK, ScopedSuppression
from ses_feedback.parsing.csv_rows import ImportEntry, RowError
from ses_feedback.parsing.events import parse_ses_message
from ses_feedback.parsing.operator_input import clean_erasure_note, clean_note
from ses_feedback.rules.manual import (
    Verdict,
    import_verdict,
    lift_decision,
    manual_suppression,
    unsubscribe_lift,
)
from ses_feedback.rules.policy import decide
from ses_feedback.usecases.bulk_import import ses_entry

from tests.support import ses_events as b

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
ADDRESS = "jane@example.com"
ACTOR = "arn:aws:iam::123456789012:user/ops"


def suppressed(reason: Reason, **changes: object) -> AddressState:
    return replace(
        AddressState(address=ADDRESS, reason=reason, since=NOW - timedelta(days=3), version=4), **changes
    )


def test_manual_suppression_of_a_clean_address_records_note_and_actor() -> None:
    decision = manual_suppression(AddressState(address=ADDRESS), "asked by phone", ACTOR, NOW, "k")
    assert decision is not None
    assert decision.action is Action.SUPPRESS
    assert (decision.note, decision.actor, decision.event_type) == ("asked by phone", ACTOR, "Manual")
    assert decision.new_state is not None
    assert (decision.new_state.reason, decision.new_state.since) == (Reason.MANUAL, NOW)
    assert (decision.new_state.note, decision.new_state.actor) == ("asked by phone", ACTOR)


@pytest.mark.parametrize("reason", [Reason.COMPLAINT, Reason.HARD_BOUNCE, Reason.MANUAL])
def test_manual_suppression_never_replaces_an_equal_or_stronger_reason(reason: Reason) -> None:
    assert manual_suppression(suppressed(reason), "again", ACTOR, NOW, "k") is None


def test_manual_suppression_replaces_a_soft_bounce_and_has_no_expiry() -> None:
    soft = suppressed(Reason.SOFT_BOUNCE, expires_at=NOW + WEEK)
    decision = manual_suppression(soft, "never again", ACTOR, NOW, "k")
    assert decision is not None and decision.new_state is not None
    assert decision.new_state.reason is Reason.MANUAL
    assert decision.new_state.expires_at is None


def test_lift_clears_the_suppression_and_the_soft_bounce_count_and_remembers_when() -> None:
    state = suppressed(Reason.HARD_BOUNCE, soft_bounce_count=2, soft_window_start=NOW - WEEK)
    decision = lift_decision(state, "mailbox fixed", ACTOR, NOW, force=False, key="k")
    assert decision.action is Action.LIFT
    assert decision.reason is Reason.HARD_BOUNCE  # what was lifted, for the history
    assert (decision.note, decision.actor) == ("mailbox fixed", ACTOR)
    lifted = decision.new_state
    assert lifted is not None
    assert (lifted.reason, lifted.since, lifted.soft_bounce_count, lifted.lifted_at) == (None, None, 0, NOW)
    assert not lifted.is_suppressed(NOW)


def test_lifting_a_complaint_needs_force() -> None:
    with pytest.raises(ComplaintLiftNeedsForce, match="force"):
        lift_decision(suppressed(Reason.COMPLAINT), "sure?", ACTOR, NOW, force=False, key="k")
    forced = lift_decision(suppressed(Reason.COMPLAINT), "confirmed", ACTOR, NOW, force=True, key="k")
    assert forced.new_state is not None and forced.new_state.reason is None
    assert forced.detail == "lifted complaint (forced)"


@pytest.mark.parametrize(
    "state",
    [
        AddressState(address=ADDRESS),
        AddressState(address=ADDRESS, soft_bounce_count=2, version=3),
        suppressed(Reason.SOFT_BOUNCE, expires_at=NOW - timedelta(seconds=1)),  # expired, TTL pending
    ],
)
def test_lifting_an_address_that_is_not_suppressed_is_an_error(state: AddressState) -> None:
    with pytest.raises(NotSuppressed):
        lift_decision(state, "why", ACTOR, NOW, force=True, key="k")


BULK_COMPLAINT = ScopedSuppression(ALL_BULK, Reason.COMPLAINT, NOW - WEEK)
UNSUBSCRIBED = ScopedSuppression("newsletter", Reason.UNSUBSCRIBED, NOW - WEEK)


def test_a_lift_without_a_stream_lifts_a_bulk_complaint_with_force_and_keeps_unsubscribes() -> None:
    # Given a complaint about a newsletter (every bulk stream) and an unsubscribe from one
    state = AddressState(address=ADDRESS, scoped=(BULK_COMPLAINT, UNSUBSCRIBED), version=2)
    # Then lifting needs force, as for any complaint
    with pytest.raises(ComplaintLiftNeedsForce):
        lift_decision(state, "sure?", ACTOR, NOW, force=False, key="k")
    decision = lift_decision(state, "asked us, ticket 9", ACTOR, NOW, force=True, key="k")
    # And it lifts the complaint, not the person's unsubscribe
    assert decision.new_state is not None and decision.new_state.scoped == (UNSUBSCRIBED,)
    assert (decision.reason, decision.detail) == (
        Reason.COMPLAINT,
        "lifted complaint (bulk streams) (forced)",
    )


def test_a_lift_without_a_stream_lifts_both_an_every_stream_reason_and_a_bulk_complaint() -> None:
    state = suppressed(Reason.HARD_BOUNCE, scoped=(BULK_COMPLAINT,))
    decision = lift_decision(state, "fixed", ACTOR, NOW, force=True, key="k")
    assert decision.new_state is not None
    assert (decision.new_state.reason, decision.new_state.scoped) == (None, ())
    assert decision.detail == "lifted hard_bounce and complaint (bulk streams) (forced)"


def test_an_unsubscribed_address_is_not_lifted_without_its_stream_and_the_error_says_which() -> None:
    state = AddressState(address=ADDRESS, scoped=(UNSUBSCRIBED,), version=1)
    with pytest.raises(NotSuppressed, match="unsubscribed from newsletter: name the stream"):
        lift_decision(state, "why", ACTOR, NOW, force=True, key="k")


def test_an_unsubscribe_is_lifted_by_naming_its_stream_and_nothing_else_changes() -> None:
    state = suppressed(Reason.HARD_BOUNCE, scoped=(BULK_COMPLAINT, UNSUBSCRIBED))
    decision = unsubscribe_lift(state, "newsletter", "subscribed again, form 12", ACTOR, NOW, key="k")
    assert decision.new_state == replace(state, scoped=(BULK_COMPLAINT,))
    assert (decision.action, decision.reason) == (Action.LIFT, Reason.UNSUBSCRIBED)
    assert decision.detail == "lifted unsubscribed; stream newsletter"
    # Another stream, or the bulk complaint's scope, is not an unsubscribe to lift
    for stream in ("promo", ALL_BULK):
        with pytest.raises(NotSuppressed, match="not unsubscribed"):
            unsubscribe_lift(state, stream, "why", ACTOR, NOW, key="k")


@pytest.mark.parametrize(
    ("message", "reason"),
    [(b.bounce([ADDRESS]), Reason.HARD_BOUNCE), (b.complaint([ADDRESS], "abuse"), Reason.COMPLAINT)],
)
def test_new_feedback_re_imposes_a_lifted_suppression(message: dict[str, object], reason: Reason) -> None:
    # Given: an address lifted by hand yesterday
    lifted = lift_decision(
        suppressed(Reason.HARD_BOUNCE), "fixed", ACTOR, NOW - timedelta(days=1), force=False, key="k"
    )
    assert lifted.new_state is not None
    # When: new feedback arrives
    (decision,) = decide(parse_ses_message(message), {ADDRESS: lifted.new_state}, NOW, PolicySettings())
    # Then
    assert decision.new_state is not None and decision.new_state.reason is reason


@pytest.mark.parametrize("note", ["", "   ", None, "x" * 1001])
def test_a_manual_change_needs_a_note_of_reasonable_length(note: str | None) -> None:
    with pytest.raises(InvalidRequest) as raised:
        clean_note(note)
    assert raised.value.field == "note"


def test_a_note_is_kept_as_the_operator_wrote_it() -> None:
    # Input is refused or kept, never rewritten: the history shows exactly what was said.
    assert clean_note("  ticket 42\n") == "  ticket 42\n"


# ---- import verdicts ------------------------------------------------------------------------


def entry(reason: Reason = Reason.HARD_BOUNCE, since: datetime | None = None) -> ImportEntry:
    return ImportEntry(line=2, address=ADDRESS, reason=reason, note="from old provider", since=since)


def test_an_unknown_address_is_new_with_the_rows_date_note_and_actor() -> None:
    since = NOW - timedelta(days=100)
    verdict, state = import_verdict(entry(since=since), AddressState(address=ADDRESS), ACTOR, NOW, WEEK)
    assert verdict is Verdict.NEW
    assert state == AddressState(
        address=ADDRESS,
        reason=Reason.HARD_BOUNCE,
        since=since,
        note="from old provider",
        actor=ACTOR,
        version=1,
    )


def test_an_undated_entry_is_suppressed_since_the_import() -> None:
    _, state = import_verdict(entry(), AddressState(address=ADDRESS), ACTOR, NOW, WEEK)
    assert state is not None and state.since == NOW


@pytest.mark.parametrize(
    ("existing", "imported"),
    [
        (Reason.COMPLAINT, Reason.HARD_BOUNCE),
        (Reason.HARD_BOUNCE, Reason.HARD_BOUNCE),
        (Reason.MANUAL, Reason.HARD_BOUNCE),
        (Reason.HARD_BOUNCE, Reason.MANUAL),
        (Reason.COMPLAINT, Reason.COMPLAINT),
    ],
)
def test_equal_or_stronger_suppression_is_left_unchanged(existing: Reason, imported: Reason) -> None:
    verdict, state = import_verdict(entry(imported), suppressed(existing), ACTOR, NOW, WEEK)
    assert (verdict, state) == (Verdict.UNCHANGED, None)


def test_a_known_address_with_a_weaker_reason_is_updated_keeping_its_version() -> None:
    verdict, state = import_verdict(entry(Reason.COMPLAINT), suppressed(Reason.HARD_BOUNCE), ACTOR, NOW, WEEK)
    assert verdict is Verdict.UPDATE
    assert state is not None and (state.reason, state.version) == (Reason.COMPLAINT, 4)


def test_an_address_lifted_after_the_entrys_date_is_not_re_imposed() -> None:
    lifted = AddressState(address=ADDRESS, lifted_at=NOW - timedelta(days=2), version=5)
    older = entry(since=NOW - timedelta(days=3))
    newer = entry(since=NOW - timedelta(days=1))
    assert import_verdict(older, lifted, ACTOR, NOW, WEEK)[0] is Verdict.LIFTED
    assert import_verdict(entry(), lifted, ACTOR, NOW, WEEK)[0] is Verdict.LIFTED  # undated: no evidence
    assert import_verdict(newer, lifted, ACTOR, NOW, WEEK)[0] is Verdict.UPDATE


def test_a_soft_bounce_expires_a_week_after_its_date_and_an_old_one_is_skipped() -> None:
    verdict, state = import_verdict(
        entry(Reason.SOFT_BOUNCE, NOW - timedelta(days=2)), AddressState(address=ADDRESS), ACTOR, NOW, WEEK
    )
    assert verdict is Verdict.NEW and state is not None
    assert state.expires_at == NOW + timedelta(days=5)
    old = entry(Reason.SOFT_BOUNCE, NOW - timedelta(days=8))
    assert import_verdict(old, AddressState(address=ADDRESS), ACTOR, NOW, WEEK) == (Verdict.EXPIRED, None)


@pytest.mark.parametrize(
    ("ses_reason", "reason"), [("BOUNCE", Reason.HARD_BOUNCE), ("COMPLAINT", Reason.COMPLAINT)]
)
def test_ses_account_list_entries_map_to_our_reasons_with_their_date(ses_reason: str, reason: Reason) -> None:
    updated = NOW - timedelta(days=30)
    result = ses_entry(SesSuppressedDestination("Jane@Example.COM", ses_reason, updated), 7)
    assert result == ImportEntry(
        line=7,
        address=ADDRESS,
        reason=reason,
        note="on the SES account-level suppression list",
        since=updated,
    )


def test_a_ses_entry_with_an_unknown_reason_is_a_row_error() -> None:
    result = ses_entry(SesSuppressedDestination(ADDRESS, "SOMETHING_NEW", NOW), 3)
    assert isinstance(result, RowError) and (result.line, result.field) == (3, "Reason")


def test_an_actor_is_logged_with_any_email_address_in_it_hashed() -> None:
    from ses_feedback.parsing.addresses import address_hash, loggable

    sso = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin/Jane@Example.com"
    assert loggable(sso) == (
        f"arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin/<{address_hash('jane@example.com')}>"
    )
    assert loggable(ACTOR) == ACTOR


@pytest.mark.parametrize(
    ("note", "refused"),
    [
        ("GDPR request #118", False),
        ("ticket 118 @ helpdesk, by phone", False),
        ("asked jane@example.org to confirm", True),
        ("from <Jane.Doe+gdpr@mail.example.co.uk>", True),
        ("copy sent to dpo@example.com; done", True),
    ],
)
def test_an_erasure_note_may_hold_no_address(note: str, refused: bool) -> None:
    if refused:
        with pytest.raises(InvalidRequest) as caught:
            clean_erasure_note(note)
        assert caught.value.field == "note" and "@" not in str(caught.value)
    else:
        assert clean_erasure_note(note) == note
