"""An import's summary accounts for every data line of the file: a property, on moto."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ses_feedback.parsing.csv_rows import read_rows

from tests.integration.conftest import Stack
from tests.support import usecases as uc

NOW = datetime.now(UTC)

_row = st.one_of(
    st.builds(
        lambda n, reason: f"user{n}@example.com,{reason}",
        st.integers(0, 150),
        st.sampled_from(["bounce", "complaint", "manual", "soft_bounce", "unsubscribe"]),
    ),
    st.sampled_from(["a@b@example.com", "x@example.com,teapot", "", "# comment"]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_row, max_size=260))
def test_the_summary_counts_add_up_to_the_data_lines_and_name_every_rejected_line(
    stack: Stack, lines: list[str]
) -> None:
    # Given: a file of rows good and bad (repeats across more than one batch of 100), blanks, comments
    text = "".join(line + "\n" for line in ["email,reason", *lines])
    data = [n for n, line in enumerate(lines, start=2) if line and not line.startswith("#")]
    bad = [n for n, line in enumerate(lines, start=2) if line in ("a@b@example.com", "x@example.com,teapot")]
    # When (the table keeps what earlier examples wrote: a second run is counted as unchanged)
    summary = uc.bulk(stack.store).import_entries(read_rows(text.splitlines(keepends=True), NOW), "test")
    # Then
    counted = (
        summary.imported
        + summary.updated
        + summary.unchanged
        + summary.lifted
        + summary.expired
        + summary.duplicates
        + summary.rejected
    )
    assert summary.rows == len(data) == counted
    assert [row.line for row in summary.rejected_rows] == bad
