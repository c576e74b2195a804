"""The lines a person reads from the CLI: counts with their nouns."""

from __future__ import annotations

import pytest
from ses_feedback_cli.output import counted


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 addresses"), (1, "1 address"), (2, "2 addresses"), (20_000, "20,000 addresses")],
)
def test_a_count_takes_its_noun_in_the_singular_only_for_one(count: int, expected: str) -> None:
    assert counted(count, "address", "addresses") == expected
