"""A stream's listing row and the export row that imports back: pure, no AWS.

``AddressState.scope_on`` says which suppression applies on a stream and what it covers;
``StreamSuppression.on`` renders it; a complaint about bulk mail is exported with the stream
``*bulk`` and read back as the same scoped complaint.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ses_feedback.model.answers import StreamSuppression
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import AddressState
from ses_feedback.model.streams import ALL_BULK, ALL_BULK_UNSUBSCRIBED, EVERY, ScopedSuppression
from ses_feedback.parsing.csv_rows import ImportEntry, RowError, read_rows
from ses_feedback.rules.manual import Verdict, import_verdict

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(days=3)
ADDRESS = "jane@example.com"
WEEK = timedelta(days=7)


def _state(**fields: Any) -> AddressState:
    return AddressState(address=ADDRESS, **fields)


UNSUBSCRIBED = ScopedSuppression("newsletter", Reason.UNSUBSCRIBED, EARLIER)
BULK_COMPLAINT = ScopedSuppression(ALL_BULK, Reason.COMPLAINT, NOW - timedelta(days=1))


# ---- which suppression applies on a stream ---------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "stream", "bulk", "expected"),
    [
        (
            _state(reason=Reason.HARD_BOUNCE, since=EARLIER),
            "transactional",
            False,
            (EVERY, Reason.HARD_BOUNCE, EARLIER),
        ),
        (_state(scoped=(UNSUBSCRIBED,)), "newsletter", True, ("newsletter", Reason.UNSUBSCRIBED, EARLIER)),
        (_state(scoped=(UNSUBSCRIBED,)), "promo", True, None),
        (_state(scoped=(BULK_COMPLAINT,)), "promo", True, (ALL_BULK, Reason.COMPLAINT, BULK_COMPLAINT.since)),
        (_state(scoped=(BULK_COMPLAINT,)), "transactional", False, None),
        (
            _state(reason=Reason.MANUAL, since=NOW, scoped=(UNSUBSCRIBED,)),
            "newsletter",
            True,
            (EVERY, Reason.MANUAL, NOW),
        ),
        (
            _state(reason=Reason.SOFT_BOUNCE, since=EARLIER, expires_at=NOW, scoped=(UNSUBSCRIBED,)),
            "newsletter",
            True,
            ("newsletter", Reason.UNSUBSCRIBED, EARLIER),
        ),
    ],
    ids=[
        "every-stream",
        "unsubscribed-own-stream",
        "unsubscribed-other-stream",
        "bulk-complaint-on-bulk",
        "bulk-complaint-on-transactional",
        "every-stream-wins",
        "expired-soft-bounce-leaves-the-unsubscribe",
    ],
)
def test_scope_on_names_the_suppression_that_applies_and_what_it_covers(
    state: AddressState, stream: str, bulk: bool, expected: tuple[str, Reason, datetime] | None
) -> None:
    assert state.scope_on(stream, bulk, NOW) == expected
    assert state.suppression_on(stream, bulk, NOW) == (expected[1:] if expected else None)


def test_a_scoped_row_shows_its_reason_and_date_only() -> None:
    state = _state(note="imported", actor="ops", scoped=(UNSUBSCRIBED,))
    assert StreamSuppression.on(state, "newsletter", True, NOW).model_dump(mode="json") == {
        "address": ADDRESS,
        "reason": "unsubscribed",
        "since": "2026-11-26T09:00:00Z",
        "expires_at": None,
        "note": None,
        "actor": None,
        "scope": "newsletter",
    }


def test_an_every_stream_row_is_the_suppression_as_listed_without_a_stream() -> None:
    state = _state(reason=Reason.SOFT_BOUNCE, since=EARLIER, expires_at=NOW + WEEK, note="n", actor="ops")
    row = StreamSuppression.on(state, "newsletter", True, NOW)
    assert (row.reason, row.expires_at, row.note, row.actor, row.scope) == (
        Reason.SOFT_BOUNCE,
        "2026-12-06T09:00:00Z",
        "n",
        "ops",
        EVERY,
    )


# ---- the export's *bulk row, read back ---------------------------------------------------------------


def _rows(text: str) -> list[ImportEntry | RowError]:
    return list(read_rows(text.splitlines(), NOW))


def test_a_complaint_row_with_the_stream_star_bulk_is_a_complaint_about_bulk_mail() -> None:
    (entry,) = _rows("address,reason,since,stream\njane@example.com,complaint,2026-11-28T09:00:00Z,*bulk\n")
    assert isinstance(entry, ImportEntry)
    assert (entry.reason, entry.stream, entry.since) == (Reason.COMPLAINT, ALL_BULK, NOW - timedelta(days=1))


@pytest.mark.parametrize("reason", ["unsubscribed", "hard_bounce", "manual", ""])
def test_star_bulk_on_another_reason_is_a_rejected_row(reason: str) -> None:
    (error,) = _rows(f"address,reason,stream\njane@example.com,{reason},*bulk\n")
    assert (
        isinstance(error, RowError)
        and error.field == "stream"
        and "complaints about bulk mail" in error.message
    )


def test_an_unsubscribe_row_with_star_bulk_unsubscribed_is_the_recipients_leave_all() -> None:
    (entry,) = _rows("address,reason,stream\njane@example.com,unsubscribed,*bulk-unsubscribed\n")
    assert isinstance(entry, ImportEntry)
    assert (entry.reason, entry.stream) == (Reason.UNSUBSCRIBED, ALL_BULK_UNSUBSCRIBED)
    verdict, state = import_verdict(entry, AddressState(address=entry.address), "ops", NOW, timedelta(days=7))
    assert verdict is Verdict.NEW and state is not None
    # A row without a date is dated when it is read: a stream launched later is covered too
    assert state.suppression_on("launched-next-year", True, NOW) == (Reason.UNSUBSCRIBED, NOW)
    (error,) = _rows("address,reason,stream\njane@example.com,hard_bounce,*bulk-unsubscribed\n")
    assert isinstance(error, RowError) and error.field == "stream"


def test_an_imported_bulk_complaint_blocks_bulk_streams_only_and_is_unchanged_the_second_time() -> None:
    entry = ImportEntry(line=2, address=ADDRESS, reason=Reason.COMPLAINT, since=EARLIER, stream=ALL_BULK)
    verdict, state = import_verdict(entry, _state(), "ops", NOW, WEEK)
    assert verdict is Verdict.NEW and state is not None
    assert state.scope_on("promo", True, NOW) == (ALL_BULK, Reason.COMPLAINT, EARLIER)
    assert state.suppression_on("transactional", False, NOW) is None
    assert import_verdict(entry, state, "ops", NOW, WEEK) == (Verdict.UNCHANGED, None)


def test_an_imported_bulk_complaint_is_not_reimposed_from_evidence_older_than_a_lift() -> None:
    lifted = _state(version=3, lifted_at=NOW - timedelta(days=1))
    older = ImportEntry(line=2, address=ADDRESS, reason=Reason.COMPLAINT, since=EARLIER, stream=ALL_BULK)
    newer = ImportEntry(line=3, address=ADDRESS, reason=Reason.COMPLAINT, since=NOW, stream=ALL_BULK)
    assert import_verdict(older, lifted, "ops", NOW, WEEK) == (Verdict.LIFTED, None)
    assert import_verdict(newer, lifted, "ops", NOW, WEEK)[0] is Verdict.UPDATE


def test_an_imported_bulk_complaint_under_an_every_stream_complaint_changes_nothing() -> None:
    entry = ImportEntry(line=2, address=ADDRESS, reason=Reason.COMPLAINT, since=EARLIER, stream=ALL_BULK)
    complained = _state(version=1, reason=Reason.COMPLAINT, since=EARLIER)
    assert import_verdict(entry, complained, "ops", NOW, WEEK) == (Verdict.UNCHANGED, None)
