"""`ses-feedback suppressions …` in-process, on the template's table in moto (each command once or more)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from ses_feedback_cli.main import main

from tests.integration.conftest import Stack

ACTOR = "arn:aws:iam::123456789012:user/ops"


class Run:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = main(["suppressions", *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args)
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def run(stack: Stack, capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(capsys)


@pytest.fixture
def hundred(run: Run, tmp_path: Path) -> list[str]:
    """105 hard bounces, a second apart, imported from a file with a header row."""
    path = tmp_path / "bounces.csv"
    addresses = [f"user{i:03}@example.com" for i in range(105)]
    path.write_text(
        "Email,Reason,Created_At\n"
        + "".join(f"{a},bounce,2025-06-01T00:{i // 60:02}:{i % 60:02}Z\n" for i, a in enumerate(addresses))
    )
    assert run("import", str(path), "--actor", ACTOR)[0] == 0
    return addresses


def test_list_json_pages_with_the_next_cursor_until_none(run: Run, hundred: list[str]) -> None:
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        args = ["list", "--reason", "hard_bounce", "--limit", "40", "--json"]
        page = run.json(*args, *(["--cursor", cursor] if cursor else []))
        seen += [item["address"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(hundred))  # newest first
    assert page["items"][-1] == {
        "address": "user000@example.com",
        "reason": "hard_bounce",
        "since": "2025-06-01T00:00:00Z",
        "expires_at": None,
        "note": None,
        "actor": ACTOR,
    }


def test_list_all_streams_every_page_as_json_lines(run: Run, hundred: list[str]) -> None:
    code, out, _ = run("list", "--all", "--limit", "10", "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and sorted(line["address"] for line in lines) == hundred


def test_list_text_says_how_to_get_the_next_page(run: Run, hundred: list[str]) -> None:
    code, out, _ = run("list", "--limit", "2")
    assert code == 0
    assert out.splitlines()[0].startswith("user104@example.com")
    assert out.splitlines()[-1].startswith("more: --cursor ")


def test_a_bad_cursor_is_exit_2_naming_the_cursor(run: Run) -> None:
    code, out, err = run("list", "--cursor", "garbage")
    assert (code, out) == (2, "")
    assert "cursor" in err


def test_add_then_remove_then_get_and_history_show_who_and_why(run: Run) -> None:
    # When
    added = run.json(
        "add", "Someone <Someone@Example.com>", "--note", "asked by email", "--actor", ACTOR, "--json"
    )
    removed = run.json("remove", "someone@example.com", "--note", "asked again", "--actor", "ops2", "--json")
    # Then
    assert (added["reason"], added["changed"], added["actor"]) == ("manual", True, ACTOR)
    assert (removed["reason"], removed["changed"], removed["ses_removed"]) == (None, True, None)
    state = run.json("get", "someone@example.com", "--json")
    assert state["suppressed"] is False and state["lifted_at"] is not None
    assert [(h["action"], h["note"], h["actor"]) for h in state["history"]] == [
        ("lift", "asked again", "ops2"),
        ("suppress", "asked by email", ACTOR),
    ]
    history = run.json("history", "someone@example.com", "--limit", "1", "--json")
    assert [h["action"] for h in history["items"]] == ["lift"]
    older = run.json(
        "history", "someone@example.com", "--limit", "1", "--cursor", history["next_cursor"], "--json"
    )
    assert [h["action"] for h in older["items"]] == ["suppress"] and older["next_cursor"] is None


def test_commands_print_their_answer_not_the_domains_info_log_lines(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: an operator's shell (no function environment); the domain logs "suppression
    # changed by hand" at INFO, the audit line in CloudWatch
    from ses_feedback.observability import logger

    monkeypatch.delenv("POWERTOOLS_LOG_LEVEL", raising=False)
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME", raising=False)
    level_before = logger.log_level
    run("add", "quiet@example.com", "--note", "n", "--actor", ACTOR)
    # When
    code, out, err = run("remove", "quiet@example.com", "--note", "n", "--actor", ACTOR)
    # Then: the answer, and no log line on either stream; the logger is as it was
    assert code == 0 and "lifted" in out
    assert '"level"' not in out + err
    assert logger.log_level == level_before


def test_add_records_the_callers_iam_identity_when_no_actor_is_given(run: Run) -> None:
    added = run.json("add", "who@example.com", "--note", "n", "--json")
    assert added["actor"].startswith("arn:aws:")  # moto's STS answers GetCallerIdentity


def test_add_needs_a_note(run: Run) -> None:
    code, _, err = run("add", "x@example.com", "--note", "  ")
    assert code == 2 and "note" in err


def test_removing_a_complaint_needs_force(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("c@example.com,complaint\n")
    run("import", str(path))
    code, _, err = run("remove", "c@example.com", "--note", "please")
    assert code == 1 and "force" in err
    assert run.json("get", "c@example.com", "--json")["reason"] == "complaint"
    code, out, _ = run("remove", "c@example.com", "--note", "confirmed", "--force")
    assert code == 0 and "lifted" in out


def test_removing_an_address_that_is_not_suppressed_is_exit_1(run: Run) -> None:
    code, _, err = run("remove", "clean@example.com", "--note", "n")
    assert code == 1 and "not suppressed" in err


def test_get_shows_the_per_stream_suppressions_too(run: Run, tmp_path: Path) -> None:
    # Given: one address unsubscribed from a stream, one whose complaint about bulk mail blocks bulk streams
    path = tmp_path / "streams.csv"
    path.write_text(
        "email,reason,stream,date\n"
        "un@example.org,unsubscribed,newsletter,2026-01-02T03:04:05Z\n"
        "fbl@example.org,complaint,*bulk,2026-01-03T00:00:00Z\n"
    )
    assert run("import", str(path))[0] == 0
    # When
    unsubscribed = run.json("get", "un@example.org", "--json")
    code, text, _ = run("get", "fbl@example.org")
    # Then: not suppressed on every stream, but the scoped entries are there to see
    assert (unsubscribed["suppressed"], unsubscribed["reason"]) == (False, None)
    assert unsubscribed["scoped"] == [
        {"scope": "newsletter", "reason": "unsubscribed", "since": "2026-01-02T03:04:05Z"}
    ]
    assert code == 0
    assert "fbl@example.org: not suppressed on every stream; soft bounces in window: 0" in text
    assert "  every bulk stream: complaint since 2026-01-03T00:00:00Z" in text


def test_import_summary_counts_one_row_in_the_singular(run: Run, tmp_path: Path) -> None:
    # Given: a file of one address
    path = tmp_path / "one.csv"
    path.write_text("solo@example.com\n")
    # When
    code, out, _ = run("import", str(path))
    # Then
    assert code == 0
    assert out.startswith("1 row: 1 imported, "), out


def test_import_reports_bad_rows_by_line_on_stderr_and_in_the_summary(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("a@example.com\nnot-an-address\nb@example.com,teapot\nc@example.com,spam\n")
    code, out, err = run("import", str(path), "--json")
    summary = json.loads(out)
    assert code == 1  # the good rows are imported; the exit status says some were not
    assert (summary["rows"], summary["imported"], summary["rejected"]) == (4, 2, 2)
    assert [(r["line"], r["field"]) for r in summary["rejected_rows"]] == [(2, "address"), (3, "reason")]
    assert "skipped line 2: address" in err and "skipped line 3: reason" in err
    assert "100%" in err  # the progress bar, on stderr


def test_import_of_a_missing_file_is_exit_2(run: Run, tmp_path: Path) -> None:
    code, _, err = run("import", str(tmp_path / "nope.csv"))
    assert code == 2 and "FILE" in err


@pytest.mark.parametrize(
    ("encoded", "line", "byte"),
    [
        # A spreadsheet's "CSV" in Latin-1: the note "café" on line 3
        ("email,note\na@example.com,ok\nb@example.com,café\n".encode("latin-1"), 3, "0xe9"),
        # Excel's "Unicode Text": UTF-16 with a byte-order mark
        ("email\na@example.com\n".encode("utf-16"), 1, "0xff"),
    ],
    ids=["latin-1", "utf-16"],
)
def test_import_of_a_file_that_is_not_utf8_is_refused_whole_and_imports_nothing(
    run: Run, tmp_path: Path, encoded: bytes, line: int, byte: str
) -> None:
    # Given
    path = tmp_path / "previous-provider.csv"
    path.write_bytes(encoded)
    # When
    code, out, err = run("import", str(path))
    # Then: where the file stops being UTF-8, and no row read as something else
    assert code == 2
    assert out == ""
    assert f"line {line}: byte {byte} is not UTF-8" in err and "nothing was imported" in err, err
    assert run.json("list", "--json")["items"] == []


def test_import_keeps_a_note_in_utf8_as_written(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("email,note\nb@example.com,café ☕\n", encoding="utf-8")
    assert run("import", str(path))[0] == 0
    assert run.json("get", "b@example.com", "--json")["note"] == "café ☕"


def test_import_with_a_forced_reason(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "sendgrid_bounces.csv"
    path.write_text('email,reason,status\nsg@example.com,"550 5.1.1 user unknown",5.1.1\n')
    run("import", str(path), "--reason", "hard_bounce")
    assert run.json("get", "sg@example.com", "--json")["reason"] == "hard_bounce"


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_streams_every_suppressed_address_and_csv_imports_back(
    run: Run, hundred: list[str], fmt: str, tmp_path: Path
) -> None:
    # Given: two more reasons
    run("add", "manual@example.com", "--note", "n", "--actor", ACTOR)
    # When
    code, out, _ = run("export", "--format", fmt, "--page-size", "7")
    # Then
    assert code == 0
    rows = (
        list(csv.DictReader(io.StringIO(out))) if fmt == "csv" else [json.loads(x) for x in out.splitlines()]
    )
    assert sorted(r["address"] for r in rows) == sorted([*hundred, "manual@example.com"])
    assert {r["reason"] for r in rows} == {"hard_bounce", "manual"}
    if fmt == "csv":
        # The export is an import file: re-importing it changes nothing.
        path = tmp_path / "export.csv"
        path.write_text(out)
        summary = json.loads(run("import", str(path), "--json", "--no-progress")[1])
        assert (summary["unchanged"], summary["imported"], summary["rejected"]) == (106, 0, 0)


def test_export_by_reason_to_a_file(run: Run, hundred: list[str], tmp_path: Path) -> None:
    run("add", "manual@example.com", "--note", "n", "--actor", ACTOR)
    target = tmp_path / "manual.jsonl"
    code, out, _ = run("export", "--format", "jsonl", "--reason", "manual", "--output", str(target))
    assert code == 0 and "exported 1 address to" in out
    assert [json.loads(x)["address"] for x in target.read_text().splitlines()] == ["manual@example.com"]


def test_commands_work_with_only_aws_region_set_as_the_readme_exports_it(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: boto3 reads AWS_DEFAULT_REGION only; docs/local-mode.md exports AWS_REGION
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    # When / Then
    added = run.json("add", "region@example.com", "--note", "n", "--json")
    assert added["reason"] == "manual"
    assert run.json("get", "region@example.com", "--json")["suppressed"] is True


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            'email\na@example.com\n"b@example.com\nc@example.com\nd@example.com\n',
            "line 3: a quote opened here",
        ),
        (
            "email,note\na@example.com,ok\nb@example.com," + "x" * 200_000 + "\nc@example.com,ok\n",
            "line 3: a field",
        ),
        (
            "email,email_address\na@example.com,b@example.com\n",
            "line 1: the header names the address column twice",
        ),
        (
            "mail,why\na@example.com,bounce\n",
            "line 1: a header row (no cell holds an '@') with no address column",
        ),
    ],
    ids=["unterminated-quote", "field-over-the-limit", "two-address-columns", "no-address-column"],
)
def test_a_file_the_reader_cannot_read_whole_is_refused_before_anything_is_written(
    run: Run, tmp_path: Path, text: str, said: str
) -> None:
    # Given
    path = tmp_path / "export.csv"
    path.write_text(text)
    # When
    code, out, err = run("import", str(path))
    # Then: the line where the trouble starts, and no row of the file in the table
    assert code == 2 and out == ""
    assert said in err and "nothing was imported" in err, err
    assert run.json("list", "--json")["items"] == []


def test_import_help_points_at_the_operating_page(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["suppressions", "import", "--help"])
    assert "docs/operating.md" in capsys.readouterr().out
