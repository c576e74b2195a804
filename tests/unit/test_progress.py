"""The import's progress bar where stderr is not a terminal (a CI log, a pipe): a line per
interval, and no line said twice."""

from __future__ import annotations

import io

from ses_feedback_cli.progress import ProgressBar


def test_a_small_import_ends_with_one_100_percent_line_not_two() -> None:
    # Given: a log, and a file read in one go
    log = io.StringIO()
    bar = ProgressBar(total_bytes=40, stream=log)
    bar.advance_bytes(40)
    # When: the import reports its rows, then finishes
    bar.update(4)
    bar.finish()
    # Then
    lines = log.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("[##############################] 100%  4 rows")


def test_finish_still_says_where_the_import_ended() -> None:
    log = io.StringIO()
    bar = ProgressBar(total_bytes=40, stream=log)
    bar.update(0)  # shown at the start, before any row
    bar.advance_bytes(40)
    bar.finish()
    lines = log.getvalue().splitlines()
    assert len(lines) == 2
    assert " 100%  0 rows" in lines[1]
