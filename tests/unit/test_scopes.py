"""What each reason blocks (docs/sending.md's scope table): pure rules, a table of cases, no mocks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ses_feedback.model.policy import PolicySettings
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import Action, AddressState
from ses_feedback.model.streams import ALL_BULK, EVERY, ScopedSuppression, Streams
from ses_feedback.parsing.events import parse_ses_message
from ses_feedback.rules.policy import decide
from ses_feedback.rules.scopes import scope_of, suppress_scoped, unsubscribe_decision

from tests.support import ses_events as b

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
STREAMS = Streams(frozenset({"transactional", "receipts"}))
SETTINGS = PolicySettings(streams=STREAMS)
ADDRESS = "jane@example.com"


@pytest.mark.parametrize(
    ("reason", "stream", "scope"),
    [
        (Reason.HARD_BOUNCE, "newsletter", EVERY),
        (Reason.HARD_BOUNCE, "transactional", EVERY),
        (Reason.HARD_BOUNCE, None, EVERY),
        (Reason.SOFT_BOUNCE, "newsletter", EVERY),
        (Reason.MANUAL, None, EVERY),
        (Reason.COMPLAINT, "newsletter", ALL_BULK),
        (Reason.COMPLAINT, "promo-2026", ALL_BULK),
        (Reason.COMPLAINT, "transactional", EVERY),
        (Reason.COMPLAINT, "receipts", EVERY),
        (Reason.COMPLAINT, None, EVERY),
        (Reason.UNSUBSCRIBED, "newsletter", "newsletter"),
        (Reason.UNSUBSCRIBED, "receipts", "receipts"),
        (Reason.ERASED, None, EVERY),
    ],
)
def test_the_scope_table(reason: Reason, stream: str | None, scope: str) -> None:
    assert scope_of(reason, stream, STREAMS) == scope


def tagged(message: dict[str, Any], stream: str) -> dict[str, Any]:
    """The notification of a message that was sent on ``stream`` (its ``stream`` tag)."""
    message["mail"]["tags"]["stream"] = [stream]
    return message


def state_after(message: dict[str, Any], state: AddressState | None = None) -> AddressState:
    decisions = decide(parse_ses_message(message), {ADDRESS: state} if state else {}, NOW, SETTINGS)
    assert len(decisions) == 1 and decisions[0].new_state is not None
    assert decisions[0].action is Action.SUPPRESS
    return decisions[0].new_state


# (stream of the complained-about mail, stream of the next send) → still sent?
@pytest.mark.parametrize(
    ("complained_on", "next_send", "blocked"),
    [
        ("newsletter", "newsletter", True),
        ("newsletter", "promo", True),  # every bulk stream
        ("newsletter", "transactional", False),  # password resets still go
        ("newsletter", "receipts", False),
        ("transactional", "transactional", True),
        ("transactional", "newsletter", True),
        ("receipts", "newsletter", True),
    ],
)
def test_a_complaint_blocks_by_the_stream_it_was_about(
    complained_on: str, next_send: str, blocked: bool
) -> None:
    state = state_after(tagged(b.complaint([ADDRESS]), complained_on))
    verdict = state.suppression_on(next_send, STREAMS.is_bulk(next_send), NOW)
    assert (verdict is not None) is blocked
    if blocked:
        assert verdict is not None and verdict[0] is Reason.COMPLAINT


@pytest.mark.parametrize("shape", ["notification", "event"])
def test_a_complaint_of_unknown_stream_blocks_every_stream(shape: str) -> None:
    # Identity notifications carry no tags; event publishing without a stream tag is old mail.
    state = state_after(b.complaint([ADDRESS], shape=shape))
    assert state.reason is Reason.COMPLAINT and state.scoped == ()
    assert state.suppression_on("transactional", False, NOW) is not None


def test_a_stream_tag_that_is_not_a_stream_name_counts_as_unknown() -> None:
    state = state_after(tagged(b.complaint([ADDRESS]), "News Letter!"))
    assert state.reason is Reason.COMPLAINT and state.scoped == ()


@pytest.mark.parametrize("stream", ["newsletter", "transactional"])
def test_a_hard_bounce_blocks_every_stream_whatever_it_was_about(stream: str) -> None:
    state = state_after(tagged(b.bounce([ADDRESS], "Permanent", "General"), stream))
    assert state.reason is Reason.HARD_BOUNCE
    for next_send in ("newsletter", "transactional", "receipts"):
        assert state.suppression_on(next_send, STREAMS.is_bulk(next_send), NOW) == (Reason.HARD_BOUNCE, NOW)


def test_an_unsubscribe_blocks_its_own_stream_only() -> None:
    state = suppress_scoped(AddressState(address=ADDRESS), "newsletter", Reason.UNSUBSCRIBED, NOW)
    assert state.suppression_on("newsletter", True, NOW) == (Reason.UNSUBSCRIBED, NOW)
    assert state.suppression_on("promo", True, NOW) is None
    assert state.suppression_on("transactional", False, NOW) is None


def test_a_second_unsubscribe_from_the_same_stream_changes_nothing() -> None:
    once = suppress_scoped(AddressState(address=ADDRESS), "newsletter", Reason.UNSUBSCRIBED, NOW)
    assert suppress_scoped(once, "newsletter", Reason.UNSUBSCRIBED, NOW + timedelta(days=1)) is once


def test_scoped_entries_add_up() -> None:
    state = AddressState(
        address=ADDRESS,
        scoped=(ScopedSuppression("newsletter", Reason.UNSUBSCRIBED, NOW),),
    )
    state = state_after(tagged(b.complaint([ADDRESS]), "promo"), state)
    assert {e.scope for e in state.scoped} == {"newsletter", ALL_BULK}
    assert state.suppression_on("digest", True, NOW) == (Reason.COMPLAINT, NOW)
    assert state.suppression_on("transactional", False, NOW) is None


def test_an_every_stream_complaint_makes_a_bulk_one_needless() -> None:
    held = AddressState(address=ADDRESS, reason=Reason.COMPLAINT, since=NOW - timedelta(days=3))
    assert suppress_scoped(held, ALL_BULK, Reason.COMPLAINT, NOW) is held


def test_an_unsubscribe_outlives_a_lifted_bounce() -> None:
    # Given a hard-bounced address that unsubscribes from the newsletter
    held = AddressState(address=ADDRESS, reason=Reason.HARD_BOUNCE, since=NOW - timedelta(days=3))
    decision = unsubscribe_decision(held, "newsletter", NOW, "k")
    assert decision is not None and decision.new_state is not None
    # When the bounce is lifted
    lifted = replace(decision.new_state, reason=None, since=None)
    # Then the newsletter still does not go, other mail does
    assert lifted.suppression_on("newsletter", True, NOW) == (Reason.UNSUBSCRIBED, NOW)
    assert lifted.suppression_on("promo", True, NOW) is None


def test_an_unsubscribe_is_a_history_entry_naming_its_stream() -> None:
    decision = unsubscribe_decision(AddressState(address=ADDRESS), "newsletter", NOW, "k")
    assert decision is not None
    assert (decision.event_type, decision.reason, decision.action) == (
        "Unsubscribe",
        Reason.UNSUBSCRIBED,
        Action.SUPPRESS,
    )
    assert "newsletter" in decision.detail
    assert decision.new_state is not None
    assert unsubscribe_decision(decision.new_state, "newsletter", NOW, "k2") is None


def test_an_expired_soft_bounce_leaves_the_scoped_entries_in_force() -> None:
    state = AddressState(
        address=ADDRESS,
        reason=Reason.SOFT_BOUNCE,
        since=NOW - timedelta(days=9),
        expires_at=NOW - timedelta(days=2),
        scoped=(ScopedSuppression("newsletter", Reason.UNSUBSCRIBED, NOW - timedelta(days=30)),),
    )
    assert state.suppression_on("transactional", False, NOW) is None
    assert state.suppression_on("newsletter", True, NOW) == (Reason.UNSUBSCRIBED, NOW - timedelta(days=30))


@pytest.mark.parametrize(
    ("text", "names"), [("", {"transactional"}), ("transactional, receipts", {"transactional", "receipts"})]
)
def test_transactional_streams_parameter(text: str, names: set[str]) -> None:
    assert Streams.parse(text).transactional == names


@pytest.mark.parametrize("text", ["Receipts", "a b", "x" * 33, "news_letter"])
def test_transactional_streams_parameter_refuses_what_is_not_a_stream_name(text: str) -> None:
    with pytest.raises(ValueError, match="not stream names"):
        Streams.parse(text)


# ---- imports: unsubscribed rows with a stream column ---------------------------------------------


def _rows(text: str) -> list[Any]:
    from ses_feedback.parsing.csv_rows import read_rows

    return list(read_rows(text.splitlines(), NOW))


def test_an_unsubscribe_row_with_a_stream_is_scoped_to_that_stream() -> None:
    (entry,) = _rows("email,reason,stream\njane@example.com,unsubscribed,newsletter\n")
    assert (entry.reason, entry.stream) == (Reason.UNSUBSCRIBED, "newsletter")


def test_an_unsubscribe_row_without_a_stream_still_blocks_every_stream() -> None:
    (entry,) = _rows("email,reason,stream\njane@example.com,unsubscribed,\n")
    assert (entry.reason, entry.stream) == (Reason.MANUAL, None)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("jane@example.com,hard_bounce,newsletter", "only unsubscribes are per stream"),
        ("jane@example.com,unsubscribed,News Letter", "stream name"),
    ],
)
def test_a_stream_on_another_reason_or_a_bad_stream_name_is_refused(row: str, message: str) -> None:
    (error,) = _rows(f"email,reason,stream\n{row}\n")
    assert error.field == "stream" and message in error.message


def test_an_imported_unsubscribe_is_new_scoped_and_unchanged_the_second_time() -> None:
    from ses_feedback.parsing.csv_rows import ImportEntry
    from ses_feedback.rules.manual import Verdict, import_verdict

    entry = ImportEntry(line=2, address=ADDRESS, reason=Reason.UNSUBSCRIBED, since=NOW, stream="newsletter")
    verdict, state = import_verdict(entry, AddressState(address=ADDRESS), "ops", NOW, timedelta(days=7))
    assert verdict is Verdict.NEW and state is not None
    assert state.suppression_on("newsletter", True, NOW) == (Reason.UNSUBSCRIBED, NOW)
    assert state.suppression_on("transactional", False, NOW) is None
    assert import_verdict(entry, state, "ops", NOW, timedelta(days=7)) == (Verdict.UNCHANGED, None)
