"""Operating the suppression list end to end: the installed CLI against a moto server process.

The 100,000-row import is the issue's acceptance test. Listing all 99,950 entries page by
page costs minutes on moto (its GSI query sorts the whole table on every page), so that test
reads the first three pages; a smaller list is paged through to its last page below.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import Cli

ROWS = 100_000
# Every 2,000th row is broken, in one of three ways: 50 bad rows in all.
BROKEN = {
    index: kind
    for n, index in enumerate(range(1_000, ROWS, 2_000))
    for kind in [("address", "reason", "date")[n % 3]]
}


def row(index: int) -> str:
    address, reason, date = (
        f"user{index:06}@example.com",
        "bounce",
        f"2025-01-01T{index // 3600 % 24:02}:{index // 60 % 60:02}:{index % 60:02}Z",
    )
    broken = BROKEN.get(index)
    if broken == "address":
        address = f"user{index:06}-at-example.com"
    elif broken == "reason":
        reason = "teapot"
    elif broken == "date":
        date = "last tuesday"
    return f"{address},{reason},{date}\n"


@pytest.fixture
def table(cli: Cli) -> str:
    name: str = cli.json("local", "bootstrap")["SuppressionTable"]
    return name


def item_count(table: str) -> int:
    """Items in the table: moto's DescribeTable counts them live (real DynamoDB updates it
    about every six hours, so this check only makes sense here)."""
    return int(boto3.client("dynamodb").describe_table(TableName=table)["Table"]["ItemCount"])


def hard_bounce_page(cli: Cli, cursor: str | None) -> Any:
    """One page of `suppressions list --reason hard_bounce --limit 1000 --json`."""
    paging = ["--cursor", cursor] if cursor else []
    return cli.json("suppressions", "list", "--reason", "hard_bounce", "--limit", "1000", "--json", *paging)


@pytest.mark.long
def test_import_100k_rows_twice_page_the_list_and_lift_one(cli: Cli, table: str, tmp_path: Path) -> None:
    # Given: 100,000 rows from another provider (a header row, then line 2 = row 0), 50 broken
    path = tmp_path / "previous-provider.csv"
    with path.open("w") as handle:
        handle.write("Email,Reason,Created_At\n")
        handle.writelines(row(i) for i in range(ROWS))
    broken_lines = {index + 2 for index in BROKEN}
    assert len(broken_lines) == 50

    # When: the first import
    first = cli.run("suppressions", "import", str(path), "--json", check=False)
    # Then: 99,950 loaded, the 50 reported by line number (summary and stderr, exit status 1),
    # a progress bar shown
    assert first.returncode == 1
    summary = json.loads(first.stdout)
    assert (summary["rows"], summary["imported"], summary["rejected"]) == (ROWS, ROWS - 50, 50)
    assert {r["line"] for r in summary["rejected_rows"]} == broken_lines
    assert {r["field"] for r in summary["rejected_rows"]} == {"address", "reason", "date"}
    assert all(f"skipped line {line}:" in first.stderr for line in broken_lines)
    assert "100%" in first.stderr and "rows/s" in first.stderr
    assert item_count(table) == ROWS - 50  # one item per new address: its state
    sample = [
        cli.json("suppressions", "get", f"user{i:06}@example.com", "--json") for i in (0, 54_321, 99_999)
    ]

    # When: the same file again
    second = json.loads(cli.run("suppressions", "import", str(path), "--json", check=False).stdout)
    # Then: nothing changes
    assert (second["imported"], second["updated"], second["unchanged"], second["rejected"]) == (
        0,
        0,
        ROWS - 50,
        50,
    )
    assert item_count(table) == ROWS - 50
    assert [
        cli.json("suppressions", "get", f"user{i:06}@example.com", "--json") for i in (0, 54_321, 99_999)
    ] == sample

    # When: paging the list by reason
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        page = hard_bounce_page(cli, cursor)
        assert len(page["items"]) == 1000 and page["next_cursor"]
        since = [item["since"] for item in page["items"]]
        assert since == sorted(since, reverse=True)  # newest first, across pages too
        assert not seen or seen[-1] >= since[0]
        seen += [item["address"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert len(set(seen)) == 3000

    # When: lifting one
    address = seen[0]
    cli.run("suppressions", "remove", address, "--note", "moved to a new mailbox")
    # Then: get shows the lift in its history
    state = cli.json("suppressions", "get", address, "--json")
    assert state["suppressed"] is False
    (lift,) = state["history"]
    assert (lift["action"], lift["reason"], lift["note"]) == ("lift", "hard_bounce", "moved to a new mailbox")
    assert lift["actor"].startswith("arn:aws:")
    assert item_count(table) == ROWS - 50 + 1  # the lift's history entry


def test_list_pages_through_to_the_last_page_and_export_matches(cli: Cli, table: str, tmp_path: Path) -> None:
    # Given: 2,500 hard bounces and 30 complaints, in a plain file and a headed one
    plain = tmp_path / "plain.csv"
    plain.write_text("".join(f"plain{i}@example.com\n" for i in range(30)))
    headed = tmp_path / "headed.csv"
    headed.write_text("address,type\n" + "".join(f"hb{i}@example.com,hard_bounce\n" for i in range(2_500)))
    cli.run("suppressions", "import", str(plain))
    cli.run("suppressions", "import", str(headed))
    # When
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = hard_bounce_page(cli, cursor)
        pages.append([item["address"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    exported = cli.run("suppressions", "export", "--format", "jsonl").stdout.splitlines()
    # Then
    assert [len(p) for p in pages] == [1000, 1000, 500]
    assert {a for p in pages for a in p} == {f"hb{i}@example.com" for i in range(2_500)}
    reasons = [json.loads(line)["reason"] for line in exported]
    assert (reasons.count("hard_bounce"), reasons.count("manual")) == (2_500, 30)
