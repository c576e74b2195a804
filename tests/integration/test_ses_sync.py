"""Keeping SES's account-level suppression list in step, in both directions.

moto does not implement SES v2's ListSuppressedDestinations or DeleteSuppressedDestination,
so these tests put ``botocore.stub.Stubber`` on a real sesv2 client for those calls (the
responses are shaped as the SES v2 API reference documents them); DynamoDB is moto's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from ses_feedback import wiring
from ses_feedback.edges.ses_account import SesAccountSuppressionList
from ses_feedback.errors import NotSuppressed
from ses_feedback.model.reasons import Reason
from ses_feedback.parsing.csv_rows import read_rows
from ses_feedback.usecases.admin import SuppressionAdmin
from ses_feedback.usecases.bulk_import import SES_SYNC_ACTOR
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.template import REPO_ROOT

from tests.integration.conftest import Stack
from tests.support import usecases as uc

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ACTOR = "arn:aws:iam::123456789012:user/ops"


@pytest.fixture
def ses() -> Iterator[tuple[SesAccountSuppressionList, Stubber]]:
    client = boto3.client("sesv2", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield SesAccountSuppressionList(client), stubber
        stubber.assert_no_pending_responses()


def summary(address: str, reason: str, updated: datetime) -> dict[str, Any]:
    return {"EmailAddress": address, "Reason": reason, "LastUpdateTime": updated}


def load(admin: SuppressionAdmin, text: str) -> None:
    uc.bulk(admin.writes.store, admin.writes.clock).import_entries(
        read_rows(text.splitlines(keepends=True), NOW), ACTOR
    )


# ---- here → SES: a lift also lifts SES's list ------------------------------------------------


def test_lifting_here_also_deletes_the_address_from_ses_account_list(
    stack: Stack, ses: tuple[SesAccountSuppressionList, Stubber]
) -> None:
    # Given
    gateway, stubber = ses
    admin = uc.admin(stack.store, ses=gateway)
    load(admin, "back@example.com,bounce\n")
    stubber.add_response("delete_suppressed_destination", {}, {"EmailAddress": "back@example.com"})
    # When
    outcome = admin.lift("Back@Example.com", "mailbox fixed", ACTOR)
    # Then
    assert outcome.changed and outcome.ses_removed is True
    assert stack.store.get_state("back@example.com").reason is None


def test_an_address_not_on_ses_list_is_still_lifted_here(
    stack: Stack, ses: tuple[SesAccountSuppressionList, Stubber]
) -> None:
    gateway, stubber = ses
    admin = uc.admin(stack.store, ses=gateway)
    load(admin, "only-here@example.com,bounce\n")
    stubber.add_client_error(
        "delete_suppressed_destination",
        "NotFoundException",
        http_status_code=404,
        expected_params={"EmailAddress": "only-here@example.com"},
    )
    outcome = admin.lift("only-here@example.com", "fixed", ACTOR)
    assert outcome.changed and outcome.ses_removed is False
    assert stack.store.get_state("only-here@example.com").reason is None


def test_when_ses_refuses_the_lift_nothing_changes_here(
    stack: Stack, ses: tuple[SesAccountSuppressionList, Stubber]
) -> None:
    gateway, stubber = ses
    admin = uc.admin(stack.store, ses=gateway)
    load(admin, "busy@example.com,bounce\n")
    stubber.add_client_error(
        "delete_suppressed_destination", "TooManyRequestsException", http_status_code=429
    )
    with pytest.raises(Exception, match="TooManyRequests"):
        admin.lift("busy@example.com", "fixed", ACTOR)
    state, history = stack.store.get_with_history("busy@example.com")
    assert state.reason is Reason.HARD_BOUNCE and history == []


def test_an_address_only_ses_still_suppresses_is_lifted_there_and_the_lift_recorded(
    stack: Stack, ses: tuple[SesAccountSuppressionList, Stubber]
) -> None:
    gateway, stubber = ses
    admin = uc.admin(stack.store, ses=gateway)
    stubber.add_response("delete_suppressed_destination", {}, {"EmailAddress": "ses-only@example.com"})
    outcome = admin.lift("ses-only@example.com", "SES kept refusing it", ACTOR)
    assert outcome.ses_removed is True
    (entry,) = stack.store.get_with_history("ses-only@example.com")[1]
    assert (entry.action, entry.actor, entry.note) == ("lift", ACTOR, "SES kept refusing it")
    assert entry.detail == "lifted on the SES account-level suppression list"


def test_an_address_on_neither_list_is_not_suppressed(
    stack: Stack, ses: tuple[SesAccountSuppressionList, Stubber]
) -> None:
    gateway, stubber = ses
    admin = uc.admin(stack.store, ses=gateway)
    stubber.add_client_error("delete_suppressed_destination", "NotFoundException", http_status_code=404)
    with pytest.raises(NotSuppressed):
        admin.lift("nobody@example.com", "why", ACTOR)


def test_a_refused_complaint_lift_never_reaches_ses(
    stack: Stack, ses: tuple[SesAccountSuppressionList, Stubber]
) -> None:
    gateway, _ = ses  # no response queued: any SES call would fail the test
    admin = uc.admin(stack.store, ses=gateway)
    load(admin, "c@example.com,complaint\n")
    with pytest.raises(Exception, match="force"):
        admin.lift("c@example.com", "please", ACTOR)


# ---- SES → here: the scheduled import of SES's list ---------------------------------------------


def queue_two_pages(stubber: Stubber) -> None:
    stubber.add_response(
        "list_suppressed_destinations",
        {
            "SuppressedDestinationSummaries": [
                summary("Bounced@Example.com", "BOUNCE", NOW - timedelta(days=40)),
                summary("complained@example.com", "COMPLAINT", NOW - timedelta(days=3)),
            ],
            "NextToken": "page-2",
        },
        {"PageSize": 1000},
    )
    stubber.add_response(
        "list_suppressed_destinations",
        {"SuppressedDestinationSummaries": [summary("third@example.com", "BOUNCE", NOW - timedelta(days=1))]},
        {"PageSize": 1000, "NextToken": "page-2"},
    )


def test_sync_imports_every_page_of_ses_list_with_reason_and_date(
    stack: Stack, ses: tuple[SesAccountSuppressionList, Stubber]
) -> None:
    # Given
    gateway, stubber = ses
    queue_two_pages(stubber)
    admin = uc.admin(stack.store)
    # When
    result = uc.bulk(admin.writes.store, admin.writes.clock).sync_from_ses(gateway)
    # Then
    assert (result.rows, result.imported) == (3, 3)
    bounced = stack.store.get_state("bounced@example.com")
    assert (bounced.reason, bounced.since, bounced.actor) == (
        Reason.HARD_BOUNCE,
        NOW - timedelta(days=40),
        SES_SYNC_ACTOR,
    )
    assert stack.store.get_state("complained@example.com").reason is Reason.COMPLAINT
    assert stack.store.get_state("third@example.com").reason is Reason.HARD_BOUNCE


def test_a_second_sync_changes_nothing_and_a_lift_is_not_undone_by_older_ses_entries(
    stack: Stack, ses: tuple[SesAccountSuppressionList, Stubber]
) -> None:
    # Given: a first sync, then an operator lifts one address (sync off: SES keeps it)
    gateway, stubber = ses
    admin = uc.admin(stack.store)
    queue_two_pages(stubber)
    uc.bulk(admin.writes.store, admin.writes.clock).sync_from_ses(gateway)
    admin.lift("bounced@example.com", "fixed", ACTOR)
    before = stack.store.client.scan(TableName=stack.refs["SuppressionTable"])["Items"]
    # When
    queue_two_pages(stubber)
    result = uc.bulk(admin.writes.store, admin.writes.clock).sync_from_ses(gateway)
    # Then
    after = stack.store.client.scan(TableName=stack.refs["SuppressionTable"])["Items"]
    assert (result.imported, result.updated, result.unchanged, result.lifted) == (0, 0, 2, 1)
    assert sorted(map(str, before)) == sorted(map(str, after))


def test_ses_re_suppressing_after_our_lift_is_imported(
    stack: Stack, ses: tuple[SesAccountSuppressionList, Stubber]
) -> None:
    gateway, stubber = ses
    admin = uc.admin(stack.store, clock=lambda: NOW)
    load(admin, "again@example.com,bounce\n")
    admin.lift("again@example.com", "fixed", ACTOR)
    stubber.add_response(
        "list_suppressed_destinations",
        {
            "SuppressedDestinationSummaries": [
                summary("again@example.com", "BOUNCE", NOW + timedelta(hours=1))
            ]
        },
    )
    admin.writes.clock = lambda: NOW + timedelta(hours=2)
    result = uc.bulk(admin.writes.store, admin.writes.clock).sync_from_ses(gateway)
    assert result.updated == 1
    state, history = stack.store.get_with_history("again@example.com")
    assert state.reason is Reason.HARD_BOUNCE
    assert (history[0].event_type, history[0].actor) == ("Import", SES_SYNC_ACTOR)


def test_suppression_sync_function_accepts_its_scheduled_event(stack: Stack) -> None:
    # Given: the function as Lambda runs it, SES's list stubbed on the function's own client,
    # and one address the table already knows (its change is a conditional transaction)
    handler = load_handler(stack.local, "SuppressionSyncFunction")
    load(uc.admin(stack.store, clock=lambda: NOW), "known@example.com,manual\n")
    event = json.loads((REPO_ROOT / "events" / "suppression_sync" / "scheduled.json").read_text())
    with Stubber(uc.only_region(wiring.ses_account_list()).client) as stubber:
        stubber.add_response(
            "list_suppressed_destinations",
            {
                "SuppressedDestinationSummaries": [
                    summary("from-ses@example.com", "COMPLAINT", NOW),
                    summary("known@example.com", "COMPLAINT", NOW),
                    summary("not an address", "BOUNCE", NOW),
                ]
            },
        )
        # When
        response = handler(event, LocalContext(function_name="SuppressionSyncFunction"))
    # Then
    assert (response["imported"], response["updated"], response["rejected"]) == (1, 1, 1)
    assert stack.store.get_state("from-ses@example.com").reason is Reason.COMPLAINT
    assert stack.store.get_state("known@example.com").reason is Reason.COMPLAINT
