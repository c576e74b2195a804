"""Reading other providers' suppression exports: layouts, reason words, dates, bad rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ses_feedback.model.reasons import Reason
from ses_feedback.parsing.csv_rows import (
    REASON_WORDS,
    ImportEntry,
    RowError,
    parse_reason,
    read_rows,
    utf8_problem,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def rows(text: str, reason: Reason | None = None) -> list[ImportEntry | RowError]:
    return list(read_rows(text.splitlines(keepends=True), NOW, reason))


def test_a_plain_one_address_per_line_file_gives_manual_entries() -> None:
    result = rows("a@example.com\nB <B@Example.com>\n\n# a comment\nc@example.com\n")
    assert result == [
        ImportEntry(line=1, address="a@example.com", reason=Reason.MANUAL),
        ImportEntry(line=2, address="b@example.com", reason=Reason.MANUAL),
        ImportEntry(line=5, address="c@example.com", reason=Reason.MANUAL),
    ]


def test_a_headerless_file_reads_address_reason_note_date_in_that_order() -> None:
    (row,) = rows("x@example.com,complaint,called support,2025-01-02\n")
    assert row == ImportEntry(
        line=1,
        address="x@example.com",
        reason=Reason.COMPLAINT,
        note="called support",
        since=datetime(2025, 1, 2, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "header",
    [
        "Email,Reason,Created_At,Note",  # SendGrid-like
        "address,reason,created_at,note",  # Mailgun-like
        "EMAIL ADDRESS,TYPE,DATE,COMMENT",  # spreadsheet style
        "email-address,suppression_type,timestamp,description",
    ],
)
def test_a_header_row_is_detected_case_insensitively_in_any_column_order(header: str) -> None:
    # Given: the same data under four spellings of the header, with columns reordered
    names = header.split(",")
    values = {0: "y@example.com", 1: "hard_bounce", 2: "1735689600", 3: "imported from X"}
    reordered = [3, 0, 2, 1]
    text = ",".join(names[i] for i in reordered) + "\n" + ",".join(values[i] for i in reordered) + "\n"
    # When
    (row,) = rows(text)
    # Then
    assert row == ImportEntry(
        line=2,
        address="y@example.com",
        reason=Reason.HARD_BOUNCE,
        note="imported from X",
        since=datetime(2025, 1, 1, tzinfo=UTC),
    )


def test_a_header_with_extra_columns_ignores_them() -> None:
    (row,) = rows("First Name,Email Address,Last Name\nJane,jane@example.com,Doe\n")
    assert row == ImportEntry(line=2, address="jane@example.com", reason=Reason.MANUAL)


@pytest.mark.parametrize(
    ("word", "reason"),
    [
        ("bounce", Reason.HARD_BOUNCE),
        ("Hard Bounce", Reason.HARD_BOUNCE),
        ("hard_bounce", Reason.HARD_BOUNCE),
        ("BOUNCE", Reason.HARD_BOUNCE),  # SES's own export
        ("Permanent", Reason.HARD_BOUNCE),
        ("soft-bounce", Reason.SOFT_BOUNCE),
        ("complaint", Reason.COMPLAINT),
        ("spam", Reason.COMPLAINT),
        ("Spam Report", Reason.COMPLAINT),
        ("COMPLAINT", Reason.COMPLAINT),
        ("unsubscribed", Reason.MANUAL),
        ("Global Unsubscribe", Reason.MANUAL),
        ("opt-out", Reason.MANUAL),
        ("", Reason.MANUAL),
    ],
)
def test_foreign_reason_words_map_to_our_reasons(word: str, reason: Reason) -> None:
    assert parse_reason(word) is reason


def test_every_mapped_word_is_already_in_its_normal_form() -> None:
    assert all(word == word.lower().replace("-", "_").replace(" ", "_") for word in REASON_WORDS)


def test_bad_rows_are_reported_by_line_and_field_and_reading_goes_on() -> None:
    text = (
        "email,reason,date\n"
        "good1@example.com,bounce,2025-01-01\n"
        "not-an-address,bounce,\n"
        "good2@example.com,teapot,\n"
        "good3@example.com,bounce,yesterday\n"
        "good4@example.com,bounce,2999-01-01\n"
        "good5@example.com,spam,2025-01-01T10:00:00Z\n"
    )
    result = rows(text)
    errors = [(r.line, r.field) for r in result if isinstance(r, RowError)]
    good = [r.address for r in result if isinstance(r, ImportEntry)]
    assert errors == [(3, "address"), (4, "reason"), (5, "date"), (6, "date")]
    assert good == ["good1@example.com", "good5@example.com"]
    assert str(next(r for r in result if isinstance(r, RowError))).startswith("line 3: address:")


@pytest.mark.parametrize("epoch", ["99999999999999999999", "9" * 30, "9" * 400])
def test_an_epoch_too_large_for_a_date_is_a_bad_row_and_reading_goes_on(epoch: str) -> None:
    # Given: digits that are no time Python can hold (OSError / OverflowError, not ValueError)
    text = f"email,reason,date\na@example.com,bounce,{epoch}\nb@example.com,bounce,1700000000\n"
    # When
    result = rows(text)
    # Then the row is refused by line and field, and the rows after it are still read
    assert [(r.line, r.field) for r in result if isinstance(r, RowError)] == [(2, "date")]
    assert [r.address for r in result if isinstance(r, ImportEntry)] == ["b@example.com"]


def test_a_forced_reason_overrides_the_reason_column() -> None:
    (row,) = rows("email,reason\nz@example.com,550 5.1.1 user unknown\n", Reason.HARD_BOUNCE)
    assert isinstance(row, ImportEntry) and row.reason is Reason.HARD_BOUNCE


def test_a_quoted_field_spanning_lines_keeps_the_line_numbers_of_the_file() -> None:
    result = rows('email,note\na@example.com,"two\nlines"\nbad,\n')
    assert isinstance(result[0], ImportEntry) and result[0].note == "two\nlines"
    assert isinstance(result[1], RowError) and result[1].line == 4


@pytest.mark.parametrize(
    ("chunks", "problem"),
    [
        # a character split between two reads is whole UTF-8
        ([b"email,note\na@example.com,caf\xc3", b"\xa9\n"], None),
        ([b"\xef\xbb\xbfemail\na@example.com\n"], None),  # a byte-order mark is UTF-8 too
        ([b"email\n", b"a@example.com\nb@example.com,caf\xe9\n"], "line 3: byte 0xe9 is not UTF-8"),
        ([b"email\na@example.com,caf\xc3"], "line 2: the file ends inside a UTF-8 character"),
        ([b"\x89PNG\r\n"], "line 1: byte 0x89 is not UTF-8"),
        ([b"email\na\x00b@example.com\n"], "line 2: a NUL byte (a binary file?)"),
    ],
)
def test_utf8_problem_names_the_line_where_a_file_stops_being_utf8(
    chunks: list[bytes], problem: str | None
) -> None:
    assert utf8_problem(chunks) == problem


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_spreadsheet_export_separated_by_semicolons_or_tabs_reads_as_a_comma_file_does(
    separator: str,
) -> None:
    # Given: what a spreadsheet saves as "CSV" in many locales (;) or as text (tab)
    text = f"Email{separator}Reason{separator}Note\nx@example.com{separator}spam{separator}called, twice\n"
    # Then: the same entry as from the comma-separated file
    assert rows(text) == rows('Email,Reason,Note\nx@example.com,spam,"called, twice"\n')
    assert rows(text) == [
        ImportEntry(line=2, address="x@example.com", reason=Reason.COMPLAINT, note="called, twice")
    ]


def test_a_comma_file_with_semicolons_inside_its_values_stays_comma_separated() -> None:
    assert rows('email,note\nx@example.com,"asked; twice"\n') == [
        ImportEntry(line=2, address="x@example.com", reason=Reason.MANUAL, note="asked; twice")
    ]
