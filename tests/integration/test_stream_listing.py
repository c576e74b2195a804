"""Listing and exporting by stream, on the template's table in moto: the store's two-part listing
(every-stream suppressions from ``gsi1``, then the scoped entries that cover the stream from
``gsi2``), its one cursor, the API's ``?stream=`` and the CLI's ``--stream`` with an export that
imports back to the same state.

States are written by the real rules through the one write path: unsubscribes by
``rules.scopes.unsubscribe_decision`` (what the one-click endpoint runs), complaints about a
newsletter by the feedback use case from an SES event tagged with its stream, every-stream
suppressions by an import.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from ses_feedback.edges.store import SCOPED_INDEX
from ses_feedback.errors import InvalidCursor, InvalidRequest
from ses_feedback.model.moments import iso_z
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import AddressState
from ses_feedback.model.streams import Streams
from ses_feedback.parsing.csv_rows import read_rows
from ses_feedback.parsing.events import parse_ses_message
from ses_feedback.rules.scopes import unsubscribe_decision
from ses_feedback.usecases.admin import SuppressionAdmin
from ses_feedback_cli.main import main
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.names import region

from tests.integration.conftest import Stack
from tests.support import ses_events
from tests.support import usecases as uc
from tests.support.api_events import rest_event
from tests.support.legacy_items import put_pre_streams_state

# The admin clock runs ahead of the wall clock the feedback processor stamps its entries with.
START = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
ACTOR = "arn:aws:iam::123456789012:user/ops"
# "receipts" is transactional too: its listing must not hold complaints about bulk mail.
STREAMS = Streams.parse("transactional,receipts")


class Clock:
    """A minute later at every read: each write gets its own ``since``, in writing order."""

    def __init__(self) -> None:
        self.moment = START

    def __call__(self) -> datetime:
        self.moment += timedelta(minutes=1)
        return self.moment


class Table:
    """The suppression table of one test, written through the use cases."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.clock = Clock()
        self.admin: SuppressionAdmin = uc.admin(stack.store, clock=self.clock)

    def unsubscribe(self, address: str, stream: str) -> None:
        written = self.admin.writes.write(
            address,
            lambda state, now: unsubscribe_decision(state, stream, now, f"unsubscribe:{address}:{stream}"),
        )
        assert written.decision is not None

    def complain_about(self, address: str, stream: str) -> None:
        message = ses_events.complaint([address])
        message["mail"]["tags"]["stream"] = [stream]
        uc.feedback(self.stack.store).process(parse_ses_message(message))

    def load(self, text: str) -> None:
        rows = read_rows(text.splitlines(keepends=True), START)
        uc.bulk(self.stack.store, self.clock).import_entries(rows, ACTOR)

    def listing(self, stream: str, reason: Reason | None = None, limit: int = 1000) -> list[tuple[str, str]]:
        """Every (address, reason on the stream) of the stream's listing, in one page."""
        page = self.admin.list_on_stream(stream, STREAMS, reason, limit=limit)
        assert page.next_cursor is None
        return [(state.address, self.reason_on(state, stream)) for state in page.items]

    def reason_on(self, state: AddressState, stream: str) -> str:
        verdict = state.suppression_on(stream, STREAMS.is_bulk(stream), self.clock.moment)
        assert verdict is not None, f"{state.address} is listed on {stream} but nothing applies there"
        return str(verdict[0])

    def on_streams(self) -> dict[str, list[tuple[str, object]]]:
        """Each stream's listing: every address with the reason and since that apply there."""
        return {
            stream: [
                (state.address, state.suppression_on(stream, STREAMS.is_bulk(stream), self.clock.moment))
                for state in self.admin.iter_on_stream(stream, STREAMS)
            ]
            for stream in ("newsletter", "promo", "transactional")
        }

    def clear(self) -> None:
        """Delete every item, as if the table were new."""
        client = boto3.client("dynamodb", region_name=region())
        name = self.stack.refs["SuppressionTable"]
        for item in client.scan(TableName=name, ProjectionExpression="pk, sk")["Items"]:
            client.delete_item(TableName=name, Key=item)

    def paged(self, stream: str, limit: int, reason: Reason | None = None) -> list[list[str]]:
        pages, cursor = [], None
        while True:
            page = self.admin.list_on_stream(stream, STREAMS, reason, limit=limit, cursor=cursor)
            pages.append([state.address for state in page.items])
            cursor = page.next_cursor
            if cursor is None:
                return pages


@pytest.fixture
def table(stack: Stack) -> Table:
    return Table(stack)


# ---- what a stream's listing holds ---------------------------------------------------------------


def test_an_unsubscribe_is_listed_on_its_stream_only(table: Table) -> None:
    # Given
    table.unsubscribe("jane@example.org", "newsletter")
    # Then
    assert table.listing("newsletter") == [("jane@example.org", "unsubscribed")]
    assert table.listing("promo") == []
    assert table.listing("transactional") == []
    # And the every-stream listing stays what it was: every-stream suppressions only
    assert table.admin.list_suppressed(None).items == []


def test_a_complaint_about_bulk_mail_is_listed_on_bulk_streams_not_transactional_ones(table: Table) -> None:
    # Given
    table.complain_about("jane@example.org", "newsletter")
    # Then
    assert table.listing("newsletter") == [("jane@example.org", "complaint")]
    assert table.listing("promo") == [("jane@example.org", "complaint")]
    assert table.listing("transactional") == []
    assert table.listing("receipts") == []


def test_an_every_stream_suppression_is_listed_on_every_stream(table: Table) -> None:
    # Given: a hard bounce, and a complaint about transactional mail
    table.load("bounced@example.org,bounce\n")
    table.complain_about("angry@example.org", "transactional")
    # Then
    for stream in ("transactional", "receipts", "newsletter", "promo"):
        assert table.listing(stream) == [
            ("angry@example.org", "complaint"),
            ("bounced@example.org", "hard_bounce"),
        ]


def test_an_address_with_an_every_stream_reason_and_a_scoped_entry_is_listed_once(table: Table) -> None:
    # Given jane unsubscribed from the newsletter, then hard-bounced
    table.unsubscribe("jane@example.org", "newsletter")
    table.load("jane@example.org,bounce\n")
    # Then she is listed once, with the reason that applies on every stream
    assert table.listing("newsletter") == [("jane@example.org", "hard_bounce")]
    assert table.listing("promo") == [("jane@example.org", "hard_bounce")]


def test_an_unsubscribe_under_an_expired_soft_bounce_is_listed_from_the_scoped_part(table: Table) -> None:
    # Given an unsubscribe, and a soft bounce whose suppression is over (TTL has not deleted it:
    # the state holds a scoped entry, so it has no TTL at all)
    table.unsubscribe("jane@example.org", "newsletter")
    table.load("jane@example.org,soft_bounce\n")
    assert table.listing("newsletter") == [("jane@example.org", "soft_bounce")]
    table.clock.moment += timedelta(days=30)
    # Then the unsubscribe is what holds on the newsletter; nothing on other streams
    assert table.listing("newsletter") == [("jane@example.org", "unsubscribed")]
    assert table.listing("promo") == []


def test_a_state_written_before_streams_existed_is_listed_on_every_stream(table: Table) -> None:
    # Given the state item exactly as the release before streams wrote it (no scopes, no gsi2 keys)
    put_pre_streams_state(table.stack.refs["SuppressionTable"], "old@example.org", "manual")
    table.unsubscribe("new@example.org", "newsletter")
    # Then
    assert table.listing("newsletter") == [("old@example.org", "manual"), ("new@example.org", "unsubscribed")]
    assert table.listing("transactional") == [("old@example.org", "manual")]


def test_only_states_with_a_scoped_entry_are_in_the_scoped_index(table: Table) -> None:
    # Given
    table.load("bounced@example.org,bounce\nmanual@example.org,manual\n")
    table.unsubscribe("jane@example.org", "newsletter")
    # When
    items = boto3.client("dynamodb", region_name=region()).scan(
        TableName=table.stack.refs["SuppressionTable"], IndexName=SCOPED_INDEX
    )["Items"]
    # Then: one partition, sorted by the newest scoped entry's date, then the address
    assert [(item["gsi2pk"]["S"], item["address"]["S"]) for item in items] == [("SCOPED", "jane@example.org")]
    since = table.admin.get("jane@example.org")[0].scoped[0].since
    assert items[0]["gsi2sk"]["S"] == f"{iso_z(since, 'milliseconds')}#jane@example.org"


# ---- ?reason= with a stream ---------------------------------------------------------------------


def test_a_reason_with_a_stream_is_the_reason_that_applies_on_that_stream(table: Table) -> None:
    # Given: jane complained about a newsletter and unsubscribed from it; john only unsubscribed;
    # ann hard-bounced
    table.complain_about("jane@example.org", "newsletter")
    table.unsubscribe("jane@example.org", "newsletter")
    table.unsubscribe("john@example.org", "newsletter")
    table.load("ann@example.org,bounce\n")
    # Then: on the newsletter jane's complaint is what applies (it covers every bulk stream)
    assert table.listing("newsletter", Reason.UNSUBSCRIBED) == [("john@example.org", "unsubscribed")]
    assert table.listing("newsletter", Reason.COMPLAINT) == [("jane@example.org", "complaint")]
    assert table.listing("newsletter", Reason.HARD_BOUNCE) == [("ann@example.org", "hard_bounce")]
    assert table.listing("transactional", Reason.COMPLAINT) == []


def test_unsubscribes_are_listed_only_with_a_stream_and_erasures_never(table: Table) -> None:
    with pytest.raises(InvalidRequest) as without_stream:
        table.admin.list_suppressed(Reason.UNSUBSCRIBED)
    assert without_stream.value.field == "reason"
    with pytest.raises(InvalidRequest) as erased:
        table.admin.list_on_stream("newsletter", STREAMS, Reason.ERASED)
    assert erased.value.field == "reason"
    with pytest.raises(InvalidRequest) as bad_stream:
        table.admin.list_on_stream("News!", STREAMS)
    assert bad_stream.value.field == "stream"


# ---- pagination across both parts ---------------------------------------------------------------


@pytest.fixture
def mixed(table: Table) -> list[str]:
    """Every-stream suppressions of three reasons, unsubscribes from two streams, complaints about
    bulk mail, and an address in both parts' indexes: what the newsletter's listing holds, in order."""
    table.load(
        "c1@example.org,complaint\nh1@example.org,bounce\nh2@example.org,bounce\nm1@example.org,manual\n"
    )
    for i in range(7):
        table.unsubscribe(f"u{i}@example.org", "newsletter")
        table.unsubscribe(f"p{i}@example.org", "promo")
    table.complain_about("b1@example.org", "promo")
    table.complain_about("b2@example.org", "newsletter")
    table.unsubscribe("h1@example.org", "newsletter")  # also hard-bounced: listed once, in the first part
    every_stream = ["c1@example.org", "h2@example.org", "h1@example.org", "m1@example.org"]
    scoped = [f"u{i}@example.org" for i in reversed(range(7))]
    # The two complaints came through feedback (the wall clock, behind the admin's): oldest last.
    return every_stream + scoped + ["b2@example.org", "b1@example.org"]


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 12, 13, 14])
def test_small_pages_list_every_address_exactly_once_across_both_parts(
    table: Table, mixed: list[str], limit: int
) -> None:
    # When
    pages = table.paged("newsletter", limit)
    # Then: full pages until the last, every address once, in the one-page order
    assert all(len(page) == limit for page in pages[:-1]) and 1 <= len(pages[-1]) <= limit
    assert [address for page in pages for address in page] == mixed
    assert [address for address, _ in table.listing("newsletter")] == mixed


def test_export_pages_list_the_same_addresses(table: Table, mixed: list[str]) -> None:
    states = table.admin.iter_on_stream("newsletter", STREAMS, page_size=3)
    assert [state.address for state in states] == mixed


def test_a_reason_pages_through_the_scoped_part(table: Table, mixed: list[str]) -> None:
    pages = table.paged("newsletter", 2, Reason.UNSUBSCRIBED)
    assert [address for page in pages for address in page] == [
        f"u{i}@example.org" for i in reversed(range(7))
    ]


# ---- the cursor: resumes only the listing it came from -------------------------------------------


def _cursor_value(table: Table, cursor: str) -> dict[str, Any]:
    """The position a cursor holds, opened with the store's own key: what a forger could write
    if they held the key, so the position's own checks are what these tests hold."""
    return table.stack.store.cursors().open(cursor)


def _cursor(table: Table, value: dict[str, Any]) -> str:
    return table.stack.store.cursors().seal(value)


def _scoped_part_cursor(table: Table) -> str:
    """A cursor that resumes the newsletter's listing inside its scoped part."""
    page = table.admin.list_on_stream("newsletter", STREAMS, limit=6)
    assert page.next_cursor is not None and "r" not in _cursor_value(table, page.next_cursor)
    return page.next_cursor


def test_a_cursor_of_another_stream_reason_or_listing_is_refused(table: Table, mixed: list[str]) -> None:
    every_stream_part = table.admin.list_on_stream("newsletter", STREAMS, limit=1).next_cursor
    scoped_part = _scoped_part_cursor(table)
    plain = table.admin.list_suppressed(None, limit=1).next_cursor
    assert every_stream_part is not None and plain is not None
    refused: list[Callable[[], object]] = [
        lambda: table.admin.list_on_stream("promo", STREAMS, cursor=every_stream_part),
        lambda: table.admin.list_on_stream("promo", STREAMS, cursor=scoped_part),
        lambda: table.admin.list_on_stream("newsletter", STREAMS, Reason.UNSUBSCRIBED, cursor=scoped_part),
        lambda: table.admin.list_on_stream("newsletter", STREAMS, cursor=plain),
        lambda: table.admin.list_suppressed(None, cursor=every_stream_part),
        lambda: table.admin.list_suppressed(None, cursor=scoped_part),
    ]
    for listing in refused:
        with pytest.raises(InvalidCursor):
            listing()


@pytest.mark.parametrize(
    "forge",
    [
        lambda v: {**v, "k": {**v["k"], "gsi2pk": "SUPPRESSED#complaint"}},
        lambda v: {**v, "k": {**v["k"], "gsi2sk": v["k"]["gsi2sk"].replace("#u", "#x")}},
        lambda v: {**v, "k": {**v["k"], "sk": "EVT#2026"}},
        lambda v: {**v, "k": {**v["k"], "pk": "ERASED#abc"}},
        lambda v: {**v, "k": {name: part for name, part in v["k"].items() if name != "sk"}},
        lambda v: {**v, "k": {**v["k"], "extra": "x"}},
        lambda v: {**v, "k": "not a key"},
        lambda v: {**v, "r": "hard_bounce"},
        lambda v: {**v, "x": 1},
        lambda v: {name: part for name, part in v.items() if name != "f"},
    ],
    ids=[
        "other-partition",
        "address-mismatch",
        "history-key",
        "tombstone-key",
        "missing-part",
        "extra-part",
        "key-not-an-object",
        "scoped-key-as-reason",
        "extra-field",
        "no-reason-field",
    ],
)
def test_a_forged_scoped_part_cursor_is_refused(
    table: Table, mixed: list[str], forge: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    forged = _cursor(table, forge(_cursor_value(table, _scoped_part_cursor(table))))
    with pytest.raises(InvalidCursor) as raised:
        table.admin.list_on_stream("newsletter", STREAMS, cursor=forged)
    assert raised.value.field == "cursor"


# ---- the API: GET /suppressions?stream= ------------------------------------------------------------


@pytest.fixture
def call(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[int, Any]]:
    stack.local.parameters["TransactionalStreams"] = "transactional,receipts"
    for name, value in stack.local.function_environment("SuppressionsApiFunction").items():
        monkeypatch.setenv(name, value)  # restored after the test
    handler = load_handler(stack.local, "SuppressionsApiFunction")

    def invoke(path: str, query: dict[str, str] | None = None) -> tuple[int, Any]:
        response = handler(
            rest_event("GET", path, query), LocalContext(function_name="SuppressionsApiFunction")
        )
        return response["statusCode"], json.loads(response["body"])

    return invoke


def test_the_api_lists_a_stream_with_each_rows_reason_since_and_scope(
    table: Table, call: Callable[..., tuple[int, Any]]
) -> None:
    # Given
    table.load("h@example.org,bounce,,2026-01-02T03:04:05Z\n")
    table.unsubscribe("u@example.org", "newsletter")
    table.complain_about("b@example.org", "promo")
    # When
    status, page = call("/suppressions", {"stream": "newsletter"})
    # Then
    assert status == 200
    assert page["stream"] == "newsletter" and page["next_cursor"] is None
    hard, unsubscribed, complaint = page["items"]
    assert hard == {
        "address": "h@example.org",
        "reason": "hard_bounce",
        "since": "2026-01-02T03:04:05Z",
        "expires_at": None,
        "note": None,
        "actor": ACTOR,
        "scope": "*",
    }
    assert unsubscribed["address"] == "u@example.org" and unsubscribed["scope"] == "newsletter"
    assert unsubscribed["reason"] == "unsubscribed" and unsubscribed["since"].endswith("Z")
    assert (complaint["address"], complaint["reason"], complaint["scope"]) == (
        "b@example.org",
        "complaint",
        "*bulk",
    )
    # And a transactional stream holds neither the unsubscribe nor the bulk complaint
    _, receipts = call("/suppressions", {"stream": "receipts"})
    assert [item["address"] for item in receipts["items"]] == ["h@example.org"]


def test_the_api_pages_a_stream_with_its_cursor_and_refuses_bad_input(
    table: Table, mixed: list[str], call: Callable[..., tuple[int, Any]]
) -> None:
    seen, cursor = [], None
    while True:
        status, page = call(
            "/suppressions", {"stream": "newsletter", "limit": "4", **({"cursor": cursor} if cursor else {})}
        )
        assert status == 200
        seen += [item["address"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == mixed
    _, first = call("/suppressions", {"stream": "newsletter", "limit": "4"})
    status, refused = call("/suppressions", {"stream": "promo", "cursor": first["next_cursor"]})
    assert (status, refused["error"]["code"], refused["error"]["field"]) == (400, "invalid_request", "cursor")
    status, refused = call("/suppressions", {"stream": "News!"})
    assert (status, refused["error"]["field"]) == (400, "stream")
    status, refused = call("/suppressions", {"reason": "unsubscribed"})
    assert (status, refused["error"]["field"]) == (400, "reason")
    status, only = call("/suppressions", {"stream": "newsletter", "reason": "unsubscribed"})
    assert status == 200 and [item["address"] for item in only["items"]] == mixed[4:11]


# ---- the CLI: list --stream, export --stream, and the export imported back ------------------------


class Run:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()  # drop what ran before (logs, EMF metrics)
        code = main(["suppressions", *args])
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def run(stack: Stack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("TRANSACTIONAL_STREAMS", "transactional,receipts")
    monkeypatch.delenv("POWERTOOLS_LOG_LEVEL", raising=False)  # INFO logs would share stdout
    return Run(capsys)


def test_the_cli_lists_a_stream_page_by_page_and_all_at_once(
    table: Table, mixed: list[str], run: Run
) -> None:
    seen, cursor = [], None
    while True:
        code, out, err = run(
            "list",
            "--stream",
            "newsletter",
            "--limit",
            "5",
            "--json",
            *(["--cursor", cursor] if cursor else []),
        )
        assert code == 0, err
        page = json.loads(out)
        assert page["stream"] == "newsletter"
        seen += [item["address"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == mixed
    code, out, _ = run("list", "--stream", "newsletter", "--all", "--limit", "3", "--json")
    assert code == 0 and [json.loads(line)["address"] for line in out.splitlines()] == mixed
    code, out, _ = run("list", "--stream", "newsletter", "--reason", "unsubscribed")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == mixed[4:11]
    assert out.splitlines()[0].endswith("(stream newsletter)")


def test_the_cli_refuses_a_bad_stream_and_unsubscribes_without_one(run: Run) -> None:
    code, _, err = run("list", "--stream", "News!")
    assert code == 2 and "stream" in err
    code, _, err = run("export", "--reason", "unsubscribed")
    assert code == 2 and "unsubscribes are per stream" in err


def test_a_stream_export_imports_back_to_the_same_state(table: Table, run: Run, tmp_path: Path) -> None:
    # Given a table with every kind of row a newsletter's listing holds
    table.load("h@example.org,bounce,,2026-01-02T03:04:05Z\nm@example.org,manual,,2026-01-03T00:00:00Z\n")
    table.unsubscribe("u@example.org", "newsletter")
    table.unsubscribe("p@example.org", "promo")  # not the newsletter's: not exported
    table.complain_about("b@example.org", "promo")
    table.complain_about("t@example.org", "transactional")
    export = tmp_path / "newsletter.csv"
    # When it is exported with --stream
    code, _, err = run("export", "--stream", "newsletter", "--output", str(export))
    assert code == 0, err
    # Then each row says what it covers in the stream column
    rows = export.read_text().splitlines()
    assert rows[0] == "address,reason,since,expires_at,note,actor,stream"
    assert {row.split(",")[0]: (row.split(",")[1], row.split(",")[-1]) for row in rows[1:]} == {
        "t@example.org": ("complaint", ""),
        "h@example.org": ("hard_bounce", ""),
        "m@example.org": ("manual", ""),
        "u@example.org": ("unsubscribed", "newsletter"),
        "b@example.org": ("complaint", "*bulk"),
    }
    before = table.on_streams()
    # When the file is imported into an empty table
    table.clear()
    code, out, err = run("import", str(export), "--actor", ACTOR, "--no-progress", "--json")
    assert code == 0, err
    assert json.loads(out)["imported"] == 5 and json.loads(out)["rejected"] == 0
    # Then the newsletter's listing, and what it says on the other streams, are as before
    # (the promo unsubscribe was not in the newsletter's export)
    after = table.on_streams()
    assert after["newsletter"] == before["newsletter"]
    assert after["transactional"] == before["transactional"]
    assert after["promo"] == [entry for entry in before["promo"] if entry[0] != "p@example.org"]
    # And importing it again changes nothing
    code, out, _ = run("import", str(export), "--actor", ACTOR, "--no-progress", "--json")
    assert code == 0 and json.loads(out)["unchanged"] == 5
