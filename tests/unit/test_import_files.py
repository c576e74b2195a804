"""An import file is read whole or refused whole: pure, no AWS.

``file_problem`` finds what stops the CSV reader reading a file as a whole and names the
line where it starts; ``read_rows`` then gives every data line as one row (an entry or an
error with its line), so nothing is lost without its line number. The property tests
generate files of good rows, bad rows, blank lines and comments, with and without a header,
with and without one defect.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ses_feedback.parsing.csv_rows import FileProblem, ImportEntry, RowError, file_problem, read_rows

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A quote opened on line 3 and never closed: it would swallow lines 4 and 5.
        (
            'email,note\na@example.com,ok\nb@example.com,"open\nc@example.com,x\nd@example.com,y\n',
            "line 3: a quote opened here is never closed",
        ),
        # ... closed later: the rows between would be one note.
        (
            'a@example.com,manual,"one\nb@example.com\nc@example.com"\nd@example.com\n',
            "line 1: a quoted field runs on to line 3 (a quote left open?): a note over several lines",
        ),
        (
            "a@example.com\nb@example.com,manual," + "x" * 200_000 + "\nc@example.com\n",
            "line 2: a field of more than 131,072 characters",
        ),
        ("a@example.com\nb@example.com,man\0ual\n", "line 2: a NUL character"),
        (
            "mail,why\na@example.com,bounce\n",
            "line 1: a header row (no cell holds an '@') with no address column",
        ),
        (
            "# exported\n\nemail,email_address\na@example.com,b@example.com\n",
            "line 3: the header names the address column twice ('email' and 'email_address')",
        ),
        ("email,reason,type\na@example.com,bounce,x\n", "line 1: the header names the reason column twice"),
        ('a@example.com,"bounce"x\n', "line 1: a quoted field goes on after its closing quote"),
    ],
    ids=[
        "unterminated",
        "runs-on",
        "over-the-limit",
        "nul",
        "no-address-column",
        "two-address-columns",
        "two-reason-columns",
        "text-after-quote",
    ],
)
def test_a_file_the_reader_cannot_read_whole_is_named_by_the_line_where_it_starts(
    text: str, expected: str
) -> None:
    problem = file_problem(_lines(text))
    assert problem is not None and problem.startswith(expected), problem
    with pytest.raises(FileProblem):
        list(read_rows(_lines(text), NOW))


def test_the_words_for_a_reason_point_at_the_operating_page() -> None:
    (row,) = read_rows(["a@example.com,teapot\n"], NOW)
    assert isinstance(row, RowError) and "docs/operating.md" in row.message


def test_a_quoted_field_with_a_separator_on_one_line_is_one_row() -> None:
    assert file_problem(_lines('email,note\na@example.com,"late, again"\n')) is None


# ---- the property: every data line is one row, or the file is refused at its line -------------


@dataclass(frozen=True)
class Line:
    text: str
    kind: str  # good, bad, blank, comment, defect


_good = st.builds(
    lambda n, reason: Line(f"user{n}@example.com,{reason}", "good"),
    st.integers(0, 20),
    st.sampled_from(["", "bounce", "complaint", "manual", "soft_bounce"]),
)
_bad = st.sampled_from(
    [
        Line("a@b@example.com", "bad"),
        Line("x@example.com,teapot", "bad"),
        Line("y@example.com,,,tomorrow", "bad"),
    ]
)
_quiet = st.sampled_from([Line("", "blank"), Line("   ", "blank"), Line("# a comment", "comment")])
_quoted = st.builds(lambda n: Line(f'q{n}@example.com,manual,"late, ""again"""', "good"), st.integers(0, 5))
# A note over two lines (what an export writes for a note that holds a line break): one row.
_two_lines = st.builds(
    lambda n: Line(f'm{n}@example.com,manual,"first line\nsecond line"', "good"), st.integers(0, 5)
)
_defect = st.sampled_from(
    [
        Line('d@example.com,manual,"open', "defect"),
        Line("d@example.com,manual," + "n" * 140_000, "defect"),
        Line("d@example.com,\0", "defect"),
        Line('d@example.com,"manual"x', "defect"),
        Line('d@example.com,"manual\nhard_bounce",note', "defect"),  # a line break outside the note
    ]
)


@st.composite
def files(draw: st.DrawFn) -> tuple[list[Line], bool]:
    header = draw(st.booleans())
    body = draw(st.lists(st.one_of(_good, _bad, _quiet, _quoted, _two_lines), max_size=30))
    if draw(st.booleans()):
        body.insert(draw(st.integers(0, len(body))), draw(_defect))
    if not header and not any(line.kind in ("good", "bad", "defect") for line in body[:1]):
        # No header: the first line that is not blank must hold an '@', or it reads as a header.
        body.insert(0, Line("first@example.com", "good"))
    return ([Line("email,reason,note,date", "header")] if header else []) + body, header


@given(files(), st.sampled_from(["\n", "\r\n"]))
def test_every_data_line_is_one_row_with_its_number_or_the_file_is_refused_at_its_line(
    generated: tuple[list[Line], bool], ending: str
) -> None:
    lines, _ = generated
    text = "".join(line.text.replace("\n", ending) + ending for line in lines)
    # Each generated line's number in the file (a note over two lines takes two).
    numbers = list(itertools.accumulate((1 + line.text.count("\n") for line in lines), initial=1))[:-1]
    problem = file_problem(_lines(text))
    defects = [number for number, line in zip(numbers, lines, strict=True) if line.kind == "defect"]
    if defects:
        assert problem is not None and problem.startswith(f"line {defects[0]}: "), problem
        return
    assert problem is None
    rows = list(read_rows(_lines(text), NOW))
    data = [number for number, line in zip(numbers, lines, strict=True) if line.kind in ("good", "bad")]
    assert [row.line for row in rows] == data
    bad = [number for number, line in zip(numbers, lines, strict=True) if line.kind == "bad"]
    assert [row.line for row in rows if isinstance(row, RowError)] == bad
    assert all(isinstance(row, ImportEntry) for row in rows if row.line not in bad)


def test_a_note_over_two_lines_is_one_row_and_the_next_row_keeps_its_line() -> None:
    rows = list(read_rows(_lines('email,note\na@example.com,"two\nlines"\nbad\n'), NOW))
    assert isinstance(rows[0], ImportEntry) and rows[0].note == "two\nlines"
    assert isinstance(rows[1], RowError) and rows[1].line == 4
