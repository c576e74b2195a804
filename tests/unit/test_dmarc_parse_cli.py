"""`ses-feedback dmarc parse`: one JSON line per report, and `error: FILE: reason` for the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ses_feedback_cli.main import main

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "dmarc"


def test_parse_json_prints_one_line_per_report_and_fails_for_a_bad_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given two good reports around one that is not well-formed
    files = [
        SAMPLES / "aggregate/rfc9990-example.net!example.com!1700000000!1700086399.xml",
        SAMPLES / "aggregate/invalid_xml.xml",
        SAMPLES / "extract_report/nice-input.xml.zip",
    ]

    # When
    status = main(["dmarc", "parse", "--json", *map(str, files)])

    # Then the good ones are printed (after the bad one was met), the bad one is named in the
    # stream as an error line (under --json an error is JSON on stdout), exit 1
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    (problem,) = [line["error"] for line in lines if "error" in line]
    lines = [line for line in lines if "error" not in line]
    assert [(line["org_name"], line["report_id"]) for line in lines] == [
        ("example.net", "dmarcbis-test-report-001"),
        ("google.com", "11038226378739404135"),
    ]
    assert set(lines[0]) == {
        "org_name",
        "report_id",
        "domain",
        "begin",
        "end",
        "policy",
        "messages",
        "dmarc_pass",
        "records",
    }
    assert err == ""
    assert (
        problem["message"]
        == f"{files[1]}: not well-formed XML: not well-formed (invalid token): line 5, column 17"
    )
    assert status == 1


def test_parse_of_good_files_exits_0_with_a_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["dmarc", "parse", str(SAMPLES / "aggregate/twilight.eml")])

    out, _ = capsys.readouterr()
    assert status == 0
    assert out.splitlines() == [
        f"{SAMPLES / 'aggregate/twilight.eml'}: google.com report 1627703331531660819 for twlnet.com, "
        "2019-02-10 00:00 to 2019-02-10 23:59 UTC: "
        "1 message(s), 1 passed DMARC (100.0%), 1 record(s), p=reject"
    ]


def test_a_missing_file_is_an_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status = main(["dmarc", "parse", str(tmp_path / "nope.xml")])

    assert status == 1
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'nope.xml'}: ")


def test_a_report_read_past_a_broken_wrapper_says_so_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    ikea = SAMPLES / "aggregate/ikea.com!example.de!1538690400!1538776800.xml"

    status = main(["dmarc", "parse", "--json", str(ikea)])

    out, err = capsys.readouterr()
    assert status == 0
    assert json.loads(out)["report_id"] == "aggr_report_2018_10_05_5bc7e9b4f3e8a"
    assert err == (
        f"note: {ikea}: ignored what follows the report, which is not well-formed XML: "
        "no element found: line 47, column 11\n"
    )
