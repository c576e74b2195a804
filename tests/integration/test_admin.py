"""SuppressionAdmin on the template's table in moto: listing, history, manual changes, imports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ses_feedback.errors import ComplaintLiftNeedsForce, InvalidCursor, NotSuppressed
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import AddressState
from ses_feedback.observability import metrics
from ses_feedback.parsing.csv_rows import ImportEntry, RowError, read_rows
from ses_feedback.parsing.events import parse_ses_message
from ses_feedback.settings import Settings
from ses_feedback.usecases.admin import SuppressionAdmin

from tests.integration.conftest import Stack
from tests.support import ses_events as b
from tests.support import usecases as uc

# The admin clock runs ahead of the wall clock the feedback processor stamps its history with,
# so a manual change made "now" is always newer than the feedback recorded just before it.
NOW = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=1)
ACTOR = "arn:aws:iam::123456789012:user/ops"


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def admin(stack: Stack, clock: Clock) -> SuppressionAdmin:
    return uc.admin(stack.store, clock=clock)


def load(admin: SuppressionAdmin, text: str) -> object:
    return uc.bulk(admin.writes.store, admin.writes.clock).import_entries(
        read_rows(text.splitlines(keepends=True), NOW), ACTOR
    )


def feedback(stack: Stack, message: dict[str, object]) -> None:
    settings = Settings.from_env({"SUPPRESSION_TABLE": stack.refs["SuppressionTable"]})
    uc.feedback(stack.store, settings).process(parse_ses_message(message))
    # Outside a handler nothing flushes the metrics it added; later tests count metrics.
    metrics.clear_metrics()


# ---- listing ---------------------------------------------------------------------------------


def test_listing_by_reason_pages_through_every_address_newest_first(
    admin: SuppressionAdmin, clock: Clock
) -> None:
    # Given: 23 hard bounces a minute apart, and 5 complaints
    for i in range(23):
        load(admin, f"a{i:02}@example.com,bounce,{(NOW - timedelta(minutes=60 - i)).isoformat()}\n")
    load(admin, "".join(f"c{i}@example.com,complaint\n" for i in range(5)))
    # When: pages of 10
    pages, cursor = [], None
    while True:
        page = admin.list_suppressed(Reason.HARD_BOUNCE, limit=10, cursor=cursor)
        pages.append([s.address for s in page.items])
        cursor = page.next_cursor
        if cursor is None:
            break
    # Then: 10 + 10 + 3, newest first, no cursor after the last page
    assert [len(p) for p in pages] == [10, 10, 3]
    flat = [a for p in pages for a in p]
    assert flat == [f"a{i:02}@example.com" for i in reversed(range(23))]


def test_a_page_that_ends_exactly_at_the_last_item_has_no_next_cursor(admin: SuppressionAdmin) -> None:
    load(admin, "".join(f"m{i}@example.com\n" for i in range(4)))
    page = admin.list_suppressed(Reason.MANUAL, limit=4)
    assert (len(page.items), page.next_cursor) == (4, None)


def test_listing_every_reason_crosses_from_one_reason_to_the_next(admin: SuppressionAdmin) -> None:
    load(
        admin,
        "c1@example.com,complaint\nc2@example.com,complaint\nh1@example.com,bounce\nm1@example.com,manual\n",
    )
    first = admin.list_suppressed(None, limit=3)
    second = admin.list_suppressed(None, limit=3, cursor=first.next_cursor)
    assert [s.reason for s in first.items] == [Reason.COMPLAINT, Reason.COMPLAINT, Reason.HARD_BOUNCE]
    assert [s.address for s in second.items] == ["m1@example.com"]
    assert second.next_cursor is None


def test_an_expired_soft_bounce_is_not_listed_before_ttl_deletes_it(
    stack: Stack, admin: SuppressionAdmin, clock: Clock
) -> None:
    # Given: three transient bounces suppress for 7 days; then 8 days pass
    for _ in range(3):
        feedback(stack, b.bounce(["soft@example.com"], "Transient", "General"))
    load(admin, "kept@example.com,soft_bounce\n")
    clock.advance(days=8)
    load(admin, "fresh@example.com,soft_bounce\n")
    # When
    page = admin.list_suppressed(Reason.SOFT_BOUNCE, limit=10)
    # Then
    assert [s.address for s in page.items] == ["fresh@example.com"]


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64 at all!",
        "bm90IGpzb24",
        "eyJyIjoiY29tcGxhaW50In0",
    ],  # '', junk, 'not json', {"r":"complaint"}
)
def test_a_cursor_this_service_did_not_hand_out_is_refused(admin: SuppressionAdmin, cursor: str) -> None:
    with pytest.raises(InvalidCursor) as raised:
        admin.list_suppressed(Reason.HARD_BOUNCE, limit=5, cursor=cursor)
    assert raised.value.field == "cursor"


def test_a_cursor_from_another_reason_or_address_is_refused(admin: SuppressionAdmin) -> None:
    load(admin, "".join(f"h{i}@example.com,bounce\n" for i in range(3)))
    cursor = admin.list_suppressed(Reason.HARD_BOUNCE, limit=1).next_cursor
    with pytest.raises(InvalidCursor):
        admin.list_suppressed(Reason.COMPLAINT, limit=1, cursor=cursor)
    with pytest.raises(InvalidCursor):
        admin.history("h0@example.com", limit=1, cursor=cursor)


# ---- manual changes and their history --------------------------------------------------------


def test_add_then_remove_is_recorded_with_who_and_why_newest_first(
    admin: SuppressionAdmin, clock: Clock
) -> None:
    # When
    added = admin.suppress("Jane <Jane@Example.com>", "asked us by phone", ACTOR)
    clock.advance(minutes=5)
    removed = admin.lift("jane@example.com", "changed her mind", "arn:aws:iam::123456789012:user/other")
    # Then
    assert added.changed and added.state.reason is Reason.MANUAL and added.state.actor == ACTOR
    assert removed.changed and removed.state.reason is None and removed.ses_removed is None
    state, history = admin.get("jane@example.com")
    assert not state.is_suppressed(clock()) and state.lifted_at == clock()
    assert [(h.action, h.reason, h.note, h.actor) for h in history] == [
        ("lift", "manual", "changed her mind", "arn:aws:iam::123456789012:user/other"),
        ("suppress", "manual", "asked us by phone", ACTOR),
    ]


def test_adding_an_address_already_hard_bounced_changes_nothing(
    stack: Stack, admin: SuppressionAdmin
) -> None:
    feedback(stack, b.bounce(["hb@example.com"]))
    outcome = admin.suppress("hb@example.com", "belt and braces", ACTOR)
    assert not outcome.changed and outcome.state.reason is Reason.HARD_BOUNCE
    assert len(admin.get("hb@example.com")[1]) == 1


def test_lifting_a_complaint_needs_force_and_is_recorded_as_forced(
    stack: Stack, admin: SuppressionAdmin
) -> None:
    feedback(stack, b.complaint(["c@example.com"], "abuse"))
    with pytest.raises(ComplaintLiftNeedsForce):
        admin.lift("c@example.com", "please", ACTOR)
    assert admin.get("c@example.com")[0].reason is Reason.COMPLAINT
    admin.lift("c@example.com", "confirmed with the recipient", ACTOR, force=True)
    state, history = admin.get("c@example.com")
    assert state.reason is None and history[0].detail == "lifted complaint (forced)"


def test_lifting_an_address_that_is_not_suppressed_is_an_error(admin: SuppressionAdmin) -> None:
    with pytest.raises(NotSuppressed):
        admin.lift("nobody@example.com", "why not", ACTOR)


def test_new_feedback_re_suppresses_a_lifted_address(stack: Stack) -> None:
    admin = uc.admin(stack.store)  # the wall clock, as the feedback's timestamps
    feedback(stack, b.bounce(["back@example.com"]))
    admin.lift("back@example.com", "new mailbox", ACTOR)
    feedback(stack, b.bounce(["back@example.com"]))
    state, history = admin.get("back@example.com")
    assert state.reason is Reason.HARD_BOUNCE
    assert [h.action for h in history] == ["suppress", "lift", "suppress"]


def test_a_manual_change_racing_feedback_loses_neither(stack: Stack, admin: SuppressionAdmin) -> None:
    # Given: the admin read the state, then feedback changed it before the admin wrote
    feedback(stack, b.bounce(["race@example.com"], "Transient", "General"))
    stale = stack.store.get_state("race@example.com")
    feedback(stack, b.bounce(["race@example.com"], "Transient", "General"))
    real_get = stack.store.get_state
    calls: list[AddressState] = []

    def first_stale(address: str) -> AddressState:
        if not calls:
            calls.append(stale)
            return stale
        return real_get(address)

    stack.store.get_state = first_stale  # type: ignore[method-assign]
    # When
    admin.suppress("race@example.com", "stop", ACTOR)
    # Then: the manual suppression is there, and so are both bounces
    state = real_get("race@example.com")
    assert state.reason is Reason.MANUAL and state.soft_bounce_count == 2


def test_history_pages_newest_first(admin: SuppressionAdmin, clock: Clock) -> None:
    for i in range(7):
        admin.suppress("h@example.com", f"add {i}", ACTOR)
        clock.advance(minutes=1)
        admin.lift("h@example.com", f"lift {i}", ACTOR)
        clock.advance(minutes=1)
    notes, cursor = [], None
    while True:
        page = admin.history("h@example.com", limit=5, cursor=cursor)
        notes.append([h.note for h in page.items])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [len(p) for p in notes] == [5, 5, 4]
    assert notes[0][:2] == ["lift 6", "add 6"] and notes[-1][-1] == "add 0"


# ---- imports ---------------------------------------------------------------------------------


def test_an_import_run_twice_changes_nothing_the_second_time(stack: Stack, admin: SuppressionAdmin) -> None:
    text = "email,reason\n" + "".join(f"u{i}@example.com,bounce\n" for i in range(130)) + "junk,bounce\n"
    first = load(admin, text)
    before = stack.store.client.scan(TableName=stack.refs["SuppressionTable"])["Items"]
    second = load(admin, text)
    after = stack.store.client.scan(TableName=stack.refs["SuppressionTable"])["Items"]
    assert (first.imported, first.rejected, first.unchanged) == (130, 1, 0)  # type: ignore[attr-defined]
    assert (second.imported, second.rejected, second.unchanged) == (0, 1, 130)  # type: ignore[attr-defined]
    assert first.rejected_rows == [RowError(132, "address", "An email address must have an @-sign.")]  # type: ignore[attr-defined]
    assert sorted(map(str, before)) == sorted(map(str, after))


def test_an_import_never_weakens_and_does_upgrade_known_addresses(
    stack: Stack, admin: SuppressionAdmin
) -> None:
    # Given: one complaint and one address with a soft-bounce count
    feedback(stack, b.complaint(["c@example.com"], "abuse"))
    feedback(stack, b.bounce(["s@example.com"], "Transient", "General"))
    # When
    summary = load(admin, "c@example.com,bounce\ns@example.com,bounce,from the old provider\n")
    # Then: the complaint stays; the known address is updated with a history entry, count kept
    assert (summary.unchanged, summary.updated, summary.imported) == (1, 1, 0)  # type: ignore[attr-defined]
    assert admin.get("c@example.com")[0].reason is Reason.COMPLAINT
    state, history = admin.get("s@example.com")
    assert (state.reason, state.soft_bounce_count) == (Reason.HARD_BOUNCE, 1)
    assert (history[0].event_type, history[0].note, history[0].actor) == (
        "Import",
        "from the old provider",
        ACTOR,
    )


def test_a_lifted_address_is_not_re_imposed_by_an_import_of_older_evidence(admin: SuppressionAdmin) -> None:
    load(admin, "l@example.com,bounce,2025-01-01\n")
    admin.lift("l@example.com", "mailbox fixed", ACTOR)
    summary = load(admin, "l@example.com,bounce,2025-01-01\n")
    assert summary.lifted == 1  # type: ignore[attr-defined]
    assert admin.get("l@example.com")[0].reason is None


def test_the_same_address_twice_in_a_file_keeps_the_stronger_reason(admin: SuppressionAdmin) -> None:
    summary = load(admin, "d@example.com,bounce\nD@example.com,complaint\nd@example.com,manual\n")
    assert (summary.imported, summary.duplicates) == (1, 2)  # type: ignore[attr-defined]
    assert admin.get("d@example.com")[0].reason is Reason.COMPLAINT


def test_import_entries_carry_the_rows_note_date_and_actor(admin: SuppressionAdmin) -> None:
    load(admin, "email,reason,note,date\nn@example.com,spam,FBL report,2025-03-04T05:06:07Z\n")
    state = admin.get("n@example.com")[0]
    assert (state.reason, state.note, state.actor) == (Reason.COMPLAINT, "FBL report", ACTOR)
    assert state.since == datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_import_writes_full_batches_of_25(stack: Stack, admin: SuppressionAdmin) -> None:
    # Given: count the requests the DynamoDB client sends
    calls: list[str] = []
    stack.store.client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    # When: 1,000 new addresses
    summary = load(admin, "".join(f"r{i}@example.com,bounce\n" for i in range(1000)))
    # Then
    assert summary.imported == 1000  # type: ignore[attr-defined]
    assert calls.count("BatchWriteItem") == 40
    assert calls.count("BatchGetItem") == 10
    assert set(calls) == {"BatchWriteItem", "BatchGetItem"}


def test_imported_entries_are_found_by_the_senders_batch_read(stack: Stack, admin: SuppressionAdmin) -> None:
    load(admin, "x@example.com,bounce\ny@example.com,unsubscribed\n")
    states = stack.store.get_states(["x@example.com", "y@example.com", "z@example.com"])
    assert {a: s.is_suppressed(NOW) for a, s in states.items()} == {
        "x@example.com": True,
        "y@example.com": True,
        "z@example.com": False,
    }


def test_imported_row_objects_are_import_entries() -> None:
    # The reader's output type is what import_entries takes: a typo here would be caught by mypy
    assert ImportEntry.__dataclass_fields__.keys() >= {"address", "reason", "note", "since", "line"}


def test_an_sso_actor_with_an_email_in_its_name_never_reaches_the_logs_in_clear(
    admin: SuppressionAdmin,
) -> None:
    # The autouse no_address_in_logs fixture fails this test if the actor is logged as is.
    sso = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin/ops.person@example.com"
    admin.suppress("target@example.com", "asked", sso)
    admin.lift("target@example.com", "changed mind", sso)
    assert admin.get("target@example.com")[1][0].actor == sso  # the history keeps it in full
