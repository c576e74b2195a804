"""The lines a person reads from the CLI: counts with their nouns, control characters escaped."""

from __future__ import annotations

import pytest
from ses_feedback_cli.output import counted, shown


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 addresses"), (1, "1 address"), (2, "2 addresses"), (20_000, "20,000 addresses")],
)
def test_a_count_takes_its_noun_in_the_singular_only_for_one(count: int, expected: str) -> None:
    assert counted(count, "address", "addresses") == expected


def test_shown_escapes_every_control_character_and_keeps_other_text() -> None:
    assert shown("a\nb\r\tc\x1b[2J\x00\x7f\x85\u2028d") == "a\\nb\\r\\tc\\x1b[2J\\x00\\x7f\\x85\\u2028d"
    assert shown("Café ☕ 請求書") == "Café ☕ 請求書"
