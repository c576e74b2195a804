"""SuppressionStore against the template's table in moto: the access patterns, one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.stub import Stubber
from ses_feedback.edges.store import SuppressionStore
from ses_feedback.errors import StoreBusy, VersionConflict
from ses_feedback.model.policy import PolicySettings
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import AddressState, ApplyResult, Decision
from ses_feedback.parsing.events import parse_ses_message
from ses_feedback.retry import RetryPolicy
from ses_feedback.rules.policy import decide
from ses_feedback.usecases.write_path import WritePath

from tests.integration.conftest import Stack
from tests.support import ses_events as b

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RETENTION = NOW + timedelta(days=365)


def apply_message(stack: Stack, message: dict[str, object], now: datetime = NOW) -> list[ApplyResult]:
    event = parse_ses_message(message)
    states = stack.store.get_states([r.lower() for r in event.recipients])
    return [
        stack.store.apply(d, states[d.address], now, RETENTION).result
        for d in decide(event, states, now, PolicySettings())
    ]


def test_batch_read_of_more_than_a_hundred_addresses(stack: Stack) -> None:
    # Given: 150 addresses, every third one hard-bounced
    addresses = [f"user{i}@example.com" for i in range(150)]
    apply_message(stack, b.bounce(addresses[::3]))
    # When
    states = stack.store.get_states(addresses)
    # Then
    assert len(states) == 150
    assert {a for a, s in states.items() if s.reason is Reason.HARD_BOUNCE} == set(addresses[::3])


def test_state_and_history_newest_first_in_one_query(stack: Stack) -> None:
    # Given
    first = b.bounce(["a@example.com"], "Transient", "General")
    first["bounce"]["timestamp"] = "2026-11-01T10:00:00.000Z"
    second = b.complaint(["a@example.com"], "abuse")
    second["complaint"]["timestamp"] = "2026-11-02T10:00:00.000Z"
    apply_message(stack, first)
    apply_message(stack, second)
    # When
    state, history = stack.store.get_with_history("a@example.com")
    # Then
    assert state.reason is Reason.COMPLAINT
    assert [h.event_type for h in history] == ["Complaint", "Bounce"]
    assert [h.detail for h in history] == ["abuse", "Transient/General"]


def test_applying_the_same_notification_twice_is_a_duplicate(stack: Stack) -> None:
    message = b.bounce(["a@example.com"], "Transient", "General")
    assert apply_message(stack, message) == [ApplyResult.APPLIED]
    assert apply_message(stack, message) == [ApplyResult.DUPLICATE]
    assert stack.store.get_state("a@example.com").soft_bounce_count == 1


def test_expired_suppression_reads_as_not_suppressed_before_ttl_deletes_it(stack: Stack) -> None:
    # Given: three soft bounces 8 days ago suppressed for 7 days
    for _ in range(3):
        apply_message(stack, b.bounce(["a@example.com"], "Transient", "General"), now=NOW - timedelta(days=8))
    # When
    state = stack.store.get_state("a@example.com")
    # Then
    assert state.reason is Reason.SOFT_BOUNCE
    assert state.is_suppressed(NOW - timedelta(days=2))
    assert not state.is_suppressed(NOW)


def test_items_carry_ttl_for_history_and_temporary_suppressions(stack: Stack) -> None:
    # Given
    for _ in range(3):
        apply_message(stack, b.bounce(["a@example.com"], "Transient", "General"))
    apply_message(stack, b.bounce(["hard@example.com"]))
    # When
    items = stack.store.client.scan(TableName=stack.refs["SuppressionTable"])["Items"]
    by_key = {(i["pk"]["S"], i["sk"]["S"][:4]): i for i in items}
    # Then
    assert "ttl" in by_key[("ADDR#a@example.com", "STAT")]
    assert "ttl" not in by_key[("ADDR#hard@example.com", "STAT")]
    history = [i for i in items if i["sk"]["S"].startswith("EVT#")]
    assert history and all(int(i["ttl"]["N"]) == int(RETENTION.timestamp()) for i in history)


def test_a_stale_version_is_a_conflict_not_a_lost_update(stack: Stack) -> None:
    import pytest
    from ses_feedback.errors import VersionConflict

    # Given: a state read at version 0, then changed by someone else
    event = parse_ses_message(b.bounce(["a@example.com"], "Transient", "General"))
    stale = AddressState("a@example.com")
    apply_message(stack, b.bounce(["a@example.com"], "Transient", "General"))
    (decision,) = decide(event, {"a@example.com": stale}, NOW, PolicySettings())
    # When / Then
    with pytest.raises(VersionConflict) as conflict:
        stack.store.apply(decision, stale, NOW, RETENTION)
    # And its message, which a traceback would log, does not hold the address
    assert "@" not in str(conflict.value)


# moto cannot make a transaction lose to a concurrent one: these tests answer TransactWriteItems
# with a botocore Stubber on the store's real client, as DynamoDB answers a conflict.
def _cancelled(stubber: object, *codes: str) -> None:
    from botocore.stub import Stubber

    assert isinstance(stubber, Stubber)
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message="Transaction cancelled",
        modeled_fields={"CancellationReasons": [{"Code": code} for code in codes]},
    )


def _not_spam_decision() -> Decision:
    # A not-spam complaint only records: a history entry, no state (one Put and, with erasure on,
    # the tombstone's ConditionCheck in one transaction).
    event = parse_ses_message(b.complaint(["a@example.com"], "not-spam"))
    (decision,) = decide(event, {}, NOW, PolicySettings())
    assert decision.new_state is None
    return decision


@pytest.mark.parametrize("codes", [("None", "TransactionConflict"), ("TransactionConflict", "None")])
def test_a_history_entry_lost_to_a_concurrent_transaction_is_not_taken_for_a_duplicate(
    stack: Stack, codes: tuple[str, str]
) -> None:
    # Given a store with erasure on, whose transaction DynamoDB cancels for another reason than a condition
    store = SuppressionStore(stack.refs["SuppressionTable"], tombstone_of=lambda address: "t-" + address[:1])
    with Stubber(store.client) as stubber:
        _cancelled(stubber, *codes)
        # When / Then: nothing was written, and the caller is told to try again
        with pytest.raises(VersionConflict):
            store.apply(_not_spam_decision(), AddressState("a@example.com"), NOW, RETENTION)


def test_a_history_entry_already_written_is_a_duplicate(stack: Stack) -> None:
    store = SuppressionStore(stack.refs["SuppressionTable"], tombstone_of=lambda address: "t-" + address[:1])
    with Stubber(store.client) as stubber:
        _cancelled(stubber, "ConditionalCheckFailed", "None")
        applied = store.apply(_not_spam_decision(), AddressState("a@example.com"), NOW, RETENTION)
    assert applied.result is ApplyResult.DUPLICATE


def test_recording_retries_a_transaction_lost_to_a_concurrent_one(stack: Stack) -> None:
    # Given a first attempt that loses to a concurrent transaction, and a second that commits
    store = SuppressionStore(stack.refs["SuppressionTable"], tombstone_of=lambda address: "t-" + address[:1])
    writes = WritePath(
        store, timedelta(days=365), clock=lambda: NOW, retry=RetryPolicy(sleep=lambda seconds: None)
    )
    with Stubber(store.client) as stubber:
        _cancelled(stubber, "None", "TransactionConflict")
        stubber.add_response("transact_write_items", {})
        # When
        result = writes.record(_not_spam_decision())
        # Then
        stubber.assert_no_pending_responses()
    assert result is ApplyResult.APPLIED


def test_unprocessed_keys_are_asked_again_after_the_policys_pause(stack: Stack) -> None:
    # Given: DynamoDB leaves a key unprocessed once (a throttled partition)
    pauses: list[float] = []
    store = SuppressionStore(stack.refs["SuppressionTable"], retry=RetryPolicy(sleep=pauses.append))
    key = {"pk": {"S": "ADDR#a@example.com"}, "sk": {"S": "STATE"}}
    with Stubber(store.client) as stubber:
        stubber.add_response(
            "batch_get_item",
            {"Responses": {}, "UnprocessedKeys": {store.table_name: {"Keys": [key], "ConsistentRead": True}}},
        )
        stubber.add_response("batch_get_item", {"Responses": {store.table_name: []}})
        # When
        states = store.get_states(["a@example.com"])
        stubber.assert_no_pending_responses()
    # Then: asked twice, once after one pause of the policy
    assert states["a@example.com"].reason is None
    assert len(pauses) == 1 and 0 <= pauses[0] <= store.retry.cap_seconds


def test_items_left_unprocessed_past_the_budget_are_a_busy_store_not_a_loop(stack: Stack) -> None:
    # Given: a policy of three attempts, and DynamoDB leaving the item unprocessed every time
    store = SuppressionStore(
        stack.refs["SuppressionTable"], retry=RetryPolicy(attempts=3, sleep=lambda seconds: None)
    )
    state = AddressState("a@example.com", reason=Reason.MANUAL, since=NOW)
    with Stubber(store.client) as stubber:
        for _ in range(3):
            stubber.add_response(
                "batch_write_item",
                {"UnprocessedItems": {store.table_name: [{"PutRequest": {"Item": {"pk": {"S": "x"}}}}]}},
            )
        # When / Then: three requests, then a refusal the caller may retry (503 concurrent_update)
        with pytest.raises(StoreBusy):
            store.put_new_states([state], NOW)
        stubber.assert_no_pending_responses()
